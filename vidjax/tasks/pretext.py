"""Tasks built on one backbone's pooled features and small heads on top.

`FeatureTask` builds `config.model` without a classifier (num_classes=0,
features [B, D]) and the heads a subclass lists (`make_heads`). The
parameters are one dict: the backbone's own top-level entries (for
`videomae`: `backbone`, `fc_norm`) next to `heads/<name>`, so a
classification run with `config.init_from` = this workdir finds the
backbone's weights under the same names and ignores the heads. Extra
learned parameters (multi-task loss weights) go under `extra`.

Used by the contrastive and frame-order pretraining tasks (whose end of run
reports a linear probe and k-NN accuracy of the frozen features) and by the
multi-task classifier.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from vidjax import models
from vidjax.tasks import base
from vidjax.train import representation
from vidjax.train.state import TrainState

HEADS = "heads"
EXTRA = "extra"


class MLPHead(nn.Module):
  """Dense -> (BatchNorm-free) ReLU -> Dense; [B, D] -> [B, out]."""

  hidden: int
  out: int

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    x = nn.relu(nn.Dense(self.hidden, name="fc1")(x))
    return nn.Dense(self.out, name="fc2")(x)


class FeatureTask(base.Task):
  """A backbone with named heads on its pooled features."""

  def build_model(self) -> nn.Module:
    return models.build(self.config.model, num_classes=0)

  def make_heads(self) -> dict[str, nn.Module]:
    raise NotImplementedError

  def init_extra(self) -> dict[str, jax.Array]:
    """Learned parameters besides the backbone and heads (none by default)."""
    return {}

  @property
  def heads(self) -> dict[str, nn.Module]:
    if not hasattr(self, "_heads"):
      self._heads = self.make_heads()
    return self._heads

  def init_state(self, rng: jax.Array, batch: base.Batch) -> TrainState:
    video = batch["video"]
    if video.ndim == 6:  # several views: initialise on the first
      video = video[:, 0]
    backbone_rng, head_rng = jax.random.split(rng)
    variables = dict(self.model.init({"params": backbone_rng,
                                      "dropout": backbone_rng},
                                     video, train=False))
    params = dict(variables.pop("params"))
    for name in (HEADS, EXTRA):
      if name in params:
        raise ValueError(f"model {self.config.model.name!r} has a top-level "
                         f"parameter {name!r}, which FeatureTask reserves")
    features = jax.eval_shape(
        lambda: self.model.apply({"params": params, **variables}, video,
                                 train=False))
    x = jnp.zeros(features.shape, jnp.float32)
    params[HEADS] = {
        name: head.init(jax.random.fold_in(head_rng, i), x)["params"]
        for i, (name, head) in enumerate(sorted(self.heads.items()))}
    extra = self.init_extra()
    if extra:
      params[EXTRA] = extra
    return TrainState.create(params=params, tx=self.tx,
                             model_state=variables,
                             ema=self.config.train.ema_decay > 0)

  @staticmethod
  def backbone_params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k not in (HEADS, EXTRA)}

  def backbone_features(self, params, model_state, video, *, train: bool,
                        rng: jax.Array | None = None
                        ) -> tuple[jax.Array, Any]:
    """Pooled features [B, D] (float32) and the updated model state."""
    return self.apply_model(self.backbone_params(params), model_state, video,
                            train=train, rng=rng)

  def head(self, params, name: str, features: jax.Array) -> jax.Array:
    return self.heads[name].apply({"params": params[HEADS][name]}, features)

  def features(self, params, model_state, video) -> jax.Array:
    """Frozen features for the linear probe / k-NN: [B, D]."""
    return self.backbone_features(params, model_state, video, train=False)[0]

  def end_of_run(self, state) -> dict[str, Any]:
    return representation.evaluate_task_features(self, state)
