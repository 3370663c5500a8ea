"""The train state: everything a step changes, as one pytree."""

from __future__ import annotations

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import optax


def ema_update(ema: Any, params: Any, decay: float, step: jax.Array,
               warmup: bool = True) -> Any:
  """The moving average after update `step` (1, 2, ...) of the weights.

  warmup (config.train.ema_warmup): the decay is min(decay, (1 + step) /
  (10 + step)), as in TensorFlow's ExponentialMovingAverage with
  num_updates. With a fixed 0.999 the average of a 600-step run is still
  0.999^600 = 55% its random initialisation (a GAN's samples from it are
  mostly noise); with the warm-up that share is below 1e-8, and long runs
  average over the last ~1 / (1 - decay) steps as before. Without it,
  decay 1.0 keeps a frozen copy of the initial weights.
  """
  rate = jnp.float32(decay)
  if warmup:
    step = jnp.asarray(step, jnp.float32)
    rate = jnp.minimum(rate, (1.0 + step) / (10.0 + step))
  return jax.tree.map(lambda e, p: rate * e + (1.0 - rate) * p.astype(e.dtype),
                      ema, params)


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

