"""Image and video quality metrics."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def mse(x: jax.Array, y: jax.Array, axes: tuple[int, ...]) -> jax.Array:
  d = x.astype(jnp.float32) - y.astype(jnp.float32)
  return jnp.mean(d * d, axis=axes)


def psnr(x: jax.Array, y: jax.Array, data_range: float = 1.0,
         axes: tuple[int, ...] | None = None) -> jax.Array:
  """Peak signal-to-noise ratio in dB, 10 log10(range^2 / MSE).

  The MSE is taken over `axes` (default: all but the first, i.e. one value
  per clip of a [B, ...] batch), as scikit-image does over a whole array.
  """
  if axes is None:
    axes = tuple(range(1, x.ndim))
  return 10.0 * jnp.log10(data_range ** 2 / jnp.maximum(mse(x, y, axes),
                                                          1e-20))
