"""Pixel shuffle and the one super-resolution degradation.

Pixel shuffle (sub-pixel convolution, Shi et al. 2016) turns [.., H, W, C*r*r]
into [.., H*r, W*r, C]. Two channel orders exist: PyTorch's
`nn.PixelShuffle` reads input channel `c*r*r + i*r + j` into output pixel
offset (i, j) of channel c ("CRD": channel, then row, then column offset);
TensorFlow's `depth_to_space` reads channel `(i*r + j)*C + c` ("DCR"). The
models here use CRD, so weights of PyTorch ESPCN/EDSR/BasicVSR ports map
without permuting channels.

Degradation for super-resolution (the same in training, evaluation and the
`enhance` command): `jax.image.resize(..., method="bicubic", antialias=True)`
down by the integer scale, clipped to [0, 1] and rounded to 8 bits, as a
low-resolution video file would be. JAX's bicubic uses the Keys kernel with
a = -0.5 (as PIL and MATLAB) and, with antialias=True, widens the kernel by
the scale when downsampling (like MATLAB's `imresize`, unlike PyTorch's
`interpolate`, which uses a = -0.75 and no antialiasing): numbers here are
not comparable with papers that used another degradation.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

PIXEL_SHUFFLE_ORDERS = ("crd", "dcr")
DEGRADATION = "bicubic, antialias=True, clipped to [0, 1], rounded to 8 bits"


def pixel_shuffle(x: jax.Array, scale: int, order: str = "crd") -> jax.Array:
  """[..., H, W, C*scale*scale] -> [..., H*scale, W*scale, C]."""
  *lead, h, w, cin = x.shape
  r = scale
  if cin % (r * r):
    raise ValueError(f"pixel_shuffle: {cin} channels do not divide by "
                     f"scale^2 = {r * r}")
  c = cin // (r * r)
  n = len(lead)
  if order == "crd":  # channel index = c*r*r + i*r + j
    y = x.reshape(*lead, h, w, c, r, r)
    y = jnp.moveaxis(y, (n + 3, n + 4), (n + 1, n + 3))  # h, i, w, j, c
  elif order == "dcr":  # channel index = (i*r + j)*C + c
    y = x.reshape(*lead, h, w, r, r, c)
    y = jnp.moveaxis(y, n + 2, n + 1)  # h, i, w, j, c
  else:
    raise ValueError(f"order must be one of {PIXEL_SHUFFLE_ORDERS}, got "
                     f"{order!r}")
  return y.reshape(*lead, h * r, w * r, c)


def pixel_unshuffle(x: jax.Array, scale: int, order: str = "crd"
                    ) -> jax.Array:
  """The inverse of `pixel_shuffle`: [..., H, W, C] -> [..., H/r, W/r, C*r*r]."""
  *lead, h, w, c = x.shape
  r = scale
  if h % r or w % r:
    raise ValueError(f"pixel_unshuffle: {h}x{w} does not divide by {r}")
  n = len(lead)
  y = x.reshape(*lead, h // r, r, w // r, r, c)  # h, i, w, j, c
  if order == "crd":
    y = jnp.moveaxis(y, (n + 1, n + 3), (n + 3, n + 4))  # h, w, c, i, j
  elif order == "dcr":
    y = jnp.moveaxis(y, n + 1, n + 2)  # h, w, i, j, c
  else:
    raise ValueError(f"order must be one of {PIXEL_SHUFFLE_ORDERS}, got "
                     f"{order!r}")
  return y.reshape(*lead, h // r, w // r, c * r * r)


def _resize_frames(x: jax.Array, h: int, w: int, method: str,
                   antialias: bool) -> jax.Array:
  return jax.image.resize(x, x.shape[:-3] + (h, w, x.shape[-1]),
                          method=method, antialias=antialias)


def degrade(hr: jax.Array, scale: int) -> jax.Array:
  """The low-resolution input for `hr` [..., H, W, C] in [0, 1].

  See the module docstring; H and W must be multiples of `scale`.
  """
  h, w = hr.shape[-3:-1]
  if h % scale or w % scale:
    raise ValueError(f"frame size {h}x{w} is not a multiple of the "
                     f"super-resolution scale {scale}")
  lr = _resize_frames(hr.astype(jnp.float32), h // scale, w // scale,
                      "bicubic", antialias=True)
  return jnp.round(jnp.clip(lr, 0.0, 1.0) * 255.0) / 255.0


def upsample(lr: jax.Array, scale: int, method: str = "bicubic") -> jax.Array:
  """Interpolates [..., h, w, C] up to [..., h*scale, w*scale, C]."""
  h, w = lr.shape[-3:-1]
  return _resize_frames(lr, h * scale, w * scale, method, antialias=False)
