"""The train state: everything a step changes, as one pytree."""

from __future__ import annotations

from typing import Any

import flax.struct
import jax
import optax


@flax.struct.dataclass
class TrainState:
  """step, parameters, optimizer state and non-trained model collections.

  `params` and `opt_state` are whatever pytrees the task uses: one model's
  parameters, or a dict of several (a GAN's generator and discriminator).
  `model_state` holds the other Flax collections (BatchNorm statistics).
  `ema_params` is an exponential moving average of `params`, or None.
  `tx` is static: it is rebuilt from the config, never checkpointed.
  """

  step: jax.Array
  params: Any
  opt_state: Any
  model_state: Any
  ema_params: Any = None
  tx: optax.GradientTransformation = flax.struct.field(pytree_node=False,
                                                        default=None)

  @classmethod
  def create(cls, *, params: Any, tx: optax.GradientTransformation,
             model_state: Any = None, ema: bool = False) -> "TrainState":
    return cls(step=jax.numpy.zeros((), jax.numpy.int32), params=params,
               opt_state=tx.init(params), model_state=model_state or {},
               ema_params=params if ema else None, tx=tx)

  def apply_gradients(self, grads: Any, **changes) -> tuple["TrainState", Any]:
    """One optimizer update; returns the new state and the applied updates."""
    updates, opt_state = self.tx.update(grads, self.opt_state, self.params)
    params = optax.apply_updates(self.params, updates)
    return self.replace(step=self.step + 1, params=params,
                        opt_state=opt_state, **changes), updates

