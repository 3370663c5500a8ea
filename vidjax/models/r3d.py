"""R3D and MC3: 3D ResNets with full 3x3x3 or mixed 3D/2D convolutions.

Tran et al., "A Closer Look at Spatiotemporal Convolutions for Action
Recognition", CVPR 2018. The layout follows torchvision's `r3d_18` and
`mc3_18` (the same paper's R(2+1)D is `r2plus1d`): a 3x7x7 stem with
spatial stride 2 and no max pool, four stages of basic blocks (64, 128,
256, 512 channels) with stride 2 from the second, 1x1x1 projection
shortcuts, global average pooling and a linear classifier.

`temporal_stages` is the number of leading stages whose convolutions are
3x3x3; the rest are 1x3x3 (no temporal extent, no temporal stride): 4 is
R3D, 1 is MC3 ("mixed convolutions", 3D at the bottom only). Parameter
names follow torchvision's so its weights map one to one.

Input video [B, T, H, W, 3]; output logits [B, num_classes], or pooled
features [B, C] when num_classes == 0.
"""

from __future__ import annotations

from typing import Any, Sequence

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp

from vidjax.models.layers import Conv3D, batch_norm, remat_block

VARIANTS = {
    "tiny": dict(widths=(16, 32, 64, 96), blocks=(1, 1, 1, 1)),
    "18": dict(widths=(64, 128, 256, 512), blocks=(2, 2, 2, 2)),
    "mc3_18": dict(widths=(64, 128, 256, 512), blocks=(2, 2, 2, 2),
                   temporal_stages=1),
    "34": dict(widths=(64, 128, 256, 512), blocks=(3, 4, 6, 3)),
}


class BasicBlock(nn.Module):
  """Two 3x3x3 (or 1x3x3) convolutions with a residual connection."""

  features: int
  stride: int = 1
  temporal: bool = True
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    kt = 3 if self.temporal else 1
    s = self.stride
    strides = (s if self.temporal else 1, s, s)
    bn = lambda name: batch_norm(train, self.dtype, name)  # noqa: E731
    y = Conv3D(self.features, (kt, 3, 3), strides, dtype=self.dtype,
               name="conv1")(x)
    y = nn.relu(bn("bn1")(y))
    y = bn("bn2")(Conv3D(self.features, (kt, 3, 3), dtype=self.dtype,
                         name="conv2")(y))
    if s != 1 or x.shape[-1] != self.features:
      x = bn("downsample_bn")(Conv3D(self.features, (1, 1, 1), strides,
                                     dtype=self.dtype, name="downsample")(x))
    return nn.relu(x + y)


class Model(nn.Module):
  """R3D / MC3 classifier; see the module docstring."""

  num_classes: int = 0
  widths: Sequence[int] = (64, 128, 256, 512)
  blocks: Sequence[int] = (2, 2, 2, 2)
  temporal_stages: int = 4
  dropout_rate: float = 0.0
  remat: bool = False  # recompute each block's activations in backprop
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, video: jax.Array, *, train: bool = False) -> jax.Array:
    chex.assert_rank(video, 5)
    x = Conv3D(self.widths[0], (3, 7, 7), (1, 2, 2), dtype=self.dtype,
               name="stem_conv")(video.astype(self.dtype))
    x = nn.relu(batch_norm(train, self.dtype, "stem_bn")(x))
    block = remat_block(BasicBlock, self.remat)
    for stage, (width, num_blocks) in enumerate(zip(self.widths, self.blocks)):
      for b in range(num_blocks):
        x = block(width, 2 if stage > 0 and b == 0 else 1,
                       temporal=stage < self.temporal_stages,
                       dtype=self.dtype,
                       name=f"layer{stage + 1}_{b}")(x, train)
    features = jnp.mean(x, axis=(1, 2, 3)).astype(jnp.float32)
    if not self.num_classes:
      return features
    features = nn.Dropout(self.dropout_rate)(features, deterministic=not train)
    return nn.Dense(self.num_classes, name="head")(features)
