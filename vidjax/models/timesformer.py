"""TimeSformer: a ViT with divided space-time attention.

Bertasius et al., "Is Space-Time Attention All You Need for Video
Understanding?", ICML 2021, following the official code (and Hugging Face's
port of it, whose weights convert one to one). Each frame is cut into p x p
patches; tokens get a spatial position embedding (with the [CLS] token) and
a temporal one. Each block first attends over time (each patch position
across frames; LayerNorm, attention, a linear `temporal_dense`, residual),
then over space (the patches of one frame plus a copy of [CLS]; the copies'
outputs are averaged back into one), then applies the MLP. Tokens are kept
space-major, time-minor, as in the reference.

Input video [B, T, H, W, 3]; output logits [B, num_classes], or the final
[CLS] features [B, D] when num_classes == 0.
"""

from __future__ import annotations

from typing import Any, Callable

import chex
import einops
import flax.linen as nn
import jax
import jax.numpy as jnp

from vidjax.models.layers import MlpBlock, MultiHeadAttention, exact_gelu

VARIANTS = {
    "tiny": dict(patch_size=4, hidden_size=64, depth=2, num_heads=4,
                 mlp_dim=128),
    "small": dict(patch_size=16, hidden_size=384, depth=12, num_heads=6,
                  mlp_dim=1536),
    "B": dict(patch_size=16, hidden_size=768, depth=12, num_heads=12,
              mlp_dim=3072),
    "L": dict(patch_size=16, hidden_size=1024, depth=24, num_heads=16,
              mlp_dim=4096),
}
# Learned position embeddings and the token grid axes they cover, for
# resizing when a checkpoint meets another clip length or image size.
POSITION_EMBEDDINGS = {"pos_embed": "cls h w", "time_embed": "t"}


def token_grid(model: "Model", frames: int, height: int, width: int
               ) -> dict[str, int]:
  p = model.patch_size
  return {"t": frames, "h": height // p, "w": width // p}


class DividedBlock(nn.Module):
  """Temporal attention, spatial attention, MLP; [B, 1 + S*T, D] in and out."""

  num_heads: int
  mlp_dim: int
  num_frames: int
  dropout_rate: float = 0.0
  layer_norm_eps: float = 1e-6
  activation: Callable[[jax.Array], jax.Array] = exact_gelu
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    b, _, d = x.shape
    t = self.num_frames
    norm = lambda name: nn.LayerNorm(  # noqa: E731
        epsilon=self.layer_norm_eps, dtype=self.dtype, name=name)
    cls, tokens = x[:, :1], x[:, 1:]
    # Time: each patch position attends over the frames.
    y = einops.rearrange(tokens, "b (s t) d -> (b s) t d", t=t)
    y = MultiHeadAttention(self.num_heads, dtype=self.dtype,
                           name="temporal_attn")(norm("temporal_norm")(y))
    y = einops.rearrange(y, "(b s) t d -> b (s t) d", b=b)
    tokens = tokens + nn.Dense(d, dtype=self.dtype, name="temporal_dense")(y)
    # Space: each frame's patches with a copy of [CLS].
    y = einops.rearrange(tokens, "b (s t) d -> (b t) s d", t=t)
    y = jnp.concatenate([jnp.repeat(cls, t, axis=0), y], axis=1)
    y = MultiHeadAttention(self.num_heads, dtype=self.dtype,
                           name="attn")(norm("norm1")(y))
    y = nn.Dropout(self.dropout_rate)(y, deterministic=not train)
    cls_update = jnp.mean(y[:, 0].reshape(b, t, d), axis=1, keepdims=True)
    y = einops.rearrange(y[:, 1:], "(b t) s d -> b (s t) d", b=b)
    x = jnp.concatenate([cls, tokens], axis=1) + \
        jnp.concatenate([cls_update, y], axis=1)
    return x + MlpBlock(self.mlp_dim, self.dropout_rate, self.activation,
                        dtype=self.dtype, name="mlp")(norm("norm2")(x),
                                                      train=train)


class Model(nn.Module):
  """TimeSformer classifier; see the module docstring."""

  num_classes: int = 0
  patch_size: int = 16
  hidden_size: int = 768
  depth: int = 12
  num_heads: int = 12
  mlp_dim: int = 3072
  dropout_rate: float = 0.0
  layer_norm_eps: float = 1e-6
  remat: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, video: jax.Array, *, train: bool = False) -> jax.Array:
    chex.assert_rank(video, 5)
    b, t, h, w, _ = video.shape
    p, d = self.patch_size, self.hidden_size
    if h % p or w % p:
      raise ValueError(f"frames {h}x{w} are not divisible into {p}x{p} "
                       "patches (config.model.patch_size)")
    x = nn.Conv(d, (p, p), strides=(p, p), padding="VALID", dtype=self.dtype,
                name="patch_embed")(
                    video.astype(self.dtype).reshape((b * t, h, w, -1)))
    s = x.shape[1] * x.shape[2]
    x = x.reshape(b, t, s, d)
    cls = self.param("cls", nn.initializers.truncated_normal(0.02), (1, 1, d))
    pos = self.param("pos_embed", nn.initializers.truncated_normal(0.02),
                     (1, 1 + s, d)).astype(self.dtype)
    time = self.param("time_embed", nn.initializers.zeros, (1, t, d)
                      ).astype(self.dtype)
    cls = cls.astype(self.dtype) + pos[:, :1]
    x = x + pos[:, None, 1:] + time[:, :, None]
    x = nn.Dropout(self.dropout_rate)(x, deterministic=not train)
    x = einops.rearrange(x, "b t s d -> b (s t) d")
    x = jnp.concatenate([jnp.broadcast_to(cls, (b, 1, d)), x], axis=1)
    block = nn.remat(DividedBlock, static_argnums=(2,)) if self.remat \
        else DividedBlock
    for i in range(self.depth):
      x = block(self.num_heads, self.mlp_dim, t, self.dropout_rate,
                self.layer_norm_eps, dtype=self.dtype,
                name=f"block{i}")(x, train)
    x = nn.LayerNorm(epsilon=self.layer_norm_eps, dtype=self.dtype,
                     name="norm")(x)
    features = x[:, 0].astype(jnp.float32)
    if not self.num_classes:
      return features
    return nn.Dense(self.num_classes, name="head")(features)
