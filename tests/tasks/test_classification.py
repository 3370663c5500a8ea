"""The classification task with a fake model whose outputs are known."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from vidjax.data.pipeline import DatasetInfo
from vidjax.tasks import classification

K = 4


class LookupModel(nn.Module):
  """'Predicts' the class written in the first pixel of the clip."""

  @nn.compact
  def __call__(self, video, *, train=False):
    scale = self.param("scale", nn.initializers.ones, ())
    cls = video[:, 0, 0, 0, 0].astype(jnp.int32)
    return scale * 10.0 * jax.nn.one_hot(cls, K)


class FakeTask(classification.Task):
  def build_model(self):
    return LookupModel()


def _task(label_smoothing=0.0):
  config = ml_collections.ConfigDict(dict(
      task=dict(label_smoothing=label_smoothing),
      train=dict(ema_decay=0.0),
      optimizer=dict(name="sgd", learning_rate=0.1, schedule="constant",
                     warmup_steps=0, end_learning_rate_factor=0.0,
                     weight_decay=0.0, momentum=0.0, nesterov=False,
                     grad_clip_norm=0.0, b1=0.9, b2=0.999, eps=1e-8),
      data=dict(mean=(0.0,) * 3, std=(1.0,) * 3)))
  info = DatasetInfo(num_classes=K, class_names=tuple("abcd"), num_train=1,
                     num_eval=1, root="")
  return FakeTask(config, info, num_train_steps=10)


def _video(classes, views=None):
  shape = (len(classes), 2, 4, 4, 3) if views is None else (
      len(classes), views, 2, 4, 4, 3)
  v = np.zeros(shape, np.float32)
  v[..., 0, 0, 0, 0] = np.asarray(classes).reshape(
      (-1,) if views is None else (len(classes), views))
  return jnp.asarray(v)


def _init(task):
  """The initial state, jitted (as are the steps below): eagerly, every op
  compiles its own program."""
  return jax.jit(task.init_state)(jax.random.key(0), {"video": _video([0])})


def test_eval_sums_worked_out_by_hand():
  task = _task()
  state = _init(task)
  preds = [0, 1, 2, 3, 3, 0]
  labels = jnp.asarray([0, 1, 2, 0, 3, 1])
  mask = jnp.asarray([1, 1, 1, 1, 1, 0], jnp.float32)  # last one is padding
  sums, examples = jax.jit(task.eval_step)(
      state, {"video": _video(preds), "label": labels, "mask": mask},
      jax.random.key(0))
  sums = jax.tree.map(np.asarray, sums)
  np.testing.assert_array_equal(examples["prediction"], preds)
  assert sums["count"] == 5 and sums["top1"] == 4
  assert sums["confusion"][0, 3] == 1 and sums["confusion"][1, 0] == 0
  result = task.finalize_eval(sums)
  assert result["top1"] == pytest.approx(0.8)
  assert result["top5"] == pytest.approx(1.0)  # K=4 < 5: always a hit


def test_views_are_averaged_per_video():
  task = _task()
  state = _init(task)
  # Video 0: views vote 2, 2, 1 -> class 2. Video 1: 3, 0, 0 -> class 0.
  video = _video([[2, 2, 1], [3, 0, 0]], views=3)
  sums, _ = jax.jit(task.eval_step)(state, {"video": video,
                                            "label": jnp.asarray([2, 3]),
                                            "mask": jnp.ones(2)},
                                     jax.random.key(0))
  assert float(sums["top1"]) == 1.0
  assert np.asarray(sums["confusion"])[3, 0] == 1  # true 3, predicted 0


def test_loss_is_smoothed_cross_entropy():
  task = _task(label_smoothing=0.2)
  state = _init(task)
  batch = {"video": _video([0, 1, 2]), "label": jnp.asarray([0, 2, 2])}
  loss, (metrics, _) = jax.jit(task.loss)(state.params, state.model_state,
                                          batch, jax.random.key(0))
  logits = 10.0 * jax.nn.one_hot(jnp.asarray([0, 1, 2]), K)
  targets = jax.nn.one_hot(jnp.asarray([0, 2, 2]), K) * 0.8 + 0.2 / K
  want = optax.softmax_cross_entropy(logits, targets).mean()
  np.testing.assert_allclose(loss, want, rtol=1e-6)
  np.testing.assert_allclose(metrics["top1"], 2 / 3, rtol=1e-6)


def test_soft_labels_from_mixup():
  """[B, K] labels (mixup/cutmix) are the cross-entropy targets; top-1
  compares with their largest class."""
  task = _task()
  state = _init(task)
  soft = jnp.asarray([[0.7, 0.3, 0, 0], [0, 0.4, 0.6, 0], [0, 0, 0.5, 0.5]])
  batch = {"video": _video([0, 1, 3]), "label": soft}
  loss, (metrics, _) = jax.jit(task.loss)(state.params, state.model_state,
                                          batch, jax.random.key(0))
  logits = 10.0 * jax.nn.one_hot(jnp.asarray([0, 1, 3]), K)
  want = optax.softmax_cross_entropy(logits, soft).mean()
  np.testing.assert_allclose(loss, want, rtol=1e-6)
  np.testing.assert_allclose(metrics["top1"], 1 / 3, rtol=1e-6)


def test_train_step_updates_and_reports_norms():
  task = _task()
  state = _init(task)
  batch = {"video": _video([0, 1]), "label": jnp.asarray([1, 1])}
  new_state, metrics = jax.jit(task.train_step)(state, batch,
                                                jax.random.key(1))
  assert int(new_state.step) == 1
  assert float(metrics["grad_norm"]) > 0
  np.testing.assert_allclose(metrics["update_norm"],
                             0.1 * metrics["grad_norm"], rtol=1e-5)
  assert float(new_state.params["scale"]) != 1.0


def test_prediction_strip_shows_frames_and_marks_mistakes():
  rng = np.random.default_rng(0)
  mean, std = (0.45,) * 3, (0.225,) * 3
  video = rng.normal(size=(3, 5, 8, 8, 3))  # normalized clips
  labels, preds = np.array([0, 1, 2]), np.array([0, 3, 2])
  image = classification._prediction_strip(  # pylint: disable=protected-access
      video, labels, preds, ["a", "b", "c", "d"], mean, std,
      frame_size=32)
  scale, band, gap = 4, 14, 4  # 8 px frames upscaled to 32, caption band
  row = band + 8 * scale + gap
  assert image.dtype == np.uint8 and image.shape[0] == 3 * row
  expected = np.round(np.clip(video * 0.225 + 0.45, 0, 1) * 255)
  for i in range(3):  # first, middle and last frame side by side
    for j, f in enumerate((0, 2, 4)):
      left = j * (8 * scale + gap)
      tile = image[i * row + band:i * row + band + 8 * scale,
                   left:left + 8 * scale]
      np.testing.assert_array_equal(tile[::scale, ::scale], expected[i, f])

  def caption_colours(i):
    caption = image[i * row:i * row + band].reshape(-1, 3).astype(int)
    red = ((caption[:, 0] > 150) & (caption[:, 1] < 80)).sum()
    green = ((caption[:, 1] > 90) & (caption[:, 0] < 60)).sum()
    return red, green

  assert caption_colours(0)[1] > 0 and caption_colours(0)[0] == 0
  assert caption_colours(1)[0] > 0 and caption_colours(1)[1] == 0
