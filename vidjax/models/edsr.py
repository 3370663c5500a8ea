"""EDSR: enhanced deep residual network for super-resolution, per frame.

Lim et al., "Enhanced Deep Residual Networks for Single Image
Super-Resolution", CVPRW 2017. Mean shift, head conv, `num_blocks` residual
blocks without BatchNorm (conv-ReLU-conv, scaled by `res_scale`), a conv and
a long skip, an upsampler (conv to 4F channels + pixel shuffle x2, once for
x2 and twice for x4; conv to 9F + shuffle x3 for x3), a tail conv, and the
mean added back. The paper's baseline is 16 blocks of 64 features with
res_scale 1; the large model 32 blocks of 256 with res_scale 0.1.

`residual=True` adds the bicubic upsampling of the input instead of the
mean (the network learns the detail bicubic misses) and starts the tail
convolution at zero, so the untrained model is exactly bicubic, as in
ESPCN's residual variant. The paper's network has no such skip.

Input low-resolution video [B, T, h, w, 3] (or images [B, h, w, 3]) in
[0, 1]; output [B, T, h*scale, w*scale, 3].
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from vidjax.ops import resize

# Frames of context an output frame reads on either side (frames are upscaled independently).
TEMPORAL_CONTEXT = 0

VARIANTS = {
    "tiny": dict(features=16, num_blocks=2),
    "small": dict(features=32, num_blocks=4),
    "baseline": dict(features=64, num_blocks=16),
    "paper": dict(features=256, num_blocks=32, res_scale=0.1),
}

DIV2K_MEAN = (0.4488, 0.4371, 0.4040)


class ResBlock(nn.Module):
  features: int
  res_scale: float = 1.0
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    y = nn.relu(nn.Conv(self.features, (3, 3), dtype=self.dtype,
                        name="conv1")(x))
    y = nn.Conv(self.features, (3, 3), dtype=self.dtype, name="conv2")(y)
    return x + self.res_scale * y


class Upsampler(nn.Module):
  """Conv + pixel shuffle steps reaching `scale` (a power of 2, or 3)."""

  features: int
  scale: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    if self.scale == 3:
      steps = [3]
    elif self.scale >= 1 and self.scale & (self.scale - 1) == 0:
      steps = [2] * int(math.log2(self.scale))
    else:
      raise ValueError(f"EDSR upsamples by 2^n or 3, got scale {self.scale}")
    for i, r in enumerate(steps):
      x = nn.Conv(self.features * r * r, (3, 3), dtype=self.dtype,
                  name=f"conv{i}")(x)
      x = resize.pixel_shuffle(x, r)
    return x


class Model(nn.Module):
  scale: int = 4
  features: int = 64
  num_blocks: int = 16
  res_scale: float = 1.0
  rgb_mean: Sequence[float] = DIV2K_MEAN
  residual: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, lr: jax.Array, *, train: bool = False) -> jax.Array:
    del train
    if lr.ndim not in (4, 5):
      raise ValueError(f"expected [B, T, h, w, C] or [B, h, w, C], got "
                       f"shape {lr.shape}")
    shape = lr.shape
    mean = jnp.asarray(self.rgb_mean, self.dtype)
    x = lr.reshape((-1,) + shape[-3:]).astype(self.dtype) - mean
    head = nn.Conv(self.features, (3, 3), dtype=self.dtype, name="head")(x)
    y = head
    for i in range(self.num_blocks):
      y = ResBlock(self.features, self.res_scale, self.dtype,
                   name=f"block{i}")(y)
    y = nn.Conv(self.features, (3, 3), dtype=self.dtype, name="body_out")(y)
    y = Upsampler(self.features, self.scale, self.dtype,
                  name="upsampler")(y + head)
    y = nn.Conv(shape[-1], (3, 3), dtype=self.dtype,
                kernel_init=(nn.initializers.zeros if self.residual else
                             nn.linear.default_kernel_init),
                name="tail")(y)
    y = y + (resize.upsample(x + mean, self.scale) if self.residual else mean)
    h, w = y.shape[1:3]
    return y.astype(lr.dtype).reshape(shape[:-3] + (h, w, shape[-1]))
