"""Feed-forward style transfer network, applied to each frame.

Johnson et al., "Perceptual Losses for Real-Time Style Transfer and
Super-Resolution", ECCV 2016, with instance normalization (Ulyanov et al.
2016) and nearest-neighbour upsampling followed by a convolution instead of
transposed convolutions (Odena et al. 2016: no checkerboard artefacts), as
in PyTorch's `fast_neural_style` example. Reflection padding throughout:
conv 9x9, two stride-2 convs, residual blocks, two upsample-convs, conv 9x9.
The output goes through a sigmoid to stay in [0, 1].

Input video [B, T, H, W, 3] (or images [B, H, W, 3]) in [0, 1]; output the
stylised frames, same shape. H and W must be multiples of 4.
"""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

# Frames of context an output frame reads on either side (frames are stylised independently).
TEMPORAL_CONTEXT = 0

VARIANTS = {
    "tiny": dict(widths=(8, 16, 16), num_blocks=1),
    "small": dict(widths=(16, 32, 64), num_blocks=3),
    "paper": dict(widths=(32, 64, 128), num_blocks=5),
}


class ReflectConv(nn.Module):
  features: int
  kernel: int
  stride: int = 1
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    p = self.kernel // 2
    x = jnp.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), mode="reflect")
    return nn.Conv(self.features, (self.kernel, self.kernel),
                   strides=self.stride, padding="VALID", dtype=self.dtype,
                   name="conv")(x)


class Model(nn.Module):
  widths: Sequence[int] = (32, 64, 128)
  num_blocks: int = 5
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, video: jax.Array, *, train: bool = False) -> jax.Array:
    del train
    if video.ndim not in (4, 5):
      raise ValueError(f"expected [B, T, H, W, C] or [B, H, W, C], got "
                       f"shape {video.shape}")
    shape = video.shape
    if shape[-3] % 4 or shape[-2] % 4:
      raise ValueError(f"style_net needs frame sizes that are multiples of "
                       f"4, got {shape[-3]}x{shape[-2]}")
    x = video.reshape((-1,) + shape[-3:]).astype(self.dtype) - 0.5
    w0, w1, w2 = self.widths
    norm = lambda name: nn.InstanceNorm(dtype=self.dtype, name=name)  # noqa: E731
    conv = lambda f, k, s, name: ReflectConv(f, k, s, self.dtype, name=name)  # noqa: E731
    x = nn.relu(norm("in1")(conv(w0, 9, 1, "conv1")(x)))
    x = nn.relu(norm("in2")(conv(w1, 3, 2, "conv2")(x)))
    x = nn.relu(norm("in3")(conv(w2, 3, 2, "conv3")(x)))
    for i in range(self.num_blocks):
      y = nn.relu(norm(f"res{i}_in1")(conv(w2, 3, 1, f"res{i}_conv1")(x)))
      x = x + norm(f"res{i}_in2")(conv(w2, 3, 1, f"res{i}_conv2")(y))
    for i, f in enumerate((w1, w0)):
      x = jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)
      x = nn.relu(norm(f"up{i}_in")(conv(f, 3, 1, f"up{i}_conv")(x)))
    x = conv(shape[-1], 9, 1, "conv_out")(x)
    return jax.nn.sigmoid(x).astype(video.dtype).reshape(shape)
