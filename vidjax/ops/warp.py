"""Backward warping of images by a dense flow field (bilinear sampling).

`flow_warp(x, flow)[n, y, x] = x[n, y + flow[..., 1], x + flow[..., 0]]`:
the flow says, for every output pixel, where in the input to read. Sample
positions outside the image are clamped to the border (PyTorch's
`grid_sample(padding_mode="border", align_corners=True)`); `valid_mask` tells
which pixels read inside the image. Differentiable in both the image and the
flow, so an optical-flow module can be trained through it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def _grid(h: int, w: int) -> tuple[jax.Array, jax.Array]:
  ys, xs = jnp.meshgrid(jnp.arange(h, dtype=jnp.float32),
                        jnp.arange(w, dtype=jnp.float32), indexing="ij")
  return xs, ys


def flow_warp(x: jax.Array, flow: jax.Array) -> jax.Array:
  """x [N, H, W, C], flow [N, H, W, 2] as (dx, dy) in pixels -> [N, H, W, C]."""
  n, h, w, c = x.shape
  if flow.shape != (n, h, w, 2):
    raise ValueError(f"flow must be {(n, h, w, 2)}, got {flow.shape}")
  xs, ys = _grid(h, w)
  sx = jnp.clip(xs + flow[..., 0], 0.0, w - 1.0)
  sy = jnp.clip(ys + flow[..., 1], 0.0, h - 1.0)
  x0 = jnp.floor(sx)
  y0 = jnp.floor(sy)
  wx = (sx - x0)[..., None]
  wy = (sy - y0)[..., None]
  x0 = x0.astype(jnp.int32)
  y0 = y0.astype(jnp.int32)
  x1 = jnp.minimum(x0 + 1, w - 1)
  y1 = jnp.minimum(y0 + 1, h - 1)
  flat = x.reshape(n, h * w, c)

  def gather(yy, xx):
    idx = (yy * w + xx).reshape(n, h * w, 1)
    return jnp.take_along_axis(flat, idx, axis=1).reshape(n, h, w, c)

  top = gather(y0, x0) * (1 - wx) + gather(y0, x1) * wx
  bottom = gather(y1, x0) * (1 - wx) + gather(y1, x1) * wx
  return (top * (1 - wy) + bottom * wy).astype(x.dtype)


def valid_mask(flow: jax.Array) -> jax.Array:
  """[N, H, W, 1] float: 1 where the flow reads inside the image."""
  h, w = flow.shape[1:3]
  xs, ys = _grid(h, w)
  sx = xs + flow[..., 0]
  sy = ys + flow[..., 1]
  inside = (sx >= 0) & (sx <= w - 1) & (sy >= 0) & (sy <= h - 1)
  return inside[..., None].astype(jnp.float32)


def resize_flow(flow: jax.Array, h: int, w: int) -> jax.Array:
  """Bilinear resize of a flow field, scaling its vectors with the size."""
  n, fh, fw, _ = flow.shape
  out = jax.image.resize(flow, (n, h, w, 2), method="bilinear")
  return out * jnp.asarray([w / fw, h / fh], flow.dtype)
