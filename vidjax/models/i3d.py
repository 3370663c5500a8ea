"""I3D: an image ResNet-50 inflated in time (the ResNet form of I3D).

Carreira & Zisserman, "Quo Vadis, Action Recognition? A New Model and the
Kinetics Dataset", CVPR 2017, in the ResNet-50 form of Wang et al.
("Non-local Neural Networks", CVPR 2018) and PySlowFast's I3D-R50: a 5x7x7
stem, a temporal max pool of 2 after the first stage, and the first 1x1
convolution of bottlenecks inflated to 3x1x1 in every block of res2, in
alternate blocks of res3 and res4, and in alternate blocks of res5 starting
from the second (kernels [[3], [3, 1], [3, 1], [1, 3]]).

2D-to-3D inflation: the backbone has the names of TSN's image ResNet
(`backbone/...`, torchvision's layout), so `config.init_from` can name a TSN
checkpoint or a converted torchvision ImageNet ResNet-50; every 1 x k x k
kernel loaded into a t x k x k one is repeated t times and divided by t, so
a video of identical frames gives the image network's activations
(`inflate_kernel`; the loader logs each inflated kernel).

Input video [B, T, H, W, 3]; output logits [B, num_classes], or pooled
features [B, C] when num_classes == 0.
"""

from __future__ import annotations

from typing import Any, Sequence

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from vidjax.models.layers import ResNet

_I3D_KERNELS = ((3,), (3, 1), (3, 1), (1, 3))
VARIANTS = {
    "tiny": dict(depths=(1, 1, 1, 1), widths=(8, 16, 32, 48), bottleneck=True,
                 stem_width=16),
    "50": dict(depths=(3, 4, 6, 3), widths=(64, 128, 256, 512),
               bottleneck=True, stem_width=64),
}


def inflate_kernel(kernel: np.ndarray, time: int) -> np.ndarray:
  """[1, kh, kw, C, F] (a 2D kernel) -> [time, kh, kw, C, F], mean-preserving."""
  if kernel.shape[0] != 1:
    raise ValueError(f"only a kernel of temporal size 1 inflates, got "
                     f"{kernel.shape}")
  return np.repeat(np.asarray(kernel), time, axis=0) / time


class Model(nn.Module):
  """I3D ResNet classifier; see the module docstring."""

  num_classes: int = 0
  depths: Sequence[int] = (3, 4, 6, 3)
  widths: Sequence[int] = (64, 128, 256, 512)
  bottleneck: bool = True
  stem_width: int = 64
  stem_temporal_kernel: int = 5
  temporal_kernels: Sequence[Sequence[int]] = _I3D_KERNELS
  temporal_pool: int = 2
  dropout_rate: float = 0.5
  remat: bool = False  # recompute each block's activations in backprop
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, video: jax.Array, *, train: bool = False) -> jax.Array:
    chex.assert_rank(video, 5)
    x = ResNet(self.depths, self.widths, self.bottleneck, self.stem_width,
               self.stem_temporal_kernel, self.temporal_kernels,
               layer1_temporal_pool=self.temporal_pool, remat=self.remat,
               dtype=self.dtype,
               name="backbone")(video.astype(self.dtype), train=train)
    features = jnp.mean(x, axis=(1, 2, 3)).astype(jnp.float32)
    if not self.num_classes:
      return features
    features = nn.Dropout(self.dropout_rate)(features, deterministic=not train)
    return nn.Dense(self.num_classes, name="head")(features)
