"""C3D: eight 3x3x3 convolutions, five poolings, two fully connected layers.

Tran et al., "Learning Spatiotemporal Features with 3D Convolutional
Networks", ICCV 2015. conv1 (64) pool1 (1x2x2); conv2 (128) pool2; conv3a/b
(256) pool3; conv4a/b (512) pool4; conv5a/b (512) pool5 (2x2x2 pools with
ceil rounding, as the common 16x112x112 port pads pool5); fc6 and fc7
(4096) with dropout; a linear classifier. Layers keep Caffe's names.
The flattened pool5 output fixes the input size at initialization, as in
the paper (16x112x112 gives 512x1x4x4).

`norm="batch"` puts a BatchNorm after each convolution (bias-free), the
C3D-BN variant of later re-implementations (mmaction2's `norm_cfg`); the
default, no normalization, is the paper's network.

Input video [B, T, H, W, 3]; output logits [B, num_classes], or fc7's
features [B, fc_size] when num_classes == 0.
"""

from __future__ import annotations

from typing import Any, Sequence

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp

from vidjax.models.layers import Conv3D, batch_norm

VARIANTS = {
    "tiny": dict(widths=(16, 32, 64, 64, 64), fc_size=128),
    "small": dict(widths=(32, 64, 128, 256, 256), fc_size=1024),
    "paper": dict(widths=(64, 128, 256, 512, 512), fc_size=4096),
}
_CONVS = (("conv1",), ("conv2",), ("conv3a", "conv3b"), ("conv4a", "conv4b"),
          ("conv5a", "conv5b"))


def _pool_ceil(x: jax.Array, window: tuple[int, int, int]) -> jax.Array:
  # SAME padding with window == stride is ceil-mode pooling.
  return nn.max_pool(x, window, window, padding="SAME")


class Model(nn.Module):
  """C3D classifier; see the module docstring."""

  num_classes: int = 0
  widths: Sequence[int] = (64, 128, 256, 512, 512)
  fc_size: int = 4096
  dropout_rate: float = 0.5
  norm: str = ""  # "" (the paper) or "batch" (BatchNorm after each conv)
  remat: bool = False  # recompute each convolution's output in backprop
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, video: jax.Array, *, train: bool = False) -> jax.Array:
    chex.assert_rank(video, 5)
    if self.norm not in ("", "batch"):
      raise ValueError(f"c3d: norm={self.norm!r}; use '' or 'batch'")
    x = video.astype(self.dtype)
    conv = nn.remat(Conv3D) if self.remat else Conv3D
    for stage, (names, width) in enumerate(zip(_CONVS, self.widths)):
      for name in names:
        x = conv(width, (3, 3, 3), use_bias=not self.norm, dtype=self.dtype,
                 name=name)(x)
        if self.norm:
          x = batch_norm(train, self.dtype, f"{name}_bn")(x)
        x = nn.relu(x)
      x = _pool_ceil(x, (1, 2, 2) if stage == 0 else (2, 2, 2))
    x = x.reshape(x.shape[0], -1)
    for name in ("fc6", "fc7"):
      x = nn.relu(nn.Dense(self.fc_size, dtype=self.dtype, name=name)(x))
      x = nn.Dropout(self.dropout_rate)(x, deterministic=not train)
    features = x.astype(jnp.float32)
    if not self.num_classes:
      return features
    return nn.Dense(self.num_classes, name="head")(features)
