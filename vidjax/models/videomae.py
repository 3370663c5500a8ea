"""VideoMAE's video encoder: a plain ViT on tubelets with fixed sin-cos positions.

Tong et al., "VideoMAE: Masked Autoencoders are Data-Efficient Learners for
Self-Supervised Video Pre-Training", NeurIPS 2022. The clip is cut into
t x p x p tubelets (a 3D convolution with kernel = stride), a fixed
sinusoidal position table over the flattened token index is added (the
reference's `get_sinusoid_encoding_table`), and pre-norm transformer blocks
follow; attention has query and value biases but no key bias. The classifier
averages the tokens, normalizes them (`fc_norm`) and applies a linear head.
Details follow the reference and Hugging Face's port (exact GELU,
LayerNorm epsilon 1e-12 in the blocks), whose weights convert one to one.

`VideoEncoder` is the reusable part for masked-autoencoder pre-training:
`VideoEncoder(...)(video, visible=idx)` embeds every tubelet, adds its
position, keeps only the tokens at `visible` [B, N_visible] (a static
count, so shapes stay fixed under jit) and encodes them, returning
[B, N_visible, D]. `sincos_table` gives the decoder the same positions.

Input video [B, T, H, W, 3]; output logits [B, num_classes], or the pooled
features [B, D] when num_classes == 0.
"""

from __future__ import annotations

from typing import Any, Sequence

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from vidjax.models.layers import Encoder, exact_gelu
from vidjax.models.vivit import TubeletEmbed

VARIANTS = {
    "tiny": dict(patch_size=(2, 4, 4), hidden_size=64, depth=2, num_heads=4,
                 mlp_dim=128),
    "S": dict(patch_size=(2, 16, 16), hidden_size=384, depth=12, num_heads=6,
              mlp_dim=1536),
    "B": dict(patch_size=(2, 16, 16), hidden_size=768, depth=12, num_heads=12,
              mlp_dim=3072),
    "L": dict(patch_size=(2, 16, 16), hidden_size=1024, depth=24,
              num_heads=16, mlp_dim=4096),
    "H": dict(patch_size=(2, 16, 16), hidden_size=1280, depth=32,
              num_heads=16, mlp_dim=5120),
}
# Position embeddings are fixed, recomputed for any clip: nothing to resize.
POSITION_EMBEDDINGS: dict[str, str] = {}


def sincos_table(num_tokens: int, dim: int) -> np.ndarray:
  """[num_tokens, dim]: sin on even, cos on odd channels (VideoMAE's table)."""
  pos = np.arange(num_tokens, dtype=np.float64)[:, None]
  j = np.arange(dim)
  angles = pos / np.power(10000, 2 * (j // 2) / dim)
  table = np.where(j % 2 == 0, np.sin(angles), np.cos(angles))
  return table.astype(np.float32)


class VideoEncoder(nn.Module):
  """Tubelets -> + sin-cos positions -> (visible subset) -> blocks [B, N, D]."""

  patch_size: Sequence[int] = (2, 16, 16)
  hidden_size: int = 768
  depth: int = 12
  num_heads: int = 12
  mlp_dim: int = 3072
  dropout_rate: float = 0.0
  layer_norm_eps: float = 1e-12
  final_norm: bool = False
  remat: bool = False
  dtype: Any = jnp.float32

  def embed(self, video: jax.Array) -> jax.Array:
    """[B, T, H, W, C] -> tokens with positions [B, N, D] (t, h, w order)."""
    x = TubeletEmbed(self.hidden_size, self.patch_size, self.dtype,
                     name="embed")(video.astype(self.dtype))
    x = x.reshape(x.shape[0], -1, self.hidden_size)
    pos = sincos_table(x.shape[1], self.hidden_size)
    return x + jnp.asarray(pos, x.dtype)

  @nn.compact
  def __call__(self, video: jax.Array, *, train: bool = False,
               visible: jax.Array | None = None) -> jax.Array:
    chex.assert_rank(video, 5)
    x = self.embed(video)
    if visible is not None:
      chex.assert_rank(visible, 2)
      x = jnp.take_along_axis(x, visible[..., None].astype(jnp.int32), axis=1)
    x = nn.Dropout(self.dropout_rate)(x, deterministic=not train)
    return Encoder(self.depth, self.num_heads, self.mlp_dim,
                   self.dropout_rate, self.remat, self.dtype,
                   layer_norm_eps=self.layer_norm_eps, activation=exact_gelu,
                   key_bias=False, final_norm=self.final_norm,
                   name="transformer")(x, train=train)


class Model(nn.Module):
  """VideoMAE ViT classifier; see the module docstring."""

  num_classes: int = 0
  patch_size: Sequence[int] = (2, 16, 16)
  hidden_size: int = 768
  depth: int = 12
  num_heads: int = 12
  mlp_dim: int = 3072
  dropout_rate: float = 0.0
  layer_norm_eps: float = 1e-12
  # Mean of the tokens then fc_norm (the fine-tuning recipe); False: a
  # final LayerNorm and the first token, as HF does without mean pooling.
  use_mean_pooling: bool = True
  fc_norm_eps: float = 1e-5
  remat: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, video: jax.Array, *, train: bool = False) -> jax.Array:
    x = VideoEncoder(self.patch_size, self.hidden_size, self.depth,
                     self.num_heads, self.mlp_dim, self.dropout_rate,
                     self.layer_norm_eps,
                     final_norm=not self.use_mean_pooling, remat=self.remat,
                     dtype=self.dtype, name="backbone")(video, train=train)
    if self.use_mean_pooling:
      x = nn.LayerNorm(epsilon=self.fc_norm_eps, dtype=self.dtype,
                       name="fc_norm")(jnp.mean(x, axis=1))
    else:
      x = x[:, 0]
    features = x.astype(jnp.float32)
    if not self.num_classes:
      return features
    features = nn.Dropout(self.dropout_rate)(features, deterministic=not train)
    return nn.Dense(self.num_classes, name="head")(features)
