"""SlowFast: a slow, wide pathway and a fast, thin one joined by laterals.

Feichtenhofer et al., "SlowFast Networks for Video Recognition", ICCV 2019,
in PySlowFast's SlowFast-R50 form. The fast pathway sees every frame of the
clip with 1/beta of the channels; the slow pathway sees every alpha-th
frame. After the stem and after res2, res3 and res4, a lateral connection
(a `fusion_kernel` x 1 x 1 convolution with temporal stride alpha,
2 x fast channels, BatchNorm, ReLU) carries the fast features to the slow
pathway, where they are concatenated. Temporal kernels: slow 1 in the stem,
res2 and res3, 3 in res4 and res5; fast 5 in the stem and 3 everywhere
after (on the bottleneck's first convolution). Both pathways are pooled
globally, concatenated and classified.

Input video [B, T, H, W, 3] with T divisible by alpha; output logits
[B, num_classes], or the concatenated features [B, C_slow + C_fast] when
num_classes == 0.
"""

from __future__ import annotations

from typing import Any, Sequence

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp

from vidjax.models.layers import Conv3D, ResBlock, batch_norm, remat_block

VARIANTS = {
    "tiny": dict(depths=(1, 1, 1, 1), widths=(16, 32, 64, 96), alpha=4,
                 beta_inv=4, fusion_kernel=3),
    # SLOWFAST_8x8_R50: 32 frames in, the slow pathway sees 8.
    "R50": dict(depths=(3, 4, 6, 3), widths=(64, 128, 256, 512), alpha=4,
                beta_inv=8, fusion_kernel=7),
}
_SLOW_KERNELS = (1, 1, 3, 3)
_FAST_KERNELS = (3, 3, 3, 3)


class Model(nn.Module):
  """SlowFast classifier; see the module docstring."""

  num_classes: int = 0
  depths: Sequence[int] = (3, 4, 6, 3)
  widths: Sequence[int] = (64, 128, 256, 512)  # slow pathway's
  alpha: int = 4  # frame-rate ratio between the pathways
  beta_inv: int = 8  # channel ratio between the pathways
  fusion_kernel: int = 7
  fusion_channel_ratio: int = 2
  dropout_rate: float = 0.5
  remat: bool = False  # recompute each block's activations in backprop
  dtype: Any = jnp.float32

  def _lateral(self, fast: jax.Array, i: int, train: bool) -> jax.Array:
    y = Conv3D(fast.shape[-1] * self.fusion_channel_ratio,
               (self.fusion_kernel, 1, 1), (self.alpha, 1, 1),
               dtype=self.dtype, name=f"lateral{i}")(fast)
    return nn.relu(batch_norm(train, self.dtype, f"lateral{i}_bn")(y))

  @nn.compact
  def __call__(self, video: jax.Array, *, train: bool = False) -> jax.Array:
    chex.assert_rank(video, 5)
    if video.shape[1] % self.alpha:
      raise ValueError(f"SlowFast needs a frame count divisible by alpha="
                       f"{self.alpha}, got {video.shape[1]} "
                       "(config.data.num_frames)")
    x = video.astype(self.dtype)
    fast, slow = x, x[:, ::self.alpha]
    fast_stem = self.widths[0] // self.beta_inv
    pathways = {}
    for name, y, width, kt in (("slow", slow, self.widths[0], 1),
                               ("fast", fast, fast_stem, 5)):
      y = Conv3D(width, (kt, 7, 7), (1, 2, 2), dtype=self.dtype,
                 name=f"{name}_stem_conv")(y)
      y = nn.relu(batch_norm(train, self.dtype, f"{name}_stem_bn")(y))
      pathways[name] = nn.max_pool(y, (1, 3, 3), (1, 2, 2),
                                   ((0, 0), (1, 1), (1, 1)))
    slow, fast = pathways["slow"], pathways["fast"]
    slow = jnp.concatenate([slow, self._lateral(fast, 0, train)], axis=-1)
    block = remat_block(ResBlock, self.remat)
    for stage, (width, depth) in enumerate(zip(self.widths, self.depths)):
      for b in range(depth):
        stride = 2 if stage > 0 and b == 0 else 1
        slow = block(width, True, stride, _SLOW_KERNELS[stage],
                        dtype=self.dtype,
                        name=f"slow_layer{stage + 1}_{b}")(slow, train)
        fast = block(width // self.beta_inv, True, stride,
                        _FAST_KERNELS[stage], dtype=self.dtype,
                        name=f"fast_layer{stage + 1}_{b}")(fast, train)
      if stage < 3:
        slow = jnp.concatenate(
            [slow, self._lateral(fast, stage + 1, train)], axis=-1)
    features = jnp.concatenate([jnp.mean(slow, axis=(1, 2, 3)),
                                jnp.mean(fast, axis=(1, 2, 3))], axis=-1)
    features = features.astype(jnp.float32)
    if not self.num_classes:
      return features
    features = nn.Dropout(self.dropout_rate)(features, deterministic=not train)
    return nn.Dense(self.num_classes, name="head")(features)
