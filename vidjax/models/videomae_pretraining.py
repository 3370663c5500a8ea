"""VideoMAE's masked autoencoder: encoder on visible tubelets, light decoder.

Tong et al., "VideoMAE", NeurIPS 2022. The encoder is `videomae.VideoEncoder`
(named `backbone`, exactly as in `videomae.Model`, so a fine-tuning run with
`config.init_from` = the pretraining workdir finds its weights by name). It
encodes only the visible tokens (`visible` [B, N_vis], a static count, so the
step compiles once). The decoder projects them to a narrower width, appends a
learned mask token for every masked position, adds the fixed sin-cos
positions of each token, runs a few transformer blocks and predicts every
token's pixels; the outputs are put back in the original token order.

Tube masking itself (which tokens are visible) is the task's business
(`vidjax.tasks.masked_video`); the model takes the indices.

Input video [B, T, H, W, 3]; output [B, N, prod(patch_size) * 3]: predicted
pixels of every tubelet, in (t, h, w) token order, each tubelet flattened as
(pt, ph, pw, c) like `patchify`.
"""

from __future__ import annotations

from typing import Any, Sequence

import chex
import einops
import flax.linen as nn
import jax
import jax.numpy as jnp

from vidjax.models import videomae
from vidjax.models.layers import Encoder, exact_gelu

# Encoder sizes from videomae; the decoder is the paper's light one (4 blocks
# of width 384 for ViT-B, half the encoder's width and heads for smaller).
VARIANTS = {
    name: dict(v, decoder_hidden_size=max(32, v["hidden_size"] // 2),
               decoder_depth=1 if name == "tiny" else 4,
               decoder_num_heads=max(2, v["num_heads"] // 2))
    for name, v in videomae.VARIANTS.items()
}
VARIANTS["B"].update(decoder_hidden_size=384, decoder_depth=4,
                     decoder_num_heads=6)


def patchify(video: jax.Array, patch_size: Sequence[int]) -> jax.Array:
  """[B, T, H, W, C] -> [B, N, pt * ph * pw * C], tokens in (t, h, w) order."""
  pt, ph, pw = patch_size
  return einops.rearrange(
      video, "b (t pt) (h ph) (w pw) c -> b (t h w) (pt ph pw c)",
      pt=pt, ph=ph, pw=pw)


class Model(nn.Module):
  """VideoMAE pretraining network; see the module docstring."""

  patch_size: Sequence[int] = (2, 16, 16)
  hidden_size: int = 768
  depth: int = 12
  num_heads: int = 12
  mlp_dim: int = 3072
  decoder_hidden_size: int = 384
  decoder_depth: int = 4
  decoder_num_heads: int = 6
  dropout_rate: float = 0.0
  layer_norm_eps: float = 1e-12
  remat: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, video: jax.Array, *, train: bool = False,
               visible: jax.Array | None = None,
               masked: jax.Array | None = None) -> jax.Array:
    """visible [B, Nv] and masked [B, Nm] partition the N tokens (or None:
    every token is visible and none masked, a plain autoencoder)."""
    chex.assert_rank(video, 5)
    b = video.shape[0]
    grid = [s // p for s, p in zip(video.shape[1:4], self.patch_size)]
    n = grid[0] * grid[1] * grid[2]
    if visible is None:
      visible = jnp.broadcast_to(jnp.arange(n), (b, n))
      masked = jnp.zeros((b, 0), jnp.int32)
    visible = visible.astype(jnp.int32)
    masked = masked.astype(jnp.int32)
    chex.assert_equal(visible.shape[1] + masked.shape[1], n)

    x = videomae.VideoEncoder(
        self.patch_size, self.hidden_size, self.depth, self.num_heads,
        self.mlp_dim, self.dropout_rate, self.layer_norm_eps,
        final_norm=False, remat=self.remat, dtype=self.dtype,
        name="backbone")(video, train=train, visible=visible)
    x = nn.LayerNorm(epsilon=1e-6, dtype=self.dtype, name="encoder_norm")(x)
    x = nn.Dense(self.decoder_hidden_size, use_bias=False, dtype=self.dtype,
                 name="encoder_to_decoder")(x)

    pos = jnp.asarray(videomae.sincos_table(n, self.decoder_hidden_size),
                      x.dtype)
    mask_token = self.param("mask_token", nn.initializers.normal(0.02),
                            (1, 1, self.decoder_hidden_size))
    order = jnp.concatenate([visible, masked], axis=1)  # [B, N]
    tokens = jnp.concatenate(
        [x, jnp.broadcast_to(mask_token.astype(x.dtype),
                             (b, masked.shape[1], self.decoder_hidden_size))],
        axis=1) + pos[order]
    y = Encoder(self.decoder_depth, self.decoder_num_heads,
                4 * self.decoder_hidden_size, self.dropout_rate, self.remat,
                self.dtype, layer_norm_eps=1e-6, activation=exact_gelu,
                key_bias=False, final_norm=True,
                name="decoder")(tokens, train=train)
    patch_dim = 3 * self.patch_size[0] * self.patch_size[1] * self.patch_size[2]
    y = nn.Dense(patch_dim, dtype=self.dtype, name="decoder_head")(y)
    # Back to token order: token order[i] sits at row i of y.
    inverse = jnp.argsort(order, axis=1)
    return jnp.take_along_axis(y, inverse[..., None], axis=1).astype(
        jnp.float32)
