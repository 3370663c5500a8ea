"""VideoMAE pretraining: tube masks, masked-only loss, one compilation."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from tests.conftest import REPO, tiny_config
from vidjax.data.pipeline import DatasetInfo
from vidjax.models import videomae_pretraining
from vidjax.tasks import masked_video
from vidjax.train import checkpoint

GRID = (4, 4, 4)  # t, h, w tubelets
# One program per mask shape: eagerly, each op compiles its own.
tube_mask = jax.jit(masked_video.tube_mask,
                    static_argnames=("batch", "grid", "mask_ratio"))


@pytest.mark.parametrize("ratio", [0.9, 0.75, 0.5])
def test_tube_mask_ratio_and_structure(ratio):
  b = 6
  visible, masked = tube_mask(jax.random.key(0), b, GRID, ratio)
  t, hw = GRID[0], GRID[1] * GRID[2]
  keep = int(round(hw * (1 - ratio)))
  assert visible.shape == (b, t * keep)
  assert masked.shape == (b, t * (hw - keep))
  visible, masked = np.asarray(visible), np.asarray(masked)
  for i in range(b):
    # A partition of all tokens.
    np.testing.assert_array_equal(
        np.sort(np.concatenate([visible[i], masked[i]])), np.arange(t * hw))
    # Tubes: the same spatial positions are hidden in every time slice.
    spatial = masked[i].reshape(t, hw - keep) % hw
    times = masked[i].reshape(t, hw - keep) // hw
    assert (spatial == spatial[0]).all()
    np.testing.assert_array_equal(times[:, 0], np.arange(t))
  # Examples get different masks.
  assert len({tuple(m) for m in masked}) > 1


def test_loss_ignores_predictions_of_visible_tokens():
  b, n, p = 3, 64, 12
  pred = jax.random.normal(jax.random.key(1), (b, n, p))
  target = jax.random.normal(jax.random.key(2), (b, n, p))
  visible, masked = tube_mask(jax.random.key(3), b, GRID, 0.75)

  @jax.jit  # the three losses in one program
  def losses(pred, target, visible, masked):
    mask = masked_video.token_mask(masked, n)
    rows = jnp.arange(b)[:, None]
    changed_visible = pred.at[rows, visible].add(100.0)
    changed_masked = pred.at[rows, masked[:, :1]].add(1.0)
    return [masked_video.masked_patch_loss(x, target, mask)
            for x in (pred, changed_visible, changed_masked)]

  loss, of_changed_visible, of_changed_masked = losses(pred, target, visible,
                                                       masked)
  np.testing.assert_allclose(of_changed_visible, loss)
  assert (of_changed_masked != loss).all()
  # And it is the plain MSE over exactly the masked tokens.
  pred, target, masked = map(np.asarray, (pred, target, masked))
  want = [np.mean((pred[i][masked[i]] - target[i][masked[i]]) ** 2)
          for i in range(b)]
  np.testing.assert_allclose(loss, want, rtol=1e-5)


def test_normalized_patch_targets():
  patches = jax.random.uniform(jax.random.key(0), (2, 5, 4 * 3)) * 7 + 3
  norm = np.asarray(jax.jit(masked_video.normalize_patches)(patches)).reshape(
      2, 5, 4, 3)
  np.testing.assert_allclose(norm.mean(axis=2), 0, atol=1e-5)
  np.testing.assert_allclose(norm.std(axis=2, ddof=1), 1, atol=1e-3)


def test_patchify_matches_tubelet_order():
  video = jnp.arange(1 * 4 * 8 * 8 * 3, dtype=jnp.float32).reshape(
      1, 4, 8, 8, 3)
  patches = videomae_pretraining.patchify(video, (2, 4, 4))
  assert patches.shape == (1, 2 * 2 * 2, 2 * 4 * 4 * 3)
  # Token (t=1, h=0, w=1): frames 2-3, rows 0-3, columns 4-7.
  np.testing.assert_array_equal(
      patches[0, 1 * 4 + 0 * 2 + 1],
      video[0, 2:4, 0:4, 4:8].reshape(-1))


def _task(ratio=0.9):
  config = ml_collections.ConfigDict(dict(
      seed=0,
      task=dict(mask_ratio=ratio, norm_pix_loss=True),
      model=dict(name="videomae_pretraining", variant="tiny"),
      train=dict(ema_decay=0.0),
      optimizer=dict(name="adamw", learning_rate=1e-3, schedule="constant",
                     warmup_steps=0, end_learning_rate_factor=0.0,
                     weight_decay=0.0, momentum=0.0, nesterov=False,
                     grad_clip_norm=0.0, b1=0.9, b2=0.999, eps=1e-8)))
  info = DatasetInfo(num_classes=8, class_names=tuple("abcdefgh"),
                     num_train=8, num_eval=8, root="")
  return masked_video.Task(config, info, num_train_steps=10)


def test_encoder_sees_only_visible_tubelets():
  """Overwriting the masked tubelets' pixels changes no prediction."""
  task = _task()
  video = jax.random.uniform(jax.random.key(0), (2, 4, 16, 16, 3))
  state = jax.jit(task.init_state)(jax.random.key(1), {"video": video})
  grid = task.grid(video.shape)
  visible, masked = tube_mask(jax.random.key(2), 2, grid, 0.75)
  # Noise in every tubelet at masked spatial positions (same in all slices).
  hidden = np.zeros((2, 4, 4), bool)
  for i in range(2):
    s = np.asarray(masked)[i] % 16
    hidden[i].flat[s] = True
  pixel_mask = np.repeat(np.repeat(hidden, 4, 1), 4, 2)[:, None, :, :, None]
  video = np.asarray(video)
  noisy = np.where(pixel_mask, np.float32(5.0), video)
  visible_changed = np.where(pixel_mask, video, np.float32(5.0))

  @jax.jit  # the three clips' predictions in one program
  def predict(params, clips):
    return [task.model.apply({"params": params}, v, visible=visible,
                             masked=masked) for v in clips]

  pred, of_noisy, of_visible_changed = predict(
      state.params, (video, noisy, visible_changed))
  assert pred.shape == (2, 2 * 4 * 4, 2 * 4 * 4 * 3)
  np.testing.assert_allclose(of_noisy, pred, atol=1e-5)
  # Overwriting a visible tubelet does change them.
  assert not np.allclose(of_visible_changed, pred)


