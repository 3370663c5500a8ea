"""Pixel shuffle channel orders and the super-resolution degradation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from vidjax.ops import resize


def _reference_shuffle(x, r, order):
  """Element by element, from the definitions in vidjax.ops.resize."""
  n, h, w, cin = x.shape
  c = cin // (r * r)
  out = np.zeros((n, h * r, w * r, c), x.dtype)
  for yy in range(h):
    for xx in range(w):
      for i in range(r):
        for j in range(r):
          for k in range(c):
            src = k * r * r + i * r + j if order == "crd" else \
                (i * r + j) * c + k
            out[:, yy * r + i, xx * r + j, k] = x[:, yy, xx, src]
  return out


@pytest.mark.parametrize("order", ["crd", "dcr"])
@pytest.mark.parametrize("r", [2, 3])
def test_pixel_shuffle_matches_the_definition(order, r):
  x = np.random.default_rng(0).normal(size=(2, 3, 4, 2 * r * r)).astype(
      np.float32)
  got = np.asarray(resize.pixel_shuffle(jnp.asarray(x), r, order))
  np.testing.assert_array_equal(got, _reference_shuffle(x, r, order))
  back = resize.pixel_unshuffle(jnp.asarray(got), r, order)
  np.testing.assert_array_equal(np.asarray(back), x)


def test_the_two_orders_differ():
  x = jnp.arange(2 * 2 * 8, dtype=jnp.float32).reshape(1, 2, 2, 8)
  assert not np.array_equal(resize.pixel_shuffle(x, 2, "crd"),
                            resize.pixel_shuffle(x, 2, "dcr"))


def test_pixel_shuffle_matches_torch():
  torch = pytest.importorskip(
      "torch", reason="PyTorch not installed (pip install torch==2.13.0)")
  x = np.random.default_rng(1).normal(size=(2, 5, 3, 3 * 16)).astype(
      np.float32)  # NHWC, scale 4
  want = torch.nn.functional.pixel_shuffle(
      torch.from_numpy(x).permute(0, 3, 1, 2), 4).permute(0, 2, 3, 1).numpy()
  got = np.asarray(resize.pixel_shuffle(jnp.asarray(x), 4))
  np.testing.assert_array_equal(got, want)
  want_back = torch.nn.functional.pixel_unshuffle(
      torch.from_numpy(want).permute(0, 3, 1, 2), 4).permute(0, 2, 3, 1)
  np.testing.assert_array_equal(
      np.asarray(resize.pixel_unshuffle(jnp.asarray(want), 4)),
      want_back.numpy())


def test_pixel_shuffle_rejects_indivisible_channels():
  with pytest.raises(ValueError, match="do not divide"):
    resize.pixel_shuffle(jnp.zeros((1, 2, 2, 6)), 2)


def test_degradation_is_antialiased_bicubic_in_8_bits():
  hr = jax.random.uniform(jax.random.key(0), (2, 3, 16, 12, 3))
  lr = resize.degrade(hr, 4)
  assert lr.shape == (2, 3, 4, 3, 3)
  np.testing.assert_allclose(np.asarray(lr) * 255,
                             np.round(np.asarray(lr) * 255), atol=1e-4)
  want = jax.image.resize(hr, (2, 3, 4, 3, 3), "bicubic", antialias=True)
  np.testing.assert_allclose(lr, np.clip(want, 0, 1), atol=0.5 / 255 + 1e-6)
  # Antialiasing matters for random pixels: without it the result differs.
  plain = jax.image.resize(hr, (2, 3, 4, 3, 3), "bicubic", antialias=False)
  assert np.abs(np.asarray(plain) - np.asarray(want)).max() > 0.05
  # A constant frame stays constant (the kernel is normalized).
  flat = resize.degrade(jnp.full((8, 8, 3), 100 / 255), 2)
  np.testing.assert_allclose(flat, 100 / 255, atol=1e-6)


def test_degradation_needs_a_multiple_of_the_scale():
  with pytest.raises(ValueError, match="not a multiple"):
    resize.degrade(jnp.zeros((1, 10, 12, 3)), 4)
