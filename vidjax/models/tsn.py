"""TSN: a 2D ResNet on each frame, averaged over time (segment consensus).

Wang et al., "Temporal Segment Networks: Towards Good Practices for Deep
Action Recognition", ECCV 2016. Each frame of the clip stands for one
segment; the per-frame class scores are averaged ("average consensus").
Frames are never compared, so the order of motion is invisible to it: the
baseline against which temporal models are measured. Since the head is
linear, averaging features then classifying equals averaging the scores.

The backbone is an image ResNet with torchvision's names (`backbone/...`),
so ImageNet ResNet-18/50 weights convert one to one, and I3D can inflate a
TSN checkpoint (same names, 2D kernels grown in time).

Input video [B, T, H, W, 3]; output logits [B, num_classes], or the
frame-averaged features [B, C] when num_classes == 0.
"""

from __future__ import annotations

from typing import Any, Sequence

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp

from vidjax.models.layers import ResNet

VARIANTS = {
    "tiny": dict(depths=(1, 1, 1, 1), widths=(16, 32, 64, 96),
                 bottleneck=False, stem_width=16),
    "18": dict(depths=(2, 2, 2, 2), widths=(64, 128, 256, 512),
               bottleneck=False, stem_width=64),
    "50": dict(depths=(3, 4, 6, 3), widths=(64, 128, 256, 512),
               bottleneck=True, stem_width=64),
}


class Model(nn.Module):
  """TSN classifier; see the module docstring."""

  num_classes: int = 0
  depths: Sequence[int] = (3, 4, 6, 3)
  widths: Sequence[int] = (64, 128, 256, 512)
  bottleneck: bool = True
  stem_width: int = 64
  dropout_rate: float = 0.0
  remat: bool = False  # recompute each block's activations in backprop
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, video: jax.Array, *, train: bool = False) -> jax.Array:
    chex.assert_rank(video, 5)
    x = ResNet(self.depths, self.widths, self.bottleneck, self.stem_width,
               remat=self.remat, dtype=self.dtype, name="backbone")(
                   video.astype(self.dtype), train=train)
    # Per-frame global average pooling, then the consensus over frames.
    features = jnp.mean(x, axis=(1, 2, 3)).astype(jnp.float32)
    if not self.num_classes:
      return features
    features = nn.Dropout(self.dropout_rate)(features, deterministic=not train)
    return nn.Dense(self.num_classes, name="head")(features)
