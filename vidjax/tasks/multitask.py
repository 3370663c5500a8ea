"""Multi-task classification: one shared backbone, one linear head per label.

config.task:
  heads: {label name: number of classes}. "label" is the action class
    (batch key `label`); any other name reads batch key `label_<name>`
    (list it in config.data.label_keys; the synthetic source provides
    `shape`, `count` (objects - 1) and `motion_axis`).
  main: the head whose top-1 picks the best checkpoint (and is `top1`).
  weighting: how the per-task cross-entropies L_i combine:
    "fixed": sum_i weights[i] * L_i (config.task.weights, default 1 each).
    "uncertainty": Kendall, Gal & Cipolla (CVPR 2018): a learned log
      variance s_i per task (parameters `extra/log_vars/<name>`, trained by
      the same optimizer); loss sum_i exp(-s_i) L_i + s_i / 2, the
      classification form 1/sigma^2 L + log sigma.
    "gradnorm": Chen et al. (ICML 2018): learned weights w = T softmax(a)
      (parameters `extra/gradnorm/<name>`; positive and summing to T, the
      paper's renormalization built in). The network trains on
      sum_i w_i L_i with w held fixed; w alone trains on
      sum_i |G_i - mean(G) r_i^alpha|, where G_i = w_i ||dL_i/df|| is the
      gradient norm at the shared features f (the output of the last
      shared layer, as the paper suggests for speed) and r_i the task's
      relative inverse training rate L_i / L_i(0), normalized to mean 1.
      L_i(0) is taken as log(num_classes_i), the loss of the uniform
      prediction a fresh head starts from, so no state is needed.
  weights: fixed weights, {name: weight}.
  gradnorm_alpha: GradNorm's asymmetry (1.5 in the paper).

Train metrics carry each task's accuracy and current weight; evaluation
reports `top1_<name>` and `loss_<name>` for every head and `top1` of the
main one.
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from vidjax.tasks import pretext

WEIGHTINGS = ("fixed", "uncertainty", "gradnorm")


def label_key(name: str) -> str:
  return "label" if name == "label" else f"label_{name}"


class Task(pretext.FeatureTask):
  best_metric = "top1"
  best_mode = "max"

  def __init__(self, config, info, num_train_steps):
    heads = dict(config.task.heads)
    if config.task.main not in heads:
      raise ValueError(f"config.task.main={config.task.main!r} is not one of "
                       f"config.task.heads {sorted(heads)}")
    if config.task.weighting not in WEIGHTINGS:
      raise ValueError(f"config.task.weighting must be one of {WEIGHTINGS}, "
                       f"got {config.task.weighting!r}")
    self.names = tuple(sorted(heads))
    self.num_classes = {n: int(heads[n]) for n in self.names}
    labels = tuple(label_key(n) for n in self.names)
    self.train_keys = ("video",) + labels
    self.eval_keys = ("video", "mask") + labels
    super().__init__(config, info, num_train_steps)

  def make_heads(self):
    return {n: nn.Dense(k, name=n) for n, k in self.num_classes.items()}

  def init_extra(self):
    weighting = self.config.task.weighting
    zeros = {n: jnp.zeros((), jnp.float32) for n in self.names}
    if weighting == "uncertainty":
      return {"log_vars": zeros}
    if weighting == "gradnorm":
      return {"gradnorm": zeros}
    return {}

  def task_weights(self, params) -> dict[str, jax.Array]:
    """Current weight of each task's loss (for logging and combining)."""
    weighting = self.config.task.weighting
    if weighting == "uncertainty":
      return {n: jnp.exp(-params[pretext.EXTRA]["log_vars"][n])
              for n in self.names}
    if weighting == "gradnorm":
      logits = jnp.stack([params[pretext.EXTRA]["gradnorm"][n]
                          for n in self.names])
      w = len(self.names) * jax.nn.softmax(logits)
      return {n: w[i] for i, n in enumerate(self.names)}
    fixed = dict(self.config.task.get("weights") or {})
    return {n: jnp.asarray(fixed.get(n, 1.0), jnp.float32)
            for n in self.names}

  def _task_losses(self, params, features, batch):
    losses, logits = {}, {}
    for n in self.names:
      logits[n] = self.head(params, n, features)
      losses[n] = optax.softmax_cross_entropy_with_integer_labels(
          logits[n], batch[label_key(n)])
    return losses, logits

  def combine(self, params, features, losses, batch) -> jax.Array:
    """The scalar training loss from per-task mean losses; see above."""
    weighting = self.config.task.weighting
    weights = self.task_weights(params)
    if weighting == "fixed":
      return sum(weights[n] * losses[n] for n in self.names)
    if weighting == "uncertainty":
      log_vars = params[pretext.EXTRA]["log_vars"]
      return sum(weights[n] * losses[n] + 0.5 * log_vars[n]
                 for n in self.names)
    # GradNorm.
    alpha = self.config.task.gradnorm_alpha
    frozen = jax.lax.stop_gradient(features)
    norms = {}
    for n in self.names:
      def head_loss(f, n=n):
        return optax.softmax_cross_entropy_with_integer_labels(
            self.head(params, n, f), batch[label_key(n)]).mean()
      grad_f = jax.grad(head_loss)(frozen)
      norms[n] = jax.lax.stop_gradient(jnp.linalg.norm(grad_f))
    g = {n: weights[n] * norms[n] for n in self.names}
    mean_g = sum(g.values()) / len(g)
    rel = {n: jax.lax.stop_gradient(losses[n]) /
           math.log(self.num_classes[n]) for n in self.names}
    mean_rel = sum(rel.values()) / len(rel)
    gradnorm = sum(jnp.abs(g[n] - jax.lax.stop_gradient(
        mean_g * (rel[n] / mean_rel) ** alpha)) for n in self.names)
    fixed_w = jax.lax.stop_gradient(weights)
    return sum(fixed_w[n] * losses[n] for n in self.names) + gradnorm

  def loss(self, params, model_state, batch, rng):
    features, model_state = self.backbone_features(
        params, model_state, batch["video"], train=True, rng=rng)
    per_example, logits = self._task_losses(params, features, batch)
    losses = {n: jnp.mean(v) for n, v in per_example.items()}
    total = self.combine(params, features, losses, batch)
    weights = self.task_weights(params)
    metrics = {}
    for n in self.names:
      metrics[f"loss_{n}"] = losses[n]
      metrics[f"top1_{n}"] = jnp.mean(
          jnp.argmax(logits[n], -1) == batch[label_key(n)])
      metrics[f"weight_{n}"] = weights[n]
    return total, (metrics, model_state)

  def eval_step(self, state, batch, rng):
    del rng
    params = self.eval_params(state)
    features = self.features(params, state.model_state, batch["video"])
    per_example, logits = self._task_losses(params, features, batch)
    mask = batch["mask"]
    sums = {"count": jnp.sum(mask)}
    for n in self.names:
      sums[f"loss_{n}"] = jnp.sum(per_example[n] * mask)
      sums[f"top1_{n}"] = jnp.sum(
          (jnp.argmax(logits[n], -1) == batch[label_key(n)]) * mask)
    return sums, {}

  def finalize_eval(self, sums):
    n = max(float(sums["count"]), 1.0)
    out = {k: float(v) / n for k, v in sums.items() if k != "count"}
    out["top1"] = out[f"top1_{self.config.task.main}"]
    out["num_videos"] = float(sums["count"])
    return out