def test_train_step_compiles_once_and_learns():
  task = _task()
  video = jax.random.uniform(jax.random.key(0), (4, 4, 16, 16, 3))
  state = jax.jit(task.init_state)(jax.random.key(1), {"video": video})
  traces = []

  def step(state, batch, rng):
    traces.append(1)
    return task.train_step(state, batch, rng)

  step = jax.jit(step)
  losses = []
  for i in range(6):
    state, metrics = step(state, {"video": video}, jax.random.key(i))
    losses.append(float(metrics["loss"]))
  assert len(traces) == 1
  assert all(np.isfinite(losses))
  assert losses[-1] < losses[0]


def test_pretraining_run_reports_probe_and_its_encoder_loads(tmp_path,
                                                            cache_dir):
  from vidjax.train import trainer  # pylint: disable=g-import-not-at-top
  config = tiny_config(REPO / "configs" / "pretraining" /
                       "videomae_synthetic.py", cache=cache_dir)
  config.train.num_steps = 1
  results = trainer.Trainer(config, str(tmp_path)).run()
  rep = results["representation"]
  assert 0.0 <= rep["linear_top1"] <= 1.0 and 0.0 <= rep["knn_top1"] <= 1.0
  assert rep["num_train"] == 8 * 2  # tiny: 2 training clips per class
  assert rep["feature_dim"] == 64
  assert np.isfinite(results["eval"]["loss"])

  # A classification run with init_from = this workdir starts from exactly
  # the pretrained encoder; its classifier is new.
  finetune = tiny_config(REPO / "configs" / "classification" /
                         "videomae_synthetic.py", cache=cache_dir)
  finetune.init_from = str(tmp_path)
  fresh_run = trainer.Trainer(tiny_config(
      REPO / "configs" / "classification" / "videomae_synthetic.py",
      cache=cache_dir), str(tmp_path / "fresh"))
  fresh = jax.device_get(fresh_run.init_state().params)
  loaded = jax.device_get(
      trainer.Trainer(finetune, str(tmp_path / "finetune")).init_state().params)
  _, saved = checkpoint.load_state(tmp_path / "checkpoints")
  for a, b in zip(jax.tree.leaves(loaded["backbone"]),
                  jax.tree.leaves(saved["params"]["backbone"])):
    np.testing.assert_array_equal(a, b)
  for key in ("head", "fc_norm"):
    for a, b in zip(jax.tree.leaves(loaded[key]), jax.tree.leaves(fresh[key])):
      np.testing.assert_array_equal(a, b)
  assert not all(np.array_equal(a, b) for a, b in zip(
      jax.tree.leaves(loaded["backbone"]), jax.tree.leaves(fresh["backbone"])))
