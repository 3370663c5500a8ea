"""Predictive pretext task: is this clip in temporal order? (light baseline)

Each clip is, with probability 1/2, altered in time and the backbone with a
small head learns to tell which. config.task.mode chooses the alteration:

  "shuffle": frames randomly permuted (Misra et al. 2016, "Shuffle and
    Learn", as a binary ordered-vs-shuffled decision). Ordered clips show
    smooth motion, shuffled ones jump; it is decidable on any moving video.
  "arrow": frames reversed (arrow of time, Wei et al. 2018). Only decidable
    when reversed motion is unnatural. On the synthetic motion data every
    class reversed is another class (left <-> right, grow <-> shrink), so
    the arrow of time there is unknowable and this mode stays at chance:
    use "shuffle".

config.task: mode, head_hidden (the MLP head's width).

Batch keys: `video` [B, T, H, W, 3]. Evaluation reports the pretext
accuracy on the test split with a fixed draw; at the end of the run, a
linear probe and k-NN accuracy of the frozen backbone features.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from vidjax.tasks import pretext

MODES = ("shuffle", "arrow")


def alter_time(rng: jax.Array, video: jax.Array, mode: str
               ) -> tuple[jax.Array, jax.Array]:
  """(clips [B, T, ...], altered [B] int32): half the clips, at random,
  shuffled or reversed in time."""
  b, t = video.shape[:2]
  flip_rng, perm_rng = jax.random.split(rng)
  altered = jax.random.bernoulli(flip_rng, 0.5, (b,))
  if mode == "arrow":
    order = jnp.broadcast_to(jnp.arange(t)[::-1], (b, t))
  elif mode == "shuffle":
    # A random permutation per clip, never the identity nor the reversal
    # (both are smooth): rotate a sorted order if it came out monotonic.
    order = jnp.argsort(jax.random.uniform(perm_rng, (b, t)), axis=1)
    steps = jnp.diff(order, axis=1)
    monotonic = jnp.all(steps == 1, axis=1) | jnp.all(steps == -1, axis=1)
    swapped = order.at[:, 0].set(order[:, 1]).at[:, 1].set(order[:, 0])
    order = jnp.where(monotonic[:, None], swapped, order)
  else:
    raise ValueError(f"config.task.mode must be one of {MODES}, got {mode!r}")
  order = jnp.where(altered[:, None], order, jnp.arange(t)[None])
  index = order.reshape((b, t) + (1,) * (video.ndim - 2))
  return jnp.take_along_axis(video, index, axis=1), altered.astype(jnp.int32)


class Task(pretext.FeatureTask):
  train_keys = ("video",)
  eval_keys = ("video", "mask")
  best_metric = "accuracy"
  best_mode = "max"

  def make_heads(self):
    return {"order": pretext.MLPHead(self.config.task.head_hidden, 2)}

  def _logits(self, params, model_state, video, rng, *, train,
              dropout_rng=None):
    clips, altered = alter_time(rng, video, self.config.task.mode)
    features, model_state = self.backbone_features(
        params, model_state, clips, train=train, rng=dropout_rng)
    return self.head(params, "order", features), altered, model_state

  def loss(self, params, model_state, batch, rng):
    alter_rng, dropout_rng = jax.random.split(rng)
    logits, altered, model_state = self._logits(
        params, model_state, batch["video"], alter_rng, train=True,
        dropout_rng=dropout_rng)
    loss = optax.softmax_cross_entropy_with_integer_labels(logits,
                                                           altered).mean()
    accuracy = jnp.mean(jnp.argmax(logits, -1) == altered)
    return loss, ({"accuracy": accuracy}, model_state)

  def eval_step(self, state, batch, rng):
    del rng
    logits, altered, _ = self._logits(
        self.eval_params(state), state.model_state, batch["video"],
        jax.random.key(self.config.seed), train=False)
    mask = batch["mask"]
    ce = optax.softmax_cross_entropy_with_integer_labels(logits, altered)
    return {"count": jnp.sum(mask), "loss": jnp.sum(ce * mask),
            "accuracy": jnp.sum((jnp.argmax(logits, -1) == altered) * mask)
            }, {}

  def finalize_eval(self, sums):
    n = max(float(sums["count"]), 1.0)
    return {"loss": float(sums["loss"]) / n,
            "accuracy": float(sums["accuracy"]) / n,
            "num_videos": float(sums["count"])}
