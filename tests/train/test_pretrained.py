"""Transfer learning: config.init_from loading and the fine-tuning modes."""

import logging

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from tests.conftest import REPO, tiny_config
from vidjax import models
from vidjax.models import convert
from vidjax.train import checkpoint, optimizers, pretrained, trainer

REPO_CONFIGS = REPO / "configs" / "classification"


def _opt(**fields):
  base = dict(name="adamw", learning_rate=0.1, schedule="constant",
              warmup_steps=0, end_learning_rate_factor=0.0, b1=0.9, b2=0.999,
              eps=1e-8, weight_decay=0.0, momentum=0.9, nesterov=False,
              grad_clip_norm=0.0, finetune="full", finetune_last_k=1,
              layer_decay=0.5)
  base.update(fields)
  return ml_collections.ConfigDict(base)


def _vivit_params(depth=3, num_classes=4):
  model = models.build(ml_collections.ConfigDict(
      dict(name="vivit", variant="tiny", attention="joint", depth=depth)),
                       num_classes=num_classes)
  shapes = jax.eval_shape(model.init, jax.random.key(0),
                          jnp.zeros((1, 4, 16, 16, 3)))["params"]
  # Distinct non-zero values per leaf: enough to see what moves. NumPy: jnp
  # would compile a program per shape.
  return jax.tree.map(lambda s: np.full(s.shape, 0.5, s.dtype), shapes)


def _paths(tree):
  flat = jax.tree_util.tree_flatten_with_path(tree)[0]
  return {"/".join(str(getattr(k, "key", k)) for k in p): v for p, v in flat}


def test_layer_ids_order_stem_blocks_head():
  params = _vivit_params(depth=3)
  ids, n = optimizers.layer_ids(params)
  ids = _paths(ids)
  assert n == 3
  assert ids["embed/proj/kernel"] == 0 and ids["pos_embed/embedding"] == 0
  assert ids["cls"] == 0
  for i in range(3):
    assert ids[f"encoder/block{i}/attn/query/kernel"] == i + 1
  assert ids["encoder/norm/scale"] == 4 and ids["head/kernel"] == 4

  r3d = models.build(ml_collections.ConfigDict(
      dict(name="r3d", variant="tiny")), num_classes=3)
  p = jax.eval_shape(r3d.init, jax.random.key(0),
                     jnp.zeros((1, 4, 16, 16, 3)))["params"]
  ids, n = optimizers.layer_ids(p)
  ids = _paths(ids)
  assert n == 4  # four stages of one block each
  assert ids["stem_conv/kernel"] == 0
  assert ids["layer1_0/conv1/kernel"] == 1 and ids["layer4_0/bn2/scale"] == 4
  assert ids["head/kernel"] == 5


@pytest.mark.parametrize("mode,trained", [
    ("linear_probe", {"head"}),
    ("last_k", {"head", "encoder/norm", "encoder/block2"}),
])
def test_frozen_parameters_take_no_optimizer_state_and_do_not_move(
    mode, trained):
  params = _vivit_params(depth=3)
  opt = _opt(finetune=mode, finetune_last_k=1, grad_clip_norm=1.0,
             weight_decay=0.05)
  tx, _ = optimizers.make_optimizer(opt, num_steps=10)

  @jax.jit  # one program: eagerly, each op compiles its own
  def init_and_update(params):
    state = tx.init(params)
    grads = jax.tree.map(jnp.ones_like, params)
    updates, _ = tx.update(grads, state, params)
    return state, optax.apply_updates(params, updates)

  state, new = init_and_update(params)

  def is_trained(name):
    return any(name.startswith(t) for t in trained)
  n_trained = sum(v.size for k, v in _paths(params).items() if is_trained(k))
  n_all = sum(v.size for v in jax.tree.leaves(params))
  state_size = sum(np.size(x) for x in jax.tree.leaves(state)
                   if np.ndim(x) > 0)
  # Adam keeps two moments of each trained parameter, nothing else.
  assert state_size == 2 * n_trained < n_all

  for name, (old, upd) in {k: (v, _paths(new)[k])
                           for k, v in _paths(params).items()}.items():
    moved = bool(np.any(old != np.asarray(upd)))
    assert moved == is_trained(name), name


