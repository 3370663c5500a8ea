"""DnCNN: residual convolutional denoiser applied to each frame.

Zhang et al., "Beyond a Gaussian Denoiser: Residual Learning of Deep CNN for
Image Denoising", TIP 2017. Conv+ReLU, (depth - 2) x (Conv+BN+ReLU), Conv;
the network predicts the noise, which is subtracted from the input (residual
learning). Frames are processed independently.

`zero_init_last=True` starts the last convolution at zero, so the untrained
network is the identity (it predicts no noise) and a short run starts from
the noisy input rather than below it; the paper uses the default
initialization (the default here too).

Input noisy video [B, T, H, W, C] (or images [B, H, W, C]); output the
denoised estimate of the same shape. DnCNN-B is blind: the optional
`noise_level` argument (which non-blind denoisers such as FastDVDnet read)
is accepted and ignored, so tasks call every denoiser the same way.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

# Frames of context an output frame reads on either side (frames are denoised independently).
TEMPORAL_CONTEXT = 0

VARIANTS = {
    "tiny": dict(depth=5, features=32),
    "small": dict(depth=10, features=48),
    "paper": dict(depth=17, features=64),  # DnCNN-S
    "blind": dict(depth=20, features=64),  # DnCNN-B
}


class Model(nn.Module):
  depth: int = 17
  features: int = 64
  zero_init_last: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, noisy: jax.Array, noise_level: Any = None, *,
               train: bool = False) -> jax.Array:
    del noise_level  # blind
    if noisy.ndim not in (4, 5):
      raise ValueError(f"expected [B, T, H, W, C] or [B, H, W, C], got "
                       f"shape {noisy.shape}")
    shape = noisy.shape
    x = noisy.reshape((-1,) + shape[-3:]).astype(self.dtype)
    y = nn.relu(nn.Conv(self.features, (3, 3), dtype=self.dtype,
                        name="conv_in")(x))
    for i in range(self.depth - 2):
      y = nn.Conv(self.features, (3, 3), use_bias=False, dtype=self.dtype,
                  name=f"conv{i + 1}")(y)
      y = nn.BatchNorm(use_running_average=not train, momentum=0.9,
                       epsilon=1e-4, dtype=self.dtype, name=f"bn{i + 1}")(y)
      y = nn.relu(y)
    noise = nn.Conv(shape[-1], (3, 3), dtype=self.dtype,
                    kernel_init=(nn.initializers.zeros if self.zero_init_last
                                 else nn.linear.default_kernel_init),
                    name="conv_out")(y)
    return (x - noise).astype(noisy.dtype).reshape(shape)
