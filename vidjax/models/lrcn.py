"""LRCN: a per-frame 2D CNN whose features run through an LSTM.

Donahue et al., "Long-term Recurrent Convolutional Networks for Visual
Recognition and Description", CVPR 2015. Each frame goes through an image
ResNet (the same backbone as TSN, torchvision names) and is pooled to a
vector; an LSTM reads the vectors in order, so unlike TSN the model sees
the order of frames. The clip is classified from the LSTM's last output
(`pooling="last"`) or the mean of its outputs (`"mean"`, as the paper
averages per-frame predictions).

Input video [B, T, H, W, 3]; output logits [B, num_classes], or the pooled
LSTM outputs [B, lstm_size] when num_classes == 0.
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
                 bottleneck=False, stem_width=16, lstm_size=96),
    "18": dict(depths=(2, 2, 2, 2), widths=(64, 128, 256, 512),
               bottleneck=False, stem_width=64, lstm_size=256),
    "50": dict(depths=(3, 4, 6, 3), widths=(64, 128, 256, 512),
               bottleneck=True, stem_width=64, lstm_size=512),
}
POOLINGS = ("last", "mean")


class Model(nn.Module):
  """LRCN classifier; see the module docstring."""

  num_classes: int = 0
  depths: Sequence[int] = (2, 2, 2, 2)
  widths: Sequence[int] = (64, 128, 256, 512)
  bottleneck: bool = False
  stem_width: int = 64
  lstm_size: int = 256
  pooling: str = "last"
  dropout_rate: float = 0.0
  remat: bool = False  # recompute each block's activations in backprop
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, video: jax.Array, *, train: bool = False) -> jax.Array:
    chex.assert_rank(video, 5)
    if self.pooling not in POOLINGS:
      raise ValueError(f"pooling must be one of {POOLINGS}, got "
                       f"{self.pooling!r} (config.model.pooling)")
    x = ResNet(self.depths, self.widths, self.bottleneck, self.stem_width,
               remat=self.remat, dtype=self.dtype, name="backbone")(
                   video.astype(self.dtype), train=train)
    frames = jnp.mean(x, axis=(2, 3))  # [B, T, C]
    frames = nn.Dropout(self.dropout_rate)(frames, deterministic=not train)
    # The recurrence runs in float32: bfloat16 state drifts over long clips.
    outputs = nn.RNN(nn.OptimizedLSTMCell(self.lstm_size, dtype=jnp.float32,
                                          parent=None),
                     name="lstm")(frames.astype(jnp.float32))
    features = outputs[:, -1] if self.pooling == "last" else \
        jnp.mean(outputs, axis=1)
    if not self.num_classes:
      return features
    features = nn.Dropout(self.dropout_rate)(features, deterministic=not train)
    return nn.Dense(self.num_classes, name="head")(features)
