"""Optax optimizers and learning-rate schedules from `config.optimizer`.

config.optimizer fields:
  name: "adamw" (default) or "sgd" (momentum, optionally Nesterov).
  learning_rate: peak learning rate.
  schedule: "warmup_cosine" (default), "warmup_linear" or "constant".
  warmup_steps: linear warm-up from 0 to the peak.
  end_learning_rate_factor: final rate as a fraction of the peak.
  weight_decay: decoupled weight decay, applied to kernels only (no biases,
    normalization scales, position embeddings or class tokens).
  b1, b2, eps: Adam moments; momentum, nesterov: SGD.
  grad_clip_norm: clip gradients to this global norm (0 disables).
"""

from __future__ import annotations

from typing import Any

import jax
import ml_collections
import optax

SCHEDULES = ("warmup_cosine", "warmup_linear", "constant")
OPTIMIZERS = ("adamw", "sgd")


def make_schedule(opt: ml_collections.ConfigDict,
                  num_steps: int) -> optax.Schedule:
  peak = opt.learning_rate
  warmup = min(opt.warmup_steps, max(num_steps - 1, 0))
  end = peak * opt.end_learning_rate_factor
  if opt.schedule == "constant":
    return optax.constant_schedule(peak)
  if opt.schedule == "warmup_cosine":
    return optax.warmup_cosine_decay_schedule(
        0.0, peak, warmup, max(num_steps, warmup + 1), end)
  if opt.schedule == "warmup_linear":
    return optax.join_schedules(
        [optax.linear_schedule(0.0, peak, warmup),
         optax.linear_schedule(peak, end, max(num_steps - warmup, 1))],
        [warmup])
  raise ValueError(f"config.optimizer.schedule must be one of {SCHEDULES}, "
                   f"got {opt.schedule!r}")


def decay_mask(params: Any) -> Any:
  """True for the leaves weight decay applies to: layer kernels."""
  def is_kernel(path, _):
    last = path[-1]
    return getattr(last, "key", getattr(last, "name", None)) == "kernel"
  return jax.tree_util.tree_map_with_path(is_kernel, params)


def make_optimizer(opt: ml_collections.ConfigDict, num_steps: int
                   ) -> tuple[optax.GradientTransformation, optax.Schedule]:
  """Returns the optimizer and its schedule (for logging the rate)."""
  schedule = make_schedule(opt, num_steps)
  if opt.name == "adamw":
    core = optax.adamw(schedule, b1=opt.b1, b2=opt.b2, eps=opt.eps,
                       weight_decay=opt.weight_decay, mask=decay_mask)
  elif opt.name == "sgd":
    core = optax.chain(
        optax.add_decayed_weights(opt.weight_decay, mask=decay_mask),
        optax.sgd(schedule, momentum=opt.momentum, nesterov=opt.nesterov))
  else:
    raise ValueError(f"config.optimizer.name must be one of {OPTIMIZERS}, "
                     f"got {opt.name!r}")
  if opt.grad_clip_norm > 0:
    core = optax.chain(optax.clip_by_global_norm(opt.grad_clip_norm), core)
  return core, schedule
