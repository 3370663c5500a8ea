"""Flow warping against scipy's bilinear interpolation."""

import jax
import jax.numpy as jnp
import numpy as np
from scipy import ndimage

from vidjax.ops import warp

# One program per input shape: eagerly, each op compiles its own.
flow_warp = jax.jit(warp.flow_warp)
valid_mask = jax.jit(warp.valid_mask)
resize_flow = jax.jit(warp.resize_flow, static_argnames=("h", "w"))


def test_zero_flow_is_identity_and_integer_flow_shifts():
  x = jax.random.uniform(jax.random.key(0), (2, 6, 7, 3))
  np.testing.assert_allclose(flow_warp(x, np.zeros((2, 6, 7, 2))), x)
  flow = np.zeros((2, 6, 7, 2), np.float32)
  flow[..., 0], flow[..., 1] = 2.0, -1.0
  out = np.asarray(flow_warp(x, flow))
  # out[y, x] = in[y - 1, x + 2] where that is inside.
  np.testing.assert_allclose(out[:, 1:, :5], np.asarray(x)[:, :-1, 2:],
                             rtol=1e-6)
  mask = np.asarray(valid_mask(flow))[..., 0]
  assert mask[:, 0].sum() == 0 and mask[:, :, 5:].sum() == 0
  assert mask[:, 1:, :5].min() == 1


def test_matches_scipy_bilinear_with_border_clamp():
  rng = np.random.default_rng(0)
  x = rng.uniform(size=(1, 9, 11, 2)).astype(np.float32)
  flow = rng.normal(0, 2.5, size=(1, 9, 11, 2)).astype(np.float32)
  got = np.asarray(flow_warp(x, flow))
  ys, xs = np.mgrid[0:9, 0:11].astype(np.float32)
  sy = np.clip(ys + flow[0, ..., 1], 0, 8)
  sx = np.clip(xs + flow[0, ..., 0], 0, 10)
  for c in range(2):
    want = ndimage.map_coordinates(x[0, ..., c], [sy, sx], order=1,
                                   mode="nearest")
    np.testing.assert_allclose(got[0, ..., c], want, atol=1e-5)


def test_gradient_flows_to_the_flow_field():
  x = jnp.linspace(0, 1, 8)[None, None, :, None] * jnp.ones((1, 5, 8, 1))
  loss = lambda f: jnp.sum(warp.flow_warp(x, f))  # noqa: E731
  g = jax.jit(jax.grad(loss))(jnp.full((1, 5, 8, 2), 0.3))  # one program
  # Reading further right increases a left-to-right ramp.
  assert float(g[0, 2, 3, 0]) > 0 and abs(float(g[0, 2, 3, 1])) < 1e-6


def test_resize_flow_scales_vectors():
  flow = jnp.ones((1, 4, 4, 2))
  out = resize_flow(flow, 8, 16)
  np.testing.assert_allclose(out[..., 0], 4.0)
  np.testing.assert_allclose(out[..., 1], 2.0)
