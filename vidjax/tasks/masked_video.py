"""Masked video autoencoding (VideoMAE pretraining): tube masking, pixel loss.

config.task:
  mask_ratio: fraction of each frame's tubelet positions hidden (0.9). The
    same spatial positions are hidden in every temporal slice (tube
    masking), so the number of visible tokens is fixed by the clip shape
    and the step compiles once.
  norm_pix_loss: regress each tubelet's pixels normalized by their own mean
    and standard deviation, per channel (the paper's default), rather than
    the raw normalized pixels.

Model: `vidjax.models.videomae_pretraining` (config.model.name), whose
encoder is named `backbone` like `videomae.Model`'s: a classification run
with config.init_from = this workdir starts from the pretrained encoder.

Batch keys: `video` [B, T, H, W, 3] (labels are not read). Evaluation
reports the masked reconstruction loss on the evaluation split with a fixed
mask, and at the end of the run a linear probe and k-NN accuracy on the
frozen encoder's features (`vidjax.train.representation`).
"""

from __future__ import annotations

from typing import Any

import chex
import jax
import jax.numpy as jnp

from vidjax.models import videomae
from vidjax.models import videomae_pretraining
from vidjax.tasks import base
from vidjax.train import representation


def num_visible_per_slice(grid: tuple[int, int, int], mask_ratio: float
                          ) -> int:
  """Visible spatial positions per temporal slice (at least one)."""
  hw = grid[1] * grid[2]
  return max(1, min(hw, int(round(hw * (1.0 - mask_ratio)))))


def tube_mask(rng: jax.Array, batch: int, grid: tuple[int, int, int],
              mask_ratio: float) -> tuple[jax.Array, jax.Array]:
  """Random tube masks: (visible [B, Nv], masked [B, N - Nv]) token indices.

  Tokens are numbered t * (h * w) + s for spatial position s. Each example
  draws one set of hidden spatial positions, hidden at every t. Both index
  arrays are sorted; their shapes depend only on the arguments.
  """
  t, h, w = grid
  hw = h * w
  keep = num_visible_per_slice(grid, mask_ratio)
  noise = jax.random.uniform(rng, (batch, hw))
  perm = jnp.argsort(noise, axis=1)  # a random permutation per example
  spatial_vis = jnp.sort(perm[:, :keep], axis=1)
  spatial_mask = jnp.sort(perm[:, keep:], axis=1)
  offsets = (jnp.arange(t) * hw)[None, :, None]
  visible = (offsets + spatial_vis[:, None, :]).reshape(batch, t * keep)
  masked = (offsets + spatial_mask[:, None, :]).reshape(batch,
                                                        t * (hw - keep))
  return visible.astype(jnp.int32), masked.astype(jnp.int32)


def token_mask(masked: jax.Array, num_tokens: int) -> jax.Array:
  """[B, N] float: 1 at the masked token indices, 0 elsewhere."""
  return jnp.sum(jax.nn.one_hot(masked, num_tokens), axis=1)


def normalize_patches(patches: jax.Array, num_channels: int = 3,
                      eps: float = 1e-6) -> jax.Array:
  """Each patch [..., P * C] standardized per channel over its P pixels.

  As VideoMAE's `norm_target`: unbiased variance, eps added to the std.
  """
  shape = patches.shape
  x = patches.reshape(shape[:-1] + (-1, num_channels))
  mean = jnp.mean(x, axis=-2, keepdims=True)
  var = jnp.var(x, axis=-2, keepdims=True, ddof=1)
  return ((x - mean) / (jnp.sqrt(var) + eps)).reshape(shape)


def masked_patch_loss(prediction: jax.Array, target: jax.Array,
                      mask: jax.Array) -> jax.Array:
  """Per-example mean squared error over the masked tokens only, [B].

  prediction, target: [B, N, P]; mask: [B, N], 1 where a token was masked.
  Predictions of visible tokens do not enter the loss.
  """
  chex.assert_equal_shape([prediction, target])
  per_token = jnp.mean(jnp.square(prediction - target), axis=-1)
  return jnp.sum(per_token * mask, axis=1) / jnp.maximum(
      jnp.sum(mask, axis=1), 1.0)


class Task(base.Task):
  train_keys = ("video",)
  eval_keys = ("video", "mask")
  best_metric = "loss"
  best_mode = "min"

  @property
  def patch_size(self) -> tuple[int, int, int]:
    return tuple(self.model.patch_size)

  def grid(self, video_shape) -> tuple[int, int, int]:
    dims = video_shape[-4:-1]
    for d, p in zip(dims, self.patch_size):
      if d % p:
        raise ValueError(f"clip shape {tuple(dims)} is not divisible by the "
                         f"tubelet size {self.patch_size} (config.data / "
                         "config.model.patch_size)")
    return tuple(d // p for d, p in zip(dims, self.patch_size))

  def targets(self, video: jax.Array) -> jax.Array:
    patches = videomae_pretraining.patchify(video, self.patch_size)
    if self.config.task.norm_pix_loss:
      patches = normalize_patches(patches, video.shape[-1])
    return patches

  def reconstruction_loss(self, params, video, rng, *, train: bool,
                          dropout_rng=None) -> jax.Array:
    """Per-example masked loss [B] with a fresh tube mask from `rng`."""
    b = video.shape[0]
    grid = self.grid(video.shape)
    n = grid[0] * grid[1] * grid[2]
    visible, masked = tube_mask(rng, b, grid, self.config.task.mask_ratio)
    prediction = self.model.apply(
        {"params": params}, video, train=train, visible=visible,
        masked=masked,
        rngs={"dropout": dropout_rng} if dropout_rng is not None else {})
    return masked_patch_loss(prediction, self.targets(video),
                             token_mask(masked, n))

  def loss(self, params, model_state, batch, rng):
    mask_rng, dropout_rng = jax.random.split(rng)
    per_example = self.reconstruction_loss(params, batch["video"], mask_rng,
                                           train=True,
                                           dropout_rng=dropout_rng)
    # Every example has the same number of masked tokens, so the mean over
    # examples is the mean over all masked tokens of the batch.
    return jnp.mean(per_example), ({}, model_state)

  def eval_step(self, state, batch, rng):
    # The same mask for every evaluation: fold in nothing but the seed.
    del rng
    per_example = self.reconstruction_loss(
        self.eval_params(state), batch["video"],
        jax.random.key(self.config.seed), train=False)
    mask = batch["mask"]
    return {"count": jnp.sum(mask),
            "loss": jnp.sum(per_example * mask)}, {"loss": per_example}

  def finalize_eval(self, sums):
    n = max(float(sums["count"]), 1.0)
    return {"loss": float(sums["loss"]) / n,
            "num_videos": float(sums["count"])}

  # -- frozen-feature evaluation ---------------------------------------------

  def encoder(self) -> videomae.VideoEncoder:
    m = self.model
    return videomae.VideoEncoder(m.patch_size, m.hidden_size, m.depth,
                                 m.num_heads, m.mlp_dim, 0.0,
                                 m.layer_norm_eps, final_norm=False,
                                 dtype=m.dtype)

  def features(self, params: Any, model_state: Any,
               video: jax.Array) -> jax.Array:
    """[B, D]: the mean of the encoder's tokens over the whole clip."""
    del model_state
    tokens = self.encoder().apply({"params": params["backbone"]}, video,
                                  train=False)
    return jnp.mean(tokens, axis=1)

  def end_of_run(self, state) -> dict[str, Any]:
    return representation.evaluate_task_features(self, state)

