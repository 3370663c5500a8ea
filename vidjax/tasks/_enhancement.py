"""What the enhancement tasks (denoising, super-resolution, style) share.

Each of them maps a video in [0, 1] to another video, so the pipeline must
deliver unnormalized pixels, the model's init needs the task's own inputs,
evaluation shows input / output / target side by side, and the `enhance`
command applies them to a file through `Task.enhance` (see
`vidjax.enhance`).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from vidjax import models
from vidjax.tasks import base
from vidjax.train.state import TrainState


def require_unit_range(config, task: str) -> None:
  if tuple(config.data.mean) != (0.0, 0.0, 0.0) or \
      tuple(config.data.std) != (1.0, 1.0, 1.0):
    raise ValueError(
        f"{task} needs pixel values in [0, 1]: set config.data.mean = "
        f"(0, 0, 0) and config.data.std = (1, 1, 1) (got mean="
        f"{tuple(config.data.mean)}, std={tuple(config.data.std)})")


def check_choice(value: Any, choices: tuple, field: str) -> None:
  if value not in choices:
    raise ValueError(f"{field} must be one of {choices}, got {value!r}")


class EnhancementTask(base.Task):
  """A task whose model maps a video in [0, 1] to a video in [0, 1].

  Subclasses implement `model_inputs(video, rng)` (the model's positional
  arguments for a clean training clip, used for init) and `enhance`.
  """

  train_keys = ("video",)
  eval_keys = ("video", "mask")
  # Output size / input size (super-resolution scale).
  output_scale: int = 1

  @property
  def temporal_context(self) -> int | None:
    """Frames of context an output frame reads on either side: the model
    module's TEMPORAL_CONTEXT (None: the whole clip, a recurrent model)."""
    return getattr(models.get_module(self.config.model.name),
                   "TEMPORAL_CONTEXT", 0)

  def model_inputs(self, video: jax.Array) -> tuple[Any, ...]:
    raise NotImplementedError

  def init_state(self, rng, batch):
    inputs = self.model_inputs(batch["video"])
    variables = dict(self.model.init({"params": rng, "dropout": rng},
                                     *inputs, train=False))
    params = variables.pop("params")
    return TrainState.create(params=params, tx=self.tx,
                             model_state=variables,
                             ema=self.config.train.ema_decay > 0)

  def run_model(self, params, model_state, inputs: tuple[Any, ...], *,
                train: bool, rng: jax.Array | None = None):
    """Like `apply_model`, with several positional inputs."""
    variables = {"params": params, **model_state}
    if not train or not model_state:
      out = self.model.apply(variables, *inputs, train=train,
                             rngs=None if rng is None else {"dropout": rng})
      return out, model_state
    out, updated = self.model.apply(variables, *inputs, train=True,
                                    rngs={"dropout": rng},
                                    mutable=list(model_state))
    return out, {**model_state, **updated}

  def enhance(self, params: Any, model_state: Any, video: jax.Array,
              **options) -> jax.Array:
    """Transforms a video [B, T, H, W, 3] in [0, 1] (pure, jittable)."""
    raise NotImplementedError

  def simulate(self, video: jax.Array, rng: jax.Array, **options
               ) -> jax.Array:
    """The degradation the model undoes, applied to a clean video (to
    demonstrate on clean footage); identity by default."""
    del rng, options
    return video

  def enhance_options(self, flags: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of `enhance` taken from the command line."""
    del flags
    return {}


def side_by_side(views: list[np.ndarray], mask: np.ndarray,
                 max_rows: int = 4) -> np.ndarray:
  """uint8 rows of [input | output | target] frames [B, H, W, 3]."""
  real = np.flatnonzero(np.asarray(mask) > 0)[:max_rows]
  h = max(v.shape[1] for v in views)
  rows = []
  for i in real:
    cells = []
    for v in views:
      img = np.asarray(v[i], np.float32)
      if img.shape[0] != h:  # nearest-neighbour up to the row height
        f = h // img.shape[0]
        img = np.repeat(np.repeat(img, f, 0), f, 1)
      cells.append(img)
    rows.append(np.concatenate(cells, axis=1))
  image = np.clip(np.concatenate(rows, axis=0), 0, 1)
  return (image * 255).round().astype(np.uint8)


def clip01(x: jax.Array) -> jax.Array:
  return jnp.clip(x.astype(jnp.float32), 0.0, 1.0)
