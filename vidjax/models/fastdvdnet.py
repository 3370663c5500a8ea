"""FastDVDnet: two-stage multi-frame video denoiser with a noise-level map.

Tassano et al., "FastDVDnet: Towards Real-Time Deep Video Denoising Without
Flow Estimation", CVPR 2020. A window of 5 noisy frames and a noise map
(sigma at every pixel) go in, the denoised centre frame comes out. Stage 1
applies one denoising block (shared weights) to the frame triples
(0, 1, 2), (1, 2, 3) and (2, 3, 4); stage 2 applies a second block to the
three results. Each block is a small U-Net: a grouped input convolution
(one group per frame, each seeing its frame and the noise map), two
downsampling and two pixel-shuffle upsampling stages with additive skips,
and a residual output (the block predicts the noise of its centre frame).

For a clip [B, T, H, W, 3] every frame is denoised with the window centred
on it, frames past the clip's ends mirrored (the original code's
reflection). Stage-1 outputs are shared by the windows that need them, so a
clip costs T + 2 stage-1 and T stage-2 blocks instead of 4T. H and W must be
multiples of 4 (two downsamplings).

`zero_init_last=True` starts each block's output convolution at zero, so
the untrained model is the identity on the centre frame and a short run
starts from the noisy input rather than below it (not in the paper; the
default keeps the default initialization).

Inputs: noisy video [B, T, H, W, 3] and noise_level, sigma on the 0-1
scale, a scalar or [B]. Output: the denoised video, same shape.
"""

from __future__ import annotations

import functools
from typing import Any

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp

from vidjax.ops import resize

# Frames of context an output frame reads on either side (each output frame reads two frames on either side).
TEMPORAL_CONTEXT = 2

VARIANTS = {
    "tiny": dict(widths=(8, 16, 16), input_features=6),
    "small": dict(widths=(16, 32, 64), input_features=12),
    "paper": dict(widths=(32, 64, 128), input_features=30),
}

WINDOW = 5


class _ConvBNReLU(nn.Module):
  features: int
  stride: int = 1
  groups: int = 1
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    x = nn.Conv(self.features, (3, 3), strides=self.stride, use_bias=False,
                feature_group_count=self.groups, dtype=self.dtype,
                name="conv")(x)
    x = nn.BatchNorm(use_running_average=not train, momentum=0.9,
                     epsilon=1e-5, dtype=self.dtype, name="bn")(x)
    return nn.relu(x)


class DenBlock(nn.Module):
  """Three frames + noise map -> the denoised middle frame."""

  widths: tuple[int, int, int] = (32, 64, 128)
  input_features: int = 30  # per frame, in the grouped input convolution
  zero_init_last: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, frames: jax.Array, noise_map: jax.Array, *,
               train: bool) -> jax.Array:
    """frames [N, 3, H, W, C], noise_map [N, H, W, 1] -> [N, H, W, C]."""
    w0, w1, w2 = self.widths
    block = functools.partial(_ConvBNReLU, dtype=self.dtype)
    # (frame0, map, frame1, map, frame2, map): one group per frame.
    x = jnp.concatenate([jnp.concatenate([frames[:, k], noise_map], -1)
                         for k in range(3)], axis=-1)
    x0 = block(3 * self.input_features, groups=3, name="in_conv1")(x, train)
    x0 = block(w0, name="in_conv2")(x0, train)
    x1 = block(w1, stride=2, name="down0_conv")(x0, train)
    x1 = block(w1, name="down0_cv1")(x1, train)
    x1 = block(w1, name="down0_cv2")(x1, train)
    x2 = block(w2, stride=2, name="down1_conv")(x1, train)
    x2 = block(w2, name="down1_cv1")(x2, train)
    x2 = block(w2, name="down1_cv2")(x2, train)
    x2 = block(w2, name="up2_cv1")(x2, train)
    x2 = block(w2, name="up2_cv2")(x2, train)
    x2 = resize.pixel_shuffle(nn.Conv(w1 * 4, (3, 3), use_bias=False,
                                      dtype=self.dtype, name="up2_conv")(x2), 2)
    x1 = block(w1, name="up1_cv1")(x1 + x2, train)
    x1 = block(w1, name="up1_cv2")(x1, train)
    x1 = resize.pixel_shuffle(nn.Conv(w0 * 4, (3, 3), use_bias=False,
                                      dtype=self.dtype, name="up1_conv")(x1), 2)
    x = block(w0, name="out_cv")(x0 + x1, train)
    noise = nn.Conv(frames.shape[-1], (3, 3), use_bias=False,
                    dtype=self.dtype,
                    kernel_init=(nn.initializers.zeros if self.zero_init_last
                                 else nn.linear.default_kernel_init),
                    name="out_conv")(x)
    return frames[:, 1] - noise


def _reflect(index: int, length: int) -> int:
  """index reflected into [0, length) without repeating the edge frame."""
  if length == 1:
    return 0
  period = 2 * (length - 1)
  index %= period
  return index if index < length else period - index


class Model(nn.Module):
  widths: tuple[int, int, int] = (32, 64, 128)
  input_features: int = 30
  zero_init_last: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, noisy: jax.Array, noise_level: jax.Array | float, *,
               train: bool = False) -> jax.Array:
    chex.assert_rank(noisy, 5)
    b, t, h, w, c = noisy.shape
    if h % 4 or w % 4:
      raise ValueError(f"FastDVDnet needs frame sizes that are multiples of "
                       f"4, got {h}x{w}")
    x = noisy.astype(self.dtype)
    sigma = jnp.broadcast_to(jnp.asarray(noise_level, self.dtype), (b,))
    noise_map = jnp.broadcast_to(sigma[:, None, None, None], (b, h, w, 1))
    stage1 = DenBlock(tuple(self.widths), self.input_features,
                      self.zero_init_last, self.dtype, name="temp1")
    stage2 = DenBlock(tuple(self.widths), self.input_features,
                      self.zero_init_last, self.dtype, name="temp2")
    # Stage 1 centred on positions -1 .. T (T + 2 triples).
    triples = [[_reflect(p + k, t) for k in (-1, 0, 1)]
               for p in range(-1, t + 1)]
    idx = jnp.asarray(triples)  # [T + 2, 3]
    first = x[:, idx]  # [B, T + 2, 3, H, W, C]
    maps = jnp.repeat(noise_map, t + 2, axis=0)
    y1 = stage1(first.reshape((b * (t + 2), 3, h, w, c)), maps, train=train)
    y1 = y1.reshape(b, t + 2, h, w, c)
    # Stage 2 at frame i reads stage-1 outputs at positions i-1, i, i+1.
    second = jnp.stack([y1[:, 0:t], y1[:, 1:t + 1], y1[:, 2:t + 2]], axis=2)
    maps = jnp.repeat(noise_map, t, axis=0)
    y2 = stage2(second.reshape((b * t, 3, h, w, c)), maps, train=train)
    return y2.reshape(b, t, h, w, c).astype(noisy.dtype)