def test_layer_decay_scales_updates_per_block():
  params = _vivit_params(depth=2)
  opt = _opt(name="sgd", momentum=0.0, finetune="layer_decay",
             layer_decay=0.5, learning_rate=1.0)
  tx, _ = optimizers.make_optimizer(opt, num_steps=10)

  @jax.jit  # one program: eagerly, each op compiles its own
  def first_updates(params):
    grads = jax.tree.map(jnp.ones_like, params)
    return tx.update(grads, tx.init(params), params)[0]

  up = _paths(first_updates(params))
  # N = 2 blocks: stem x 0.5^3, block0 x 0.5^2, block1 x 0.5, head x 1.
  np.testing.assert_allclose(up["head/bias"], -1.0)
  np.testing.assert_allclose(up["encoder/block1/norm1/scale"], -0.5)
  np.testing.assert_allclose(up["encoder/block0/norm1/scale"], -0.25)
  np.testing.assert_allclose(up["embed/proj/bias"], -0.125)


def test_unknown_finetune_mode_names_the_field():
  with pytest.raises(ValueError, match="config.optimizer.finetune"):
    optimizers.make_optimizer(_opt(finetune="partial"), 10)


def test_position_embedding_resize():
  # An embedding that depends on t only stays so when h and w change.
  t, h, w, d = 2, 2, 3, 4
  body = np.repeat(np.arange(t, dtype=np.float32)[:, None], h * w, 1)
  body = np.broadcast_to(body.reshape(1, -1, 1), (1, t * h * w, d))
  emb = np.concatenate([np.full((1, 1, d), 7.0, np.float32), body], 1)
  same = pretrained.resize_position_embedding(
      emb, "cls t h w", dict(t=t, h=h, w=w), dict(t=t, h=h, w=w))
  np.testing.assert_allclose(same, emb)
  big = pretrained.resize_position_embedding(
      emb, "cls t h w", dict(t=t, h=h, w=w), dict(t=4, h=4, w=5))
  assert big.shape == (1, 1 + 4 * 4 * 5, d)
  np.testing.assert_allclose(big[0, 0], 7.0)  # the [CLS] position is kept
  grid = big[0, 1:, 0].reshape(4, 4, 5)
  np.testing.assert_allclose(grid, grid[:, :1, :1] * np.ones((1, 4, 5)),
                             atol=1e-6)
  times = grid[:, 0, 0]
  assert times[0] == pytest.approx(0.0) and times[-1] == pytest.approx(1.0)
  assert np.all(np.diff(times) >= 0)


def _save_converted(tmp_path, name, fields, clip, num_classes, key=0):
  """A checkpoint in convert's format, as if converted from PyTorch."""
  model = models.build(ml_collections.ConfigDict(
      dict(name=name, variant="tiny", **fields)), num_classes=num_classes)
  frames, size = clip
  # Jitted: eagerly, each op of the init compiles its own program.
  variables = jax.jit(model.init)(jax.random.key(key),
                                  jnp.zeros((1, frames, size, size, 3)))
  variables = jax.tree.map(np.asarray, dict(variables))
  meta = {"model": {"name": name, "variant": "tiny", **fields},
          "num_classes": num_classes, "num_frames": frames,
          "image_size": size, "source": "test"}
  dst = tmp_path / f"{name}_converted"
  convert.save(str(dst), variables, meta)
  return str(dst), variables


@pytest.mark.parametrize("name,resized", [
    ("vivit", {"spatial_pos_embed/embedding",
               "temporal_pos_embed/embedding"}),
    ("timesformer", {"pos_embed", "time_embed"}),
])
def test_init_from_reinitialises_head_and_resizes_positions(
    name, resized, tmp_path, cache_dir, caplog):
  """A checkpoint of another class count, clip length and image size starts
  a run: body copied, head re-initialised, positions resized, all logged."""
  src, saved = _save_converted(tmp_path, name, {}, clip=(8, 32),
                               num_classes=11)
  config = tiny_config(REPO_CONFIGS / f"{name}_synthetic.py",
                       cache=cache_dir)  # 4 frames of 16 px
  config.init_from = src
  run = trainer.Trainer(config, str(tmp_path / "run"))
  with caplog.at_level(logging.INFO):
    state = run.init_state()
  params = _paths(jax.device_get(state.params))
  saved = _paths(saved["params"])
  example = {k: np.zeros((1,) + np.shape(v), np.asarray(v).dtype)
             for k, v in run._example.items()  # pylint: disable=protected-access
             if k in run.task.train_keys}
  wanted = _paths(jax.eval_shape(run.task.init_state, run.init_key,
                                 example).params)
  assert {k: v.shape for k, v in params.items()} == {
      k: v.shape for k, v in wanted.items()}
  for key, value in params.items():
    if key.startswith("head/"):
      assert value.shape[-1] == run.info.num_classes != 11
      assert value.shape != saved[key].shape
    elif key in resized:
      assert value.shape != saved[key].shape, key
    else:
      np.testing.assert_array_equal(value, saved[key], err_msg=key)
  log = caplog.text
  assert "re-initialised params/head/kernel" in log
  for key in resized:
    assert f"resized params/{key}" in log


