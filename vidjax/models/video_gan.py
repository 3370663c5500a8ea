"""Video GAN: a factorized space-time generator and two discriminators.

In the spirit of DVD-GAN (Clark et al., 2019), at a size a CPU can train:

- `Generator`: noise z [B, latent_dim] and, if class-conditional, a label
  [B] -> clip [B, T, H, W, 3] in [-1, 1]. A dense layer makes a small
  [base_frames, s, s, C] tensor; residual blocks each double the spatial
  size (and the number of frames until it reaches T) with nearest-neighbour
  upsampling and (2+1)D convolutions (a 1x3x3 spatial then a 3x1x1 temporal
  convolution, `r2plus1d.SpatialConv/TemporalConv`). The noise and the class
  embedding modulate every block's normalization (FiLM on GroupNorm, as
  BigGAN's conditional batch norm, without batch statistics).
- `ClipDiscriminator`: 3x3x3 convolutions over the whole clip (`Conv3D`),
  which judge motion; class-conditional by projection (Miyato & Koyama).
- `FrameDiscriminator`: 2D convolutions on single frames, which judge
  appearance; unconditional, because in the synthetic data a single frame
  carries no class information.

`Model` holds the three as submodules named `generator`,
`clip_discriminator` and `frame_discriminator`; its parameters split along
those names so the GAN task trains them with two optimizers. Its
`__call__` is the generator.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp

from vidjax.models.r2plus1d import SpatialConv, TemporalConv

VARIANTS = {
    "tiny": dict(latent_dim=16, embed_dim=16, gen_widths=(32, 16),
                 disc_widths=(16, 32), frame_disc_widths=(16, 32)),
    "small": dict(latent_dim=64, embed_dim=64, gen_widths=(128, 96, 64),
                  disc_widths=(48, 96, 128), frame_disc_widths=(32, 64, 96)),
}

GENERATOR = ("generator",)
DISCRIMINATORS = ("clip_discriminator", "frame_discriminator")


def _leaky_relu(x):
  return nn.leaky_relu(x, 0.2)


class Conv3D(nn.Module):
  """A kt x k x k convolution of [B, T, H, W, C], computed as a 2D one.

  The kt temporal neighbours of each output frame (zero-padded at the clip
  ends) are stacked along channels, time offset major, and a 2D convolution
  with kt*C input channels does the rest: exactly the 3D convolution with
  kernel3d[dt, i, j, c, f] = kernel[i, j, dt * C + c, f], at the speed of a
  2D convolution on XLA's CPU backend (whose 3D convolution is slow).
  """

  features: int
  kernel: int = 3
  time_kernel: int = 3
  stride: int = 1
  time_stride: int = 1
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    b, t, h, w, c = x.shape
    kt, st = self.time_kernel, self.time_stride
    pt = kt // 2
    padded = jnp.pad(x, ((0, 0), (pt, pt), (0, 0), (0, 0), (0, 0)))
    t_out = (t + 2 * pt - kt) // st + 1
    stacked = jnp.concatenate(
        [padded[:, dt:dt + (t_out - 1) * st + 1:st] for dt in range(kt)],
        axis=-1)
    p = self.kernel // 2
    y = nn.Conv(self.features, (self.kernel, self.kernel),
                strides=(self.stride, self.stride), padding=((p, p), (p, p)),
                dtype=self.dtype, name="conv")(
                    stacked.reshape((b * t_out, h, w, kt * c)))
    return y.reshape((b, t_out) + y.shape[1:])


class FiLMGroupNorm(nn.Module):
  """GroupNorm whose per-channel scale and shift come from `cond` [B, D]."""

  groups: int = 8
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, cond: jax.Array) -> jax.Array:
    c = x.shape[-1]
    x = nn.GroupNorm(num_groups=math.gcd(self.groups, c), use_bias=False,
                     use_scale=False, dtype=self.dtype, name="norm")(x)
    # Zero-initialized: every block starts as a plain normalization.
    scale, shift = jnp.split(
        nn.Dense(2 * c, kernel_init=nn.initializers.zeros, dtype=self.dtype,
                 name="film")(cond), 2, axis=-1)
    expand = (slice(None),) + (None,) * (x.ndim - 2)
    return x * (1.0 + scale[expand]) + shift[expand]


def _upsample(x: jax.Array, time: bool) -> jax.Array:
  """Nearest-neighbour x2 in space (and in time if `time`); [B,T,H,W,C]."""
  x = jnp.repeat(jnp.repeat(x, 2, axis=2), 2, axis=3)
  return jnp.repeat(x, 2, axis=1) if time else x


class GeneratorBlock(nn.Module):
  """Residual block: (FiLM-norm, ReLU, upsample, (2+1)D conv) x 2."""

  features: int
  upsample_time: bool
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, cond: jax.Array) -> jax.Array:
    def conv(y, name):
      y = SpatialConv(self.features, 3, use_bias=True, dtype=self.dtype,
                      name=f"{name}_spatial")(y)
      return TemporalConv(self.features, 3, use_bias=True, dtype=self.dtype,
                          name=f"{name}_temporal")(y)

    y = nn.relu(FiLMGroupNorm(dtype=self.dtype, name="norm1")(x, cond))
    y = conv(_upsample(y, self.upsample_time), "conv1")
    y = nn.relu(FiLMGroupNorm(dtype=self.dtype, name="norm2")(y, cond))
    y = conv(y, "conv2")
    skip = nn.Dense(self.features, dtype=self.dtype, name="skip")(
        _upsample(x, self.upsample_time))
    return skip + y


def upsampling_plan(num_frames: int, image_size: int, num_blocks: int,
                    base_frames: int) -> tuple[int, int]:
  """(base spatial size, number of blocks that also double time)."""
  base = image_size // 2 ** num_blocks
  time_ups = round(math.log2(max(num_frames / base_frames, 1)))
  if base < 1 or base * 2 ** num_blocks != image_size:
    raise ValueError(f"image_size {image_size} is not a multiple of 2^"
                     f"{num_blocks} (one doubling per generator block)")
  if base_frames * 2 ** time_ups != num_frames or time_ups > num_blocks:
    raise ValueError(
        f"num_frames {num_frames} must be base_frames ({base_frames}) times "
        f"a power of two of at most 2^{num_blocks}")
  return base, time_ups


class Generator(nn.Module):
  """z [B, latent_dim] (+ labels [B]) -> clips [B, T, H, W, 3] in [-1, 1]."""

  num_frames: int
  image_size: int
  latent_dim: int = 64
  widths: Sequence[int] = (128, 96, 64)
  base_frames: int = 2
  num_classes: int = 0
  embed_dim: int = 64
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, z: jax.Array,
               labels: jax.Array | None = None) -> jax.Array:
    chex.assert_shape(z, (None, self.latent_dim))
    base, time_ups = upsampling_plan(self.num_frames, self.image_size,
                                     len(self.widths), self.base_frames)
    cond = z.astype(jnp.float32)
    if self.num_classes:
      if labels is None:
        raise ValueError("a class-conditional generator needs labels")
      cond = jnp.concatenate(
          [cond, nn.Embed(self.num_classes, self.embed_dim,
                          name="class_embed")(labels)], axis=-1)
    b = z.shape[0]
    x = nn.Dense(self.base_frames * base * base * self.widths[0],
                 dtype=self.dtype, name="project")(cond)
    x = x.reshape(b, self.base_frames, base, base, self.widths[0])
    for i, width in enumerate(self.widths):
      x = GeneratorBlock(width, upsample_time=i < time_ups, dtype=self.dtype,
                         name=f"block{i}")(x, cond)
    x = nn.relu(nn.GroupNorm(num_groups=math.gcd(8, x.shape[-1]),
                             dtype=self.dtype, name="norm_out")(x))
    x = SpatialConv(3, 3, use_bias=True, dtype=self.dtype, name="conv_out")(x)
    return jnp.tanh(x.astype(jnp.float32))


class ClipDiscriminator(nn.Module):
  """Clips [B, T, H, W, 3] (+ labels) -> logits [B]; 3D convolutions."""

  widths: Sequence[int] = (48, 96, 128)
  num_classes: int = 0
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, video: jax.Array,
               labels: jax.Array | None = None) -> jax.Array:
    chex.assert_rank(video, 5)
    x = _leaky_relu(Conv3D(self.widths[0], dtype=self.dtype, name="conv_in")(
        video.astype(self.dtype)))
    for i, width in enumerate(self.widths):
      time_stride = 2 if x.shape[1] > 2 else 1
      x = _leaky_relu(Conv3D(width, stride=2, time_stride=time_stride,
                             dtype=self.dtype, name=f"down{i}")(x))
    h = jnp.mean(x.astype(jnp.float32), axis=(1, 2, 3))
    out = nn.Dense(1, name="out")(h)[:, 0]
    if self.num_classes:
      if labels is None:
        raise ValueError("a class-conditional discriminator needs labels")
      embed = nn.Embed(self.num_classes, h.shape[-1], name="class_embed")
      out = out + jnp.sum(embed(labels) * h, axis=-1)
    return out


class FrameDiscriminator(nn.Module):
  """Clips [B, T, H, W, 3] -> logits [B], the mean of per-frame logits."""

  widths: Sequence[int] = (32, 64, 96)
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, video: jax.Array) -> jax.Array:
    chex.assert_rank(video, 5)
    b, t = video.shape[:2]
    x = video.reshape((b * t,) + video.shape[2:]).astype(self.dtype)
    x = _leaky_relu(nn.Conv(self.widths[0], (3, 3), dtype=self.dtype,
                            name="conv_in")(x))
    for i, width in enumerate(self.widths):
      x = _leaky_relu(nn.Conv(width, (4, 4), strides=(2, 2),
                              padding=((1, 1), (1, 1)), dtype=self.dtype,
                              name=f"down{i}")(x))
    h = jnp.mean(x.astype(jnp.float32), axis=(1, 2))
    return nn.Dense(1, name="out")(h).reshape(b, t).mean(axis=1)


class Model(nn.Module):
  """The generator and both discriminators; `__call__` generates."""

  num_frames: int
  image_size: int
  num_classes: int = 0
  latent_dim: int = 64
  embed_dim: int = 64
  gen_widths: Sequence[int] = (128, 96, 64)
  base_frames: int = 2
  disc_widths: Sequence[int] = (48, 96, 128)
  frame_disc_widths: Sequence[int] = (32, 64, 96)
  dtype: Any = jnp.float32

  def setup(self):
    self.generator = Generator(
        self.num_frames, self.image_size, self.latent_dim,
        tuple(self.gen_widths), self.base_frames, self.num_classes,
        self.embed_dim, self.dtype)
    self.clip_discriminator = ClipDiscriminator(
        tuple(self.disc_widths), self.num_classes, self.dtype)
    self.frame_discriminator = FrameDiscriminator(
        tuple(self.frame_disc_widths), self.dtype)

  def __call__(self, z: jax.Array, labels: jax.Array | None = None, *,
               train: bool = False) -> jax.Array:
    del train  # no dropout or batch statistics
    return self.generator(z, labels)

  def generate(self, z: jax.Array,
               labels: jax.Array | None = None) -> jax.Array:
    return self.generator(z, labels)

  def discriminate(self, video: jax.Array, labels: jax.Array | None = None
                   ) -> tuple[jax.Array, jax.Array]:
    """(clip logits [B], frame logits [B]) of clips in [-1, 1]."""
    return (self.clip_discriminator(video, labels),
            self.frame_discriminator(video))

  def init_all(self, z: jax.Array, video: jax.Array,
               labels: jax.Array | None = None):
    """Touches every submodule, for `init`."""
    return self.generate(z, labels), self.discriminate(video, labels)
