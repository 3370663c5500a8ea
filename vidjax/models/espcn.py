"""ESPCN: efficient sub-pixel convolutional network, per frame.

Shi et al., "Real-Time Single Image and Video Super-Resolution Using an
Efficient Sub-Pixel Convolutional Neural Network", CVPR 2016. Every layer
runs at low resolution: conv 5x5 (64) tanh, conv 3x3 (32) tanh, conv 3x3
(3 * scale^2), then a pixel shuffle (PyTorch's CRD channel order, see
`vidjax.ops.resize`). The paper works on luma; this version maps RGB to RGB.

`residual=True` adds the bicubic upsampling of the input to the output (the
network learns the detail bicubic misses), a common variant that trains much
faster; its last convolution starts at zero, so the untrained model is
exactly bicubic and training starts from the baseline. The paper's network
has no such skip (`residual=False`).

Input low-resolution video [B, T, h, w, 3] (or images [B, h, w, 3]) in
[0, 1]; output [B, T, h*scale, w*scale, 3].
"""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from vidjax.ops import resize

# Frames of context an output frame reads on either side (frames are upscaled independently).
TEMPORAL_CONTEXT = 0

VARIANTS = {
    "tiny": dict(features=(16, 8)),
    "paper": dict(features=(64, 32)),
}


class Model(nn.Module):
  scale: int = 4
  features: Sequence[int] = (64, 32)
  residual: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, lr: jax.Array, *, train: bool = False) -> jax.Array:
    del train
    if lr.ndim not in (4, 5):
      raise ValueError(f"expected [B, T, h, w, C] or [B, h, w, C], got "
                       f"shape {lr.shape}")
    shape = lr.shape
    x = lr.reshape((-1,) + shape[-3:]).astype(self.dtype)
    y = jnp.tanh(nn.Conv(self.features[0], (5, 5), dtype=self.dtype,
                         name="conv1")(x))
    y = jnp.tanh(nn.Conv(self.features[1], (3, 3), dtype=self.dtype,
                         name="conv2")(y))
    y = nn.Conv(shape[-1] * self.scale ** 2, (3, 3), dtype=self.dtype,
                kernel_init=(nn.initializers.zeros if self.residual else
                             nn.linear.default_kernel_init),
                name="conv3")(y)
    y = resize.pixel_shuffle(y, self.scale)
    if self.residual:
      y = y + resize.upsample(x, self.scale)
    h, w = y.shape[1:3]
    return y.astype(lr.dtype).reshape(shape[:-3] + (h, w, shape[-1]))
