"""Space-time factorized 3D U-Net for video diffusion, with its text encoder.

After Ho et al., "Video Diffusion Models" (2022), at a size a CPU can train.
Every 3D convolution is a 1x3x3 spatial convolution followed by a 3x1x1
temporal one (`r2plus1d.SpatialConv/TemporalConv`, which run as 2D
convolutions). Resolution halves in space, never in time, at each level;
at the levels in `attention_levels` (the low resolutions) each residual
block is followed by factorized attention: spatial self-attention within
each frame, then temporal self-attention at each position over the frames.

Conditioning: the diffusion time (a sinusoidal embedding and an MLP) plus a
condition vector, added to every residual block's normalization as a
scale and shift. The condition is a learned class embedding
(`num_classes > 0`) or a prompt encoded by `TextEncoder` (`vocab_size >
0`): token embeddings and learned positions, a small transformer, mean over
the non-padding tokens. `drop[i] = True` replaces example i's condition with
a learned null vector: trained with a small probability, this gives the
unconditional model that classifier-free guidance needs.

Input noisy clips [B, T, H, W, 3], times t [B] in [0, 1]; output [B, T, H,
W, 3] (the task decides what it predicts: noise or velocity).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp

from vidjax.models import layers
from vidjax.models.r2plus1d import SpatialConv, TemporalConv

VARIANTS = {
    # Tests: one level (no resampling) and attention only in the middle
    # compile in a third of the time of two levels with attention at the
    # second (measured: init + train step 8.5 s against 23 s on CPU). The
    # two-level path is tested at tiny widths in test_generation_models.
    "tiny": dict(widths=(16,), blocks_per_level=1, attention_levels=(),
                 num_heads=2, emb_dim=32, text_depth=1),
    "small": dict(widths=(48, 96, 128), blocks_per_level=1,
                  attention_levels=(2,), num_heads=4, emb_dim=128,
                  text_depth=2),
    "base": dict(widths=(64, 128, 192, 256), blocks_per_level=2,
                 attention_levels=(2, 3), num_heads=8, emb_dim=256,
                 text_depth=4),
}


def timestep_embedding(t: jax.Array, dim: int,
                       max_period: float = 10000.0) -> jax.Array:
  """Sinusoidal features [B, dim] of times t [B] in [0, 1] (scaled x1000)."""
  half = dim // 2
  freqs = jnp.exp(-math.log(max_period) * jnp.arange(half) / half)
  args = 1000.0 * t.astype(jnp.float32)[:, None] * freqs[None]
  return jnp.concatenate([jnp.cos(args), jnp.sin(args)], axis=-1)


def _groups(c: int) -> int:
  return math.gcd(8, c)


class FactorizedConv(nn.Module):
  """A 3x3x3 convolution as 1x3x3 spatial then 3x1x1 temporal (with biases)."""

  features: int
  stride: int = 1
  zero_init: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    x = SpatialConv(self.features, 3, self.stride, self.dtype, use_bias=True,
                    name="spatial")(x)
    init = nn.initializers.zeros if self.zero_init else \
        nn.initializers.lecun_normal()
    return TemporalConv(self.features, 3, 1, self.dtype, use_bias=True,
                        kernel_init=init, name="temporal")(x)


class ResBlock(nn.Module):
  """GN, SiLU, conv; + scale/shift from the embedding; GN, SiLU, conv."""

  features: int
  dropout_rate: float = 0.0
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, emb: jax.Array, *,
               train: bool) -> jax.Array:
    y = nn.silu(nn.GroupNorm(_groups(x.shape[-1]), dtype=self.dtype,
                             name="norm1")(x))
    y = FactorizedConv(self.features, dtype=self.dtype, name="conv1")(y)
    scale, shift = jnp.split(nn.Dense(2 * self.features, dtype=self.dtype,
                                      name="emb")(nn.silu(emb)), 2, axis=-1)
    y = nn.GroupNorm(_groups(self.features), dtype=self.dtype,
                     name="norm2")(y)
    y = y * (1 + scale[:, None, None, None]) + shift[:, None, None, None]
    y = nn.Dropout(self.dropout_rate)(nn.silu(y), deterministic=not train)
    # The residual branch starts at zero: the block starts as its skip path.
    y = FactorizedConv(self.features, zero_init=True, dtype=self.dtype,
                       name="conv2")(y)
    if x.shape[-1] != self.features:
      x = nn.Dense(self.features, dtype=self.dtype, name="skip")(x)
    return x + y


class FactorizedAttention(nn.Module):
  """Spatial attention within frames, then temporal attention over frames."""

  num_heads: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    b, t, h, w, c = x.shape
    y = nn.GroupNorm(_groups(c), dtype=self.dtype, name="norm_space")(x)
    y = layers.MultiHeadAttention(self.num_heads, dtype=self.dtype,
                                  name="space")(y.reshape(b * t, h * w, c))
    x = x + y.reshape(b, t, h, w, c)
    y = nn.GroupNorm(_groups(c), dtype=self.dtype, name="norm_time")(x)
    y = jnp.moveaxis(y, 1, 3).reshape(b * h * w, t, c)
    frames = self.param("frame_embed", nn.initializers.normal(0.02), (t, c))
    y = layers.MultiHeadAttention(self.num_heads, dtype=self.dtype,
                                  name="time")(y + frames.astype(y.dtype))
    return x + jnp.moveaxis(y.reshape(b, h, w, t, c), 3, 1)


class TextEncoder(nn.Module):
  """Token ids [B, L] (0 = padding) -> one vector [B, width] per prompt."""

  vocab_size: int
  width: int
  depth: int = 2
  num_heads: int = 4
  max_len: int = 16
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, tokens: jax.Array) -> jax.Array:
    chex.assert_rank(tokens, 2)
    if tokens.shape[1] > self.max_len:
      raise ValueError(f"prompt of {tokens.shape[1]} tokens; at most "
                       f"{self.max_len}")
    x = nn.Embed(self.vocab_size, self.width, name="token_embed")(tokens)
    pos = self.param("pos_embed", nn.initializers.normal(0.02),
                     (self.max_len, self.width))
    x = x + pos[:tokens.shape[1]]
    # No attention mask: padding is a token like any other (every prompt is
    # padded to the same length), and pooling below ignores it.
    x = layers.Encoder(self.depth, self.num_heads, 2 * self.width,
                       dtype=self.dtype, name="encoder")(x, train=False)
    keep = (tokens != 0).astype(x.dtype)[..., None]
    return jnp.sum(x * keep, axis=1) / jnp.maximum(keep.sum(axis=1), 1.0)


class Model(nn.Module):
  """Noisy clips, times and a condition -> the denoiser's output."""

  widths: Sequence[int] = (48, 96, 128)
  blocks_per_level: int = 1
  attention_levels: Sequence[int] = (2,)
  num_heads: int = 4
  emb_dim: int = 128
  dropout_rate: float = 0.0
  num_classes: int = 0  # > 0: class-conditional
  vocab_size: int = 0  # > 0: text-conditional
  text_depth: int = 2
  text_max_len: int = 16
  dtype: Any = jnp.float32

  def condition(self, labels: jax.Array | None, tokens: jax.Array | None,
                drop: jax.Array | None, batch: int) -> jax.Array:
    """The condition vector [B, emb_dim] (zeros for an unconditional net)."""
    if self.num_classes and self.vocab_size:
      raise ValueError("choose class (num_classes) or text (vocab_size) "
                       "conditioning, not both")
    if self.num_classes:
      if labels is None:
        raise ValueError("a class-conditional model needs labels")
      cond = nn.Embed(self.num_classes, self.emb_dim,
                      name="class_embed")(labels)
    elif self.vocab_size:
      if tokens is None:
        raise ValueError("a text-conditional model needs prompt tokens")
      cond = nn.Dense(self.emb_dim, name="text_proj")(TextEncoder(
          self.vocab_size, self.emb_dim, self.text_depth,
          max(1, self.num_heads // 2), self.text_max_len, dtype=self.dtype,
          name="text")(tokens))
    else:
      return jnp.zeros((batch, self.emb_dim), jnp.float32)
    null = self.param("null_condition", nn.initializers.normal(0.02),
                      (self.emb_dim,))
    if drop is not None:
      cond = jnp.where(drop[:, None], null[None].astype(cond.dtype), cond)
    return cond

  @nn.compact
  def __call__(self, x: jax.Array, t: jax.Array, *,
               labels: jax.Array | None = None,
               tokens: jax.Array | None = None,
               drop: jax.Array | None = None,
               train: bool = False) -> jax.Array:
    chex.assert_rank(x, 5)
    b = x.shape[0]
    levels = len(self.widths)
    if x.shape[2] % 2 ** (levels - 1) or x.shape[3] % 2 ** (levels - 1):
      raise ValueError(f"frame size {x.shape[2:4]} must divide by 2^"
                       f"{levels - 1} ({levels} U-Net levels)")
    emb = timestep_embedding(t, self.emb_dim)
    emb = nn.Dense(self.emb_dim, name="time_mlp1")(emb)
    emb = nn.Dense(self.emb_dim, name="time_mlp2")(nn.silu(emb))
    emb = emb + self.condition(labels, tokens, drop, b)

    block = lambda w, name: ResBlock(w, self.dropout_rate, self.dtype,  # noqa: E731
                                     name=name)
    attend = lambda name: FactorizedAttention(self.num_heads, self.dtype,  # noqa: E731
                                              name=name)
    h = FactorizedConv(self.widths[0], dtype=self.dtype, name="conv_in")(
        x.astype(self.dtype))
    skips = [h]
    for level, width in enumerate(self.widths):
      for i in range(self.blocks_per_level):
        h = block(width, f"down{level}_{i}")(h, emb, train=train)
        if level in self.attention_levels:
          h = attend(f"down{level}_{i}_attn")(h)
        skips.append(h)
      if level < levels - 1:
        h = SpatialConv(width, 3, 2, self.dtype, use_bias=True,
                        name=f"downsample{level}")(h)
        skips.append(h)
    h = block(self.widths[-1], "mid1")(h, emb, train=train)
    h = attend("mid_attn")(h)
    h = block(self.widths[-1], "mid2")(h, emb, train=train)
    for level in reversed(range(levels)):
      width = self.widths[level]
      for i in range(self.blocks_per_level + 1):
        h = jnp.concatenate([h, skips.pop()], axis=-1)
        h = block(width, f"up{level}_{i}")(h, emb, train=train)
        if level in self.attention_levels:
          h = attend(f"up{level}_{i}_attn")(h)
      if level > 0:
        h = jnp.repeat(jnp.repeat(h, 2, axis=2), 2, axis=3)
        h = SpatialConv(width, 3, 1, self.dtype, use_bias=True,
                        name=f"upsample{level}")(h)
    h = nn.silu(nn.GroupNorm(_groups(h.shape[-1]), dtype=self.dtype,
                             name="norm_out")(h))
    out = FactorizedConv(x.shape[-1], zero_init=True, dtype=self.dtype,
                         name="conv_out")(h)
    return out.astype(jnp.float32)
