"""ViViT: video vision transformer with tubelet embedding.

Arnab et al., "ViViT: A Video Vision Transformer", ICCV 2021.

- Tubelet embedding: non-overlapping t x p x p tubes, each linearly projected
  (a 3D convolution with kernel = stride = patch size).
- `attention="factorized_encoder"` (the paper's model 2): a spatial
  transformer runs on the tokens of each time step with its own [CLS] token;
  the per-step [CLS] outputs then go through a temporal transformer with a
  second [CLS] token that is classified.
- `attention="joint"` (model 1): one transformer over all space-time tokens.

Input video [B, T, H, W, 3]; output logits [B, num_classes], or the final
[CLS] features [B, D] when num_classes == 0.
"""

from __future__ import annotations

from typing import Any, Sequence

import chex
import einops
import flax.linen as nn
import jax
import jax.numpy as jnp

from vidjax.models.layers import Encoder

VARIANTS = {
    "tiny": dict(patch_size=(2, 4, 4), hidden_size=64, depth=2,
                 temporal_depth=1, num_heads=4, mlp_dim=128),
    "small": dict(patch_size=(2, 16, 16), hidden_size=384, depth=12,
                  temporal_depth=4, num_heads=6, mlp_dim=1536),
    "B": dict(patch_size=(2, 16, 16), hidden_size=768, depth=12,
              temporal_depth=4, num_heads=12, mlp_dim=3072),
    "L": dict(patch_size=(2, 16, 16), hidden_size=1024, depth=24,
              temporal_depth=4, num_heads=16, mlp_dim=4096),
}
ATTENTION_TYPES = ("factorized_encoder", "joint")


class TubeletEmbed(nn.Module):
  """[B, T, H, W, C] -> tokens [B, T/t, (H/p)*(W/p), D]."""

  hidden_size: int
  patch_size: Sequence[int]
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, video: jax.Array) -> jax.Array:
    t, p, q = self.patch_size
    _, T, H, W, _ = video.shape
    if T % t or H % p or W % q:
      raise ValueError(f"video {T}x{H}x{W} is not divisible into "
                       f"{t}x{p}x{q} tubelets")
    x = nn.Conv(self.hidden_size, (t, p, q), strides=(t, p, q),
                padding="VALID", dtype=self.dtype, name="proj")(video)
    return einops.rearrange(x, "b t h w d -> b t (h w) d")


class AddPositionEmbedding(nn.Module):
  """Learned position embedding added to [B, L, D] tokens."""

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    pe = self.param("embedding", nn.initializers.normal(0.02),
                    (1,) + x.shape[1:])
    return x + pe.astype(x.dtype)


def _prepend_cls(x: jax.Array, cls: jax.Array) -> jax.Array:
  cls = jnp.broadcast_to(cls.astype(x.dtype), (x.shape[0], 1, x.shape[-1]))
  return jnp.concatenate([cls, x], axis=1)


class Model(nn.Module):
  """ViViT classifier; see the module docstring."""

  num_classes: int = 0
  patch_size: Sequence[int] = (2, 16, 16)
  hidden_size: int = 768
  depth: int = 12  # spatial (or joint) encoder blocks
  temporal_depth: int = 4  # factorized encoder only
  num_heads: int = 12
  mlp_dim: int = 3072
  attention: str = "factorized_encoder"
  dropout_rate: float = 0.0
  remat: bool = False
  remat_policy: str = "nothing_saveable"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, video: jax.Array, *, train: bool = False) -> jax.Array:
    chex.assert_rank(video, 5)
    if self.attention not in ATTENTION_TYPES:
      raise ValueError(f"attention must be one of {ATTENTION_TYPES}, got "
                       f"{self.attention!r} (config.model.attention)")
    d = self.hidden_size
    encoder = lambda depth, name: Encoder(  # noqa: E731
        depth, self.num_heads, self.mlp_dim, self.dropout_rate, self.remat,
        self.dtype, self.remat_policy, name=name)
    x = TubeletEmbed(d, self.patch_size, self.dtype, name="embed")(
        video.astype(self.dtype))
    b = x.shape[0]
    if self.attention == "joint":
      cls = self.param("cls", nn.initializers.zeros, (1, 1, d))
      x = _prepend_cls(einops.rearrange(x, "b t s d -> b (t s) d"), cls)
      x = AddPositionEmbedding(name="pos_embed")(x)
      x = nn.Dropout(self.dropout_rate)(x, deterministic=not train)
      x = encoder(self.depth, "encoder")(x, train=train)[:, 0]
    else:
      spatial_cls = self.param("spatial_cls", nn.initializers.zeros, (1, 1, d))
      x = _prepend_cls(einops.rearrange(x, "b t s d -> (b t) s d"),
                       spatial_cls)
      x = AddPositionEmbedding(name="spatial_pos_embed")(x)
      x = nn.Dropout(self.dropout_rate)(x, deterministic=not train)
      x = encoder(self.depth, "spatial_encoder")(x, train=train)
      x = einops.rearrange(x[:, 0], "(b t) d -> b t d", b=b)
      temporal_cls = self.param("temporal_cls", nn.initializers.zeros,
                                (1, 1, d))
      x = _prepend_cls(x, temporal_cls)
      x = AddPositionEmbedding(name="temporal_pos_embed")(x)
      x = encoder(self.temporal_depth, "temporal_encoder")(x, train=train)
      x = x[:, 0]
    features = x.astype(jnp.float32)
    chex.assert_shape(features, (b, d))
    if not self.num_classes:
      return features
    return nn.Dense(self.num_classes, kernel_init=nn.initializers.zeros,
                    name="head")(features)
