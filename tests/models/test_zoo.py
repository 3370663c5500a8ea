"""Every model family at its tiny size: shapes, jit, remat, bfloat16.

Training through the generic trainer is covered per family by
tests/train/test_trainer.py::test_every_config_trains_one_step (one config
per family under configs/classification/).
"""

import functools

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from vidjax import models

FAMILIES = ("tsn", "lrcn", "c3d", "r3d", "r2plus1d", "i3d", "slowfast",
            "vivit", "timesformer", "videomae")
NUM_CLASSES = 5
VIDEO_SHAPE = (2, 8, 16, 16, 3)


def _build(name, **fields):
  return models.build(ml_collections.ConfigDict(
      dict(name=name, variant="tiny", **fields)), num_classes=NUM_CLASSES)


def _loss(model, variables, video, key):
  """Training-mode loss (batch statistics, dropout) and its new BN stats."""
  logits, updates = model.apply(variables, video, train=True,
                                mutable=["batch_stats"],
                                rngs={"dropout": key})
  return jnp.mean(logits.astype(jnp.float32) ** 2), updates


def test_every_family_is_listed():
  assert set(FAMILIES) <= set(models.available())


def _remat_calls(model, variables, video, key) -> int:
  """How many rematerialized (checkpoint) calls the gradient traces."""
  jaxpr = jax.make_jaxpr(jax.grad(
      lambda p: _loss(model, {**variables, "params": p}, video, key)[0]))(
          variables["params"])
  return str(jaxpr).count("checkpoint[") + str(jaxpr).count("remat")


@pytest.mark.parametrize("name", FAMILIES)
def test_family_jits_remats_and_computes_in_bfloat16(name):
  video = jax.random.uniform(jax.random.key(0), VIDEO_SHAPE)
  plain = _build(name)
  variables = jax.jit(plain.init)(jax.random.key(2), video)
  params = variables["params"]
  assert params["head"]["kernel"].shape[-1] == NUM_CLASSES
  # Transformer heads start at zero (constant logits): a random head makes
  # the checks below see the features.
  head = dict(params["head"], kernel=jax.random.normal(
      jax.random.key(3), params["head"]["kernel"].shape) * 0.1)
  variables = {**variables, "params": {**params, "head": head}}
  num_params = sum(p.size for p in jax.tree.leaves(params))
  assert 1_000 < num_params < 2_000_000, num_params  # tiny, not a paper size

  forward = jax.jit(functools.partial(plain.apply, train=False))
  logits = forward(variables, video)
  assert logits.shape == (VIDEO_SHAPE[0], NUM_CLASSES)
  assert logits.dtype == jnp.float32
  assert bool(jnp.all(jnp.isfinite(logits)))
  # Not a constant function of the input.
  assert float(jnp.max(jnp.abs(logits - forward(variables, 1 - video)))) > 0

  # remat=True wraps the repeated blocks in jax.checkpoint (gradients are
  # compared to the plain model's in test_remat_keeps_gradients).
  key = jax.random.key(1)
  assert _remat_calls(plain, variables, video, key) == 0
  assert _remat_calls(_build(name, remat=True), variables, video, key) > 0

  # bfloat16 compute (the traced forward multiplies in bfloat16) with
  # float32 parameters and logits; numerics in test_bfloat16_close_to_float32.
  half = _build(name, dtype="bfloat16")
  shapes = jax.eval_shape(half.init, jax.random.key(2), video)
  assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(shapes["params"]))
  jaxpr = str(jax.make_jaxpr(functools.partial(half.apply, train=False))(
      variables, video))
  assert "bf16" in jaxpr and ("conv_general_dilated" in jaxpr or
                              "dot_general" in jaxpr)
  assert jax.eval_shape(functools.partial(half.apply, train=False),
                        variables, video).dtype == jnp.float32


@pytest.mark.parametrize("name", ["r3d", "timesformer"])
def test_bfloat16_close_to_float32(name):
  video = jax.random.uniform(jax.random.key(0), (2, 4, 16, 16, 3))
  plain, half = _build(name), _build(name, dtype="bfloat16")
  variables = jax.jit(plain.init)(jax.random.key(2), video)
  logits = jax.jit(functools.partial(plain.apply, train=False))(
      variables, video)
  half_logits = jax.jit(functools.partial(half.apply, train=False))(
      variables, video)
  assert half_logits.dtype == jnp.float32
  diff = float(jnp.max(jnp.abs(half_logits - logits)))
  scale = float(jnp.max(jnp.abs(logits)))
  assert 0 < diff < 0.05 * scale + 0.02, (diff, scale)


@pytest.mark.parametrize("name", ["r3d", "timesformer"])
def test_remat_keeps_gradients(name):
  """Same loss and gradients in training mode (batch statistics, dropout)
  with and without rematerialization."""
  video = jax.random.uniform(jax.random.key(0), (2, 4, 16, 16, 3))
  key = jax.random.key(1)
  plain, remat = _build(name), _build(name, remat=True)
  variables = jax.jit(plain.init)(jax.random.key(2), video)

  def grads(model):
    return jax.jit(jax.grad(lambda p: _loss(
        model, {**variables, "params": p}, video, key)[0]))(
            variables["params"])
  g_plain, g_remat = grads(plain), grads(remat)
  leaves = jax.tree.leaves(g_plain)
  assert any(float(jnp.max(jnp.abs(g))) > 0 for g in leaves)
  for a, b in zip(leaves, jax.tree.leaves(g_remat)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_tsn_ignores_frame_order_and_temporal_models_do_not():
  """TSN's average consensus is invariant to shuffling frames; a 3D CNN is
  not."""
  video = jax.random.uniform(jax.random.key(0), VIDEO_SHAPE)
  perm = np.array([3, 1, 7, 0, 5, 2, 6, 4])
  for name, invariant in (("tsn", True), ("r3d", False)):
    model = _build(name)
    variables = jax.jit(model.init)(jax.random.key(1), video)
    forward = jax.jit(functools.partial(model.apply, train=False))
    a, b = forward(variables, video), forward(variables, video[:, perm])
    diff = float(jnp.max(jnp.abs(a - b)))
    assert (diff < 1e-4) == invariant, (name, diff)


def test_c3d_batch_norm_variant():
  """norm="batch": a BatchNorm after each of the eight convolutions, which
  then carry no bias; the default is the paper's unnormalized network."""
  video = jax.random.uniform(jax.random.key(0), VIDEO_SHAPE)
  paper = _build("c3d").init(jax.random.key(1), video)
  bn = _build("c3d", norm="batch").init(jax.random.key(1), video)
  assert "batch_stats" not in paper and "bias" in paper["params"]["conv1"]
  assert sorted(bn["batch_stats"]) == sorted(f"{n}_bn" for n in (
      "conv1", "conv2", "conv3a", "conv3b", "conv4a", "conv4b", "conv5a",
      "conv5b"))
  assert "bias" not in bn["params"]["conv1"]
  with pytest.raises(ValueError, match="norm='layer'"):
    _build("c3d", norm="layer").init(jax.random.key(1), video)