def test_init_from_a_vidjax_workdir_and_mismatch_errors(tmp_path):
  """A vidjax workdir's checkpoint (state + saved config) is a valid
  init_from; a different architecture is an error naming the parameter."""
  fields = dict(name="r3d", variant="tiny")
  model = models.build(ml_collections.ConfigDict(fields), num_classes=3)
  variables = jax.jit(model.init)(jax.random.key(0),
                                  jnp.zeros((1, 4, 16, 16, 3)))
  config = {"model": fields, "data": {"num_frames": 4, "image_size": 16}}
  ckpt = checkpoint.Checkpointer(tmp_path / "run" / "checkpoints",
                                 async_save=False, config=config)
  ckpt.save(7, {"params": variables["params"],
                "model_state": {"batch_stats": variables["batch_stats"]}},
            None)
  ckpt.close()

  target = jax.tree.map(np.zeros_like, jax.device_get(dict(variables)))
  merged, notes = pretrained.load_variables(
      target, str(tmp_path / "run"), models.get_module("r3d"), model,
      fields, (4, 16, 16))
  assert "step 7" in notes[0]
  for tree in ("params", "batch_stats"):
    for key, value in _paths(merged[tree]).items():
      np.testing.assert_array_equal(
          value, _paths(jax.device_get(variables[tree]))[key], err_msg=key)

  wider = models.build(ml_collections.ConfigDict(
      dict(fields, widths=(16, 32, 64, 128))), num_classes=3)
  target = jax.device_get(dict(jax.jit(wider.init)(
      jax.random.key(0), jnp.zeros((1, 4, 16, 16, 3)))))
  with pytest.raises(ValueError, match="layer4_0.*shape"):
    pretrained.load_variables(target, str(tmp_path / "run"),
                              models.get_module("r3d"), wider, fields,
                              (4, 16, 16))


def test_image_checkpoint_inflates_into_the_video_encoder(tmp_path):
  """An image-pretrained ViT (1 x 4 x 4 patches, one frame: the
  image_synthetic config's model) starts the video model (2 x 4 x 4
  tubelets): the patch kernel is repeated over time and halved (a tubelet
  of two identical frames embeds as the frame did); the transformer loads
  unchanged and the classifier keeps its initialisation."""
  image_fields = dict(name="videomae", variant="tiny", patch_size=(1, 4, 4))
  image = models.build(ml_collections.ConfigDict(image_fields), num_classes=0)
  saved = jax.jit(image.init)(jax.random.key(0), jnp.zeros((1, 1, 16, 16, 3)))
  ckpt = checkpoint.Checkpointer(
      tmp_path / "image" / "checkpoints", async_save=False,
      config={"model": image_fields,
              "data": {"num_frames": 1, "image_size": 16}})
  ckpt.save(3, {"params": saved["params"], "model_state": {}}, None)
  ckpt.close()

  fields = dict(name="videomae", variant="tiny")
  video = models.build(ml_collections.ConfigDict(fields), num_classes=8)
  target = jax.device_get(dict(jax.jit(video.init)(
      jax.random.key(1), jnp.zeros((1, 4, 16, 16, 3)))))
  merged, notes = pretrained.load_variables(
      target, str(tmp_path / "image"), models.get_module("videomae"), video,
      fields, (4, 16, 16))
  got, source = _paths(merged["params"]), _paths(jax.device_get(
      saved["params"]))
  kernel = "backbone/embed/proj/kernel"
  assert source[kernel].shape == (1, 4, 4, 3, 64)
  assert got[kernel].shape == (2, 4, 4, 3, 64)
  np.testing.assert_allclose(got[kernel], np.repeat(source[kernel], 2, 0) / 2)
  assert any(f"inflated params/{kernel}" in n for n in notes)
  for key, value in got.items():
    if key.startswith("head/"):
      np.testing.assert_array_equal(value, _paths(target["params"])[key])
    elif key != kernel:
      np.testing.assert_array_equal(value, source[key], err_msg=key)
