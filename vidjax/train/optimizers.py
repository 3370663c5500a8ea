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
  finetune: which parameters train (transfer learning, see `layer_ids`):
    "full" (all), "linear_probe" (only the classifier `head` and `fc_norm`),
    "last_k" (the last `finetune_last_k` blocks and the head), or
    "layer_decay" (all, the learning rate of block i of N scaled by
    layer_decay ** (N + 1 - i): BEiT/VideoMAE's layer-wise decay).
    Frozen parameters go through `optax.set_to_zero` inside
    `optax.multi_transform`, so they hold no optimizer state.
  finetune_last_k: blocks trained in "last_k" mode.
  layer_decay: per-block learning-rate factor in "layer_decay" mode.
"""

from __future__ import annotations

import re
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import optax

SCHEDULES = ("warmup_cosine", "warmup_linear", "constant")
OPTIMIZERS = ("adamw", "sgd")
FINETUNE_MODES = ("full", "linear_probe", "last_k", "layer_decay")


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


# -- which block a parameter belongs to ------------------------------------------
#
# Every model family names its repeated units so one rule finds them:
# `block{i}` (transformers), `layer{stage}_{i}` (ResNets; SlowFast's
# slow_/fast_ pathways share a depth), C3D's `conv{n}{a|b}`/`fc{n}`,
# SlowFast's `lateral{i}` (after stage i), LRCN's `lstm` (after the CNN).
# ViViT's factorised encoder runs its spatial then its temporal encoder.
# The classifier is `head` (and VideoMAE's `fc_norm`); everything before the
# first block (stems, patch embeddings, position embeddings) is layer 0.

HEAD_NAMES = ("head", "fc_norm")
_ENCODER_RANK = {"spatial_encoder": 0, "temporal_encoder": 1}
_BLOCK = re.compile(r"(?:^|_)(?:block|layer)(\d+)(?:_(\d+))?$")
_C3D = re.compile(r"^(?:conv|fc)(\d+)([ab]?)$")
_LATERAL = re.compile(r"^lateral(\d+)")
_AFTER = 10 ** 6


def _path_names(path) -> tuple[str, ...]:
  return tuple(str(getattr(k, "key", getattr(k, "name", k))) for k in path)


def _layer_key(names: tuple[str, ...]):
  """("head",), ("stem",), ("block", key) or ("post", key); keys sort in
  the order the network applies them."""
  if names[0] in HEAD_NAMES:
    return ("head",)
  if names[0] in ("temporal_cls", "temporal_pos_embed"):
    return ("block", (1, 0, 0))  # enters ViViT's temporal encoder
  rank = 0
  for n in names:
    rank = _ENCODER_RANK.get(n, rank)
    if (m := _BLOCK.search(n)):
      return ("block", (rank, int(m.group(1)), int(m.group(2) or 0)))
    if (m := _C3D.match(n)):
      sub = ord(m.group(2)) - ord("a") + 1 if m.group(2) else 0
      return ("block", (rank, int(m.group(1)), sub))
    if (m := _LATERAL.match(n)):
      return ("block", (rank, int(m.group(1)), _AFTER))
    if n == "lstm":
      return ("block", (rank, _AFTER, 0))
  if len(names) >= 2 and names[-2] == "norm":
    return ("post", (rank, _AFTER, 0))  # an encoder's final LayerNorm
  return ("stem",)


def layer_ids(params: Any) -> tuple[Any, int]:
  """(tree of int layer ids like params, N): 0 for the stem, 1..N for the
  blocks in order, N + 1 for the head and whatever follows the last block
  (final norms), as in BEiT/VideoMAE's `get_num_layer_for_vit`."""
  keys = jax.tree_util.tree_map_with_path(
      lambda p, _: _layer_key(_path_names(p)), params)
  leaves = jax.tree.leaves(keys, is_leaf=lambda x: isinstance(x, tuple))
  ordered = sorted({k[1] for k in leaves if k[0] in ("block", "post")})
  while ordered and any(k == ("post", ordered[-1]) for k in leaves) and \
      not any(k == ("block", ordered[-1]) for k in leaves):
    ordered.pop()  # trailing final norms belong with the head
  index = {k: i + 1 for i, k in enumerate(ordered)}
  n = len(ordered)

  def to_id(key):
    if key[0] == "stem":
      return 0
    if key[0] in ("block", "post") and key[1] in index:
      return index[key[1]]
    return n + 1
  ids = jax.tree.map(to_id, keys, is_leaf=lambda x: isinstance(x, tuple))
  return ids, n


def finetune_labels(opt: ml_collections.ConfigDict, params: Any) -> Any:
  """"train" or "frozen" per parameter, for config.optimizer.finetune."""
  if opt.finetune == "linear_probe":
    # The classifier alone: the encoder's final norm stays frozen too.
    return jax.tree_util.tree_map_with_path(
        lambda p, _: "train" if _path_names(p)[0] in HEAD_NAMES else "frozen",
        params)
  ids, n = layer_ids(params)
  if opt.finetune == "last_k":
    if opt.finetune_last_k < 0:
      raise ValueError("config.optimizer.finetune_last_k must be >= 0, got "
                       f"{opt.finetune_last_k}")
    first = n + 1 - opt.finetune_last_k
  else:
    first = 0
  return jax.tree.map(lambda i: "train" if i >= first else "frozen", ids)


def scale_by_layer_decay(decay: float) -> optax.GradientTransformation:
  """Multiplies the update of a layer-i parameter by decay ** (N + 1 - i)."""
  def update_fn(updates, state, params=None):
    del params
    ids, n = layer_ids(updates)
    updates = jax.tree.map(
        lambda u, i: u * jnp.asarray(decay ** (n + 1 - i), u.dtype),
        updates, ids)
    return updates, state
  return optax.GradientTransformation(lambda _: optax.EmptyState(),
                                      update_fn)


def make_optimizer(opt: ml_collections.ConfigDict, num_steps: int
                   ) -> tuple[optax.GradientTransformation, optax.Schedule]:
  """Returns the optimizer and its schedule (for logging the rate)."""
  mode = opt.get("finetune", "full")
  if mode not in FINETUNE_MODES:
    raise ValueError(f"config.optimizer.finetune must be one of "
                     f"{FINETUNE_MODES}, got {mode!r}")
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
  if mode == "layer_decay":
    # Scaling the final update scales the decoupled weight decay too, as a
    # per-group learning rate does in the reference recipe.
    core = optax.chain(core, scale_by_layer_decay(opt.layer_decay))
  if opt.grad_clip_norm > 0:
    core = optax.chain(optax.clip_by_global_norm(opt.grad_clip_norm), core)
  if mode in ("linear_probe", "last_k"):
    # Clipping inside the trained partition: frozen gradients do not count
    # towards the global norm.
    core = optax.multi_transform(
        {"train": core, "frozen": optax.set_to_zero()},
        lambda params: finetune_labels(opt, params))
  return core, schedule
