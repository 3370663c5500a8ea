"""Enhancement models: shapes, receptive fields in time, flow start."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from tests.conftest import init_and_apply
from vidjax import models


def _build(name, variant="tiny", **kw):
  fields = dict(name=name, variant=variant, dtype="float32")
  return models.build(ml_collections.ConfigDict(fields), **kw)


# BasicVSR's shape is checked in its own test below (one compilation).
@pytest.mark.parametrize("name,scale", [("espcn", 2), ("espcn", 4),
                                        ("edsr", 2), ("edsr", 4)])
def test_super_resolution_models_upsample(name, scale):
  model = _build(name, scale=scale)
  lr = jax.random.uniform(jax.random.key(0), (2, 3, 8, 12, 3))
  _, out = init_and_apply(model, jax.random.key(1), lr)
  assert out.shape == (2, 3, 8 * scale, 12 * scale, 3)
  assert np.isfinite(np.asarray(out)).all()


def test_basicvsr_starts_from_zero_flow_and_is_causal_both_ways():
  """Its flow network starts at zero flow; each output frame depends on
  every input frame (bidirectional propagation)."""
  from vidjax.models import basicvsr  # pylint: disable=g-import-not-at-top
  net = basicvsr.FlowNet(levels=2, features=(4, 4), kernel=3)
  a = jax.random.uniform(jax.random.key(0), (1, 8, 8, 3))
  # Inits jitted, as the gradients below: eagerly, each op compiles its own.
  flow = jax.jit(lambda a, b: net.apply(net.init(jax.random.key(1), a, a),
                                        a, b))
  np.testing.assert_array_equal(flow(a, jnp.roll(a, 1, 2)), 0.0)
  model = _build("basicvsr", scale=2)
  lr = jax.random.uniform(jax.random.key(2), (1, 4, 8, 8, 3))

  @jax.jit
  def perturbed_variables(lr):
    variables = model.init(jax.random.key(3), lr)
    # Perturb the flow network so warping is not the identity either.
    return jax.tree.map(lambda v: v + 0.01, variables)

  variables = perturbed_variables(lr)
  out, (g_first, g_last) = _input_gradients(
      lambda v: model.apply(variables, v), lr, (0, 3))
  assert out.shape == (1, 4, 16, 16, 3)
  assert float(np.abs(g_first[0, 3]).sum()) > 0  # future reaches frame 0
  assert float(np.abs(g_last[0, 0]).sum()) > 0  # past reaches frame 3


def _input_gradients(fn, video, frames):
  """fn(video), and the gradients of the sum of each output frame in
  `frames` wrt the input, in one compiled program (eager op-by-op
  differentiation is slow)."""
  @jax.jit
  def grads(v):
    out, vjp = jax.vjp(fn, v)
    cot = jnp.stack([jnp.zeros_like(out).at[:, i].set(1.0) for i in frames])
    return out, jax.vmap(vjp)(cot)[0]
  out, g = grads(video)
  return out, list(np.asarray(g))  # host-side: jnp would compile per op


def test_fastdvdnet_reads_a_window_of_five_frames():
  model = _build("fastdvdnet")
  video = jax.random.uniform(jax.random.key(0), (1, 7, 8, 8, 3))
  # Jitted, as apply and the gradients: eagerly, each op compiles its own.
  variables = jax.jit(model.init)(jax.random.key(1), video, 0.1)
  apply = jax.jit(lambda v, sigma: model.apply(variables, v, sigma))
  out = apply(video, 0.1)
  assert out.shape == video.shape
  _, (g3, g0) = _input_gradients(lambda v: apply(v, 0.1), video, (3, 0))
  reach = np.abs(g3).sum(axis=(0, 2, 3, 4)) > 0
  np.testing.assert_array_equal(reach, [0, 1, 1, 1, 1, 1, 0])
  # The noise level is an input: another sigma, another output.
  assert not np.allclose(apply(video, 0.3), out)
  # The first frame's window mirrors frames 1, 2 past the start.
  reach0 = np.abs(g0).sum(axis=(0, 2, 3, 4)) > 0
  np.testing.assert_array_equal(reach0, [1, 1, 1, 0, 0, 0, 0])


def test_dncnn_ignores_the_noise_level():
  model = _build("dncnn")
  video = jax.random.uniform(jax.random.key(0), (1, 2, 8, 8, 3))

  @jax.jit  # one program: eagerly, each op compiles its own
  def with_and_without_sigma(video):
    variables = model.init(jax.random.key(1), video)
    return model.apply(variables, video, 0.1), model.apply(variables, video)

  np.testing.assert_array_equal(*with_and_without_sigma(video))


def test_style_net_keeps_shape_and_range():
  model = _build("style_net")
  video = jax.random.uniform(jax.random.key(0), (1, 2, 16, 12, 3))
  _, out = init_and_apply(model, jax.random.key(1), video)
  assert out.shape == video.shape
  assert float(out.min()) >= 0 and float(out.max()) <= 1


@pytest.mark.parametrize("name,kw", [
    ("espcn", dict(residual=True)), ("edsr", dict(residual=True)),
    ("basicvsr", dict(skip="bicubic", zero_init_last=True))])
def test_residual_super_resolution_starts_at_bicubic(name, kw):
  from vidjax.ops import resize  # pylint: disable=g-import-not-at-top
  model = _build(name, scale=2, **kw)
  lr = jax.random.uniform(jax.random.key(0), (1, 2, 8, 8, 3))

  @jax.jit  # one program: eagerly, each op compiles its own
  def outputs_and_bicubic(lr):
    variables = model.init(jax.random.key(1), lr)
    # Not a constant: the learned branch moves the output once it has
    # weights.
    perturbed = jax.tree.map(lambda p: p + 0.1, variables)
    return (model.apply(variables, lr), model.apply(perturbed, lr),
            resize.upsample(lr, 2))

  out, perturbed_out, bicubic = outputs_and_bicubic(lr)
  np.testing.assert_allclose(out, bicubic, atol=1e-5)
  assert float(np.abs(perturbed_out - bicubic).max()) > 1e-3


@pytest.mark.parametrize("name", ["dncnn", "fastdvdnet"])
def test_zero_initialised_denoisers_start_at_the_identity(name):
  model = _build(name, zero_init_last=True)
  noisy = jax.random.uniform(jax.random.key(0), (1, 3, 8, 8, 3))
  default = _build(name)

  @jax.jit  # one program: eagerly, each op compiles its own
  def outputs(noisy):
    return [m.apply(m.init(jax.random.key(1), noisy, 0.1), noisy, 0.1)
            for m in (model, default)]

  out, default_out = outputs(noisy)
  np.testing.assert_allclose(out, noisy, atol=1e-6)
  assert float(np.abs(default_out - noisy).max()) > 1e-3
