"""R(2+1)D: a 3D ResNet whose 3x3x3 convolutions are factorized in space/time.

Tran et al., "A Closer Look at Spatiotemporal Convolutions for Action
Recognition", CVPR 2018. Each 3D convolution becomes a 1x3x3 spatial
convolution to M intermediate channels, BatchNorm, ReLU, then a 3x1x1 temporal
convolution, with M chosen so the pair has as many parameters as the 3D
convolution it replaces. The layout (stem, four stages of basic blocks,
projection shortcuts) follows torchvision's `r2plus1d_18`, so its weights map
one to one.

Because every convolution is either purely spatial (1 x k x k) or purely
temporal (k x 1 x 1), each runs as a 2D convolution over a reshaped tensor
(frames folded into the batch, or space folded into one axis). The arithmetic
is that of the 3D convolution; XLA's CPU backend runs it up to several times
faster, and accelerators are unaffected.

Input video [B, T, H, W, 3]; output logits [B, num_classes], or pooled
features [B, C] when num_classes == 0.
"""

from __future__ import annotations

import functools
from typing import Any, Sequence

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp

from vidjax.models.layers import remat_block

VARIANTS = {
    # Small enough to train to high accuracy on a 2-core CPU in minutes.
    "tiny": dict(widths=(16, 32, 64, 96), blocks=(1, 1, 1, 1)),
    "small": dict(widths=(32, 64, 128, 256), blocks=(1, 1, 1, 1)),
    "18": dict(widths=(64, 128, 256, 512), blocks=(2, 2, 2, 2)),
    "34": dict(widths=(64, 128, 256, 512), blocks=(3, 4, 6, 3)),
}


def midplanes(in_planes: int, out_planes: int) -> int:
  """Intermediate width that matches a full 3x3x3 convolution's parameters."""
  return (in_planes * out_planes * 3 * 3 * 3) // (
      in_planes * 3 * 3 + 3 * out_planes)


class SpatialConv(nn.Module):
  """A 1 x k x k convolution of [B, T, H, W, C], run per frame in 2D."""

  features: int
  kernel: int
  stride: int = 1
  dtype: Any = jnp.float32
  use_bias: bool = False
  kernel_init: Any = nn.initializers.lecun_normal()

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    b, t = x.shape[:2]
    p = self.kernel // 2
    y = nn.Conv(self.features, (self.kernel, self.kernel),
                strides=(self.stride, self.stride), padding=((p, p), (p, p)),
                use_bias=self.use_bias, kernel_init=self.kernel_init,
                dtype=self.dtype, name="conv")(
                    x.reshape((b * t,) + x.shape[2:]))
    return y.reshape((b, t) + y.shape[1:])


class TemporalConv(nn.Module):
  """A k x 1 x 1 convolution of [B, T, H, W, C], run in 2D over (T, H*W)."""

  features: int
  kernel: int = 3
  stride: int = 1
  dtype: Any = jnp.float32
  use_bias: bool = False
  kernel_init: Any = nn.initializers.lecun_normal()

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    b, t, h, w, c = x.shape
    p = self.kernel // 2
    y = nn.Conv(self.features, (self.kernel, 1), strides=(self.stride, 1),
                padding=((p, p), (0, 0)), use_bias=self.use_bias,
                kernel_init=self.kernel_init, dtype=self.dtype,
                name="conv")(x.reshape(b, t, h * w, c))
    return y.reshape(b, y.shape[1], h, w, self.features)


class Conv2Plus1D(nn.Module):
  """1x3x3 spatial conv -> BN -> ReLU -> 3x1x1 temporal conv (no final BN)."""

  features: int
  mid_features: int
  stride: int = 1
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    x = SpatialConv(self.mid_features, 3, self.stride, self.dtype,
                    name="spatial")(x)
    x = nn.BatchNorm(use_running_average=not train, momentum=0.9,
                     epsilon=1e-5, dtype=self.dtype, name="bn")(x)
    x = nn.relu(x)
    return TemporalConv(self.features, 3, self.stride, self.dtype,
                        name="temporal")(x)


class BasicBlock(nn.Module):
  """Two (2+1)D convolutions with a residual connection."""

  features: int
  stride: int = 1
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    bn = functools.partial(nn.BatchNorm, use_running_average=not train,
                           momentum=0.9, epsilon=1e-5, dtype=self.dtype)
    # torchvision computes the intermediate width once per block, from the
    # block's input and output widths, and uses it for both convolutions.
    mid = midplanes(x.shape[-1], self.features)
    y = Conv2Plus1D(self.features, mid, self.stride, self.dtype,
                    name="conv1")(x, train=train)
    y = nn.relu(bn(name="bn1")(y))
    y = Conv2Plus1D(self.features, mid, 1, self.dtype, name="conv2")(
        y, train=train)
    y = bn(name="bn2")(y)
    if self.stride != 1 or x.shape[-1] != self.features:
      s = self.stride
      # A 1x1x1 convolution with stride s: subsample, then a dense layer.
      x = nn.Dense(self.features, use_bias=False, dtype=self.dtype,
                   name="downsample")(x[:, ::s, ::s, ::s])
      x = bn(name="downsample_bn")(x)
    return nn.relu(x + y)


class Model(nn.Module):
  """R(2+1)D classifier; see the module docstring."""

  num_classes: int = 0
  widths: Sequence[int] = (64, 128, 256, 512)
  blocks: Sequence[int] = (2, 2, 2, 2)
  stem_mid_features: int | None = None  # torchvision: 45 for width 64
  stem_spatial_stride: int = 2
  dropout_rate: float = 0.0
  remat: bool = False  # recompute each block's activations in backprop
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, video: jax.Array, *, train: bool = False) -> jax.Array:
    chex.assert_rank(video, 5)
    x = video.astype(self.dtype)
    bn = functools.partial(nn.BatchNorm, use_running_average=not train,
                           momentum=0.9, epsilon=1e-5, dtype=self.dtype)
    w0 = self.widths[0]
    stem_mid = self.stem_mid_features or max(8, round(45 * w0 / 64))
    s = self.stem_spatial_stride
    x = SpatialConv(stem_mid, 7, s, self.dtype, name="stem_spatial")(x)
    x = nn.relu(bn(name="stem_bn1")(x))
    x = TemporalConv(w0, 3, 1, self.dtype, name="stem_temporal")(x)
    x = nn.relu(bn(name="stem_bn2")(x))
    block = remat_block(BasicBlock, self.remat)
    for stage, (width, num_blocks) in enumerate(zip(self.widths, self.blocks)):
      for b in range(num_blocks):
        stride = 2 if stage > 0 and b == 0 else 1
        x = block(width, stride, self.dtype,
                       name=f"layer{stage + 1}_{b}")(x, train)
    features = jnp.mean(x, axis=(1, 2, 3)).astype(jnp.float32)
    if not self.num_classes:
      return features
    features = nn.Dropout(self.dropout_rate)(features, deterministic=not train)
    return nn.Dense(self.num_classes, name="head")(features)
