"""Contrastive video pretraining (SimCLR / CVRL style InfoNCE).

Each training example holds two clips of one video, sampled at independent
times and augmented independently, each consistently over its frames
(`config.data.train_views = 2`: `video` is [B, 2, T, H, W, 3]). Both go
through the backbone (`config.model`, pooled features) and an MLP
projection head; the loss is NT-Xent (normalized temperature-scaled cross
entropy) over the 2B embeddings of the global batch: each clip's positive
is the other clip of its video, its negatives are the 2B - 2 clips of every
other video on every device. Under `jax.jit` with the batch sharded over
devices, the similarity matrix of the global batch is formed by XLA's
collectives, so the loss is the same on 1 or 8 devices.

config.task:
  temperature: softmax temperature of the cosine similarities (0.1).
  projection_hidden, projection_dim: projection head sizes.

Evaluation: the same loss on two evenly spaced clips of each test video
(`config.data.eval_clips = 2`, padding excluded from the negatives) and
the accuracy of picking the positive among all clips; at the end of the
run, linear probe and k-NN accuracy of the frozen backbone features.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp

from vidjax.tasks import pretext


def nt_xent(z1: jax.Array, z2: jax.Array, temperature: float,
            valid: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
  """Per-clip InfoNCE loss [2B] and whether the positive ranked first [2B].

  z1, z2: [B, E] embeddings of the two clips of each video (normalized
  here). valid: [B] (1 real, 0 padding); padding is never a negative.
  """
  chex.assert_equal_shape([z1, z2])
  b = z1.shape[0]
  z = jnp.concatenate([z1, z2], axis=0).astype(jnp.float32)
  z = z / jnp.maximum(jnp.linalg.norm(z, axis=1, keepdims=True), 1e-12)
  logits = z @ z.T / temperature  # [2B, 2B]
  exclude = jnp.eye(2 * b, dtype=bool)
  if valid is not None:
    v = jnp.concatenate([valid, valid]) > 0
    exclude = exclude | ~v[None, :]
  logits = jnp.where(exclude, -jnp.inf, logits)
  positive = jnp.concatenate([jnp.arange(b) + b, jnp.arange(b)])
  log_probs = jax.nn.log_softmax(logits, axis=1)
  loss = -jnp.take_along_axis(log_probs, positive[:, None], axis=1)[:, 0]
  correct = jnp.argmax(logits, axis=1) == positive
  return loss, correct


class Task(pretext.FeatureTask):
  train_keys = ("video",)
  eval_keys = ("video", "mask")
  best_metric = "loss"
  best_mode = "min"

  def make_heads(self):
    t = self.config.task
    return {"projection": pretext.MLPHead(t.projection_hidden,
                                          t.projection_dim)}

  def _embed_pairs(self, params, model_state, video, *, train, rng=None):
    if video.ndim != 6 or video.shape[1] != 2:
      raise ValueError(
          f"contrastive learning needs two clips per video, [B, 2, T, H, W, "
          f"3], got {video.shape}; set config.data.train_views=2 and "
          "config.data.eval_clips=2")
    b = video.shape[0]
    flat = jnp.concatenate([video[:, 0], video[:, 1]], axis=0)
    features, model_state = self.backbone_features(
        params, model_state, flat, train=train, rng=rng)
    z = self.head(params, "projection", features)
    return z[:b], z[b:], model_state

  def loss(self, params, model_state, batch, rng):
    z1, z2, model_state = self._embed_pairs(params, model_state,
                                            batch["video"], train=True,
                                            rng=rng)
    loss, correct = nt_xent(z1, z2, self.config.task.temperature)
    return jnp.mean(loss), ({"positive_top1": jnp.mean(correct)},
                            model_state)

  def eval_step(self, state, batch, rng):
    del rng
    z1, z2, _ = self._embed_pairs(self.eval_params(state), state.model_state,
                                  batch["video"], train=False)
    mask = batch["mask"]
    loss, correct = nt_xent(z1, z2, self.config.task.temperature, mask)
    both = jnp.concatenate([mask, mask])
    return {"count": jnp.sum(both),
            "loss": jnp.sum(jnp.where(both > 0, loss, 0.0)),
            "positive_top1": jnp.sum(correct * both)}, {}

  def finalize_eval(self, sums):
    n = max(float(sums["count"]), 1.0)
    return {"loss": float(sums["loss"]) / n,
            "positive_top1": float(sums["positive_top1"]) / n,
            "num_clips": float(sums["count"])}
