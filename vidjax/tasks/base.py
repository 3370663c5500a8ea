"""The task interface and the default single-model, single-optimizer task."""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from vidjax import models
from vidjax.data.pipeline import DatasetInfo
from vidjax.train import optimizers
from vidjax.train.state import TrainState, ema_update

Batch = dict[str, jax.Array]
Metrics = dict[str, jax.Array]


class Task:
  """Base task: one model trained by one optax optimizer on a loss.

  Subclasses set the batch keys and implement `loss`, `eval_step` and
  `finalize_eval`. A task with several models or optimizers (a GAN), or its
  own sampling loop (diffusion), overrides `init_state`, `train_step` or
  `eval_step`; the trainer calls only the methods below.

  All `*_step` methods are pure and traced under `jax.jit` by the trainer,
  which shards the batch over devices; means over the batch are global means.
  """

  # Batch keys the task reads; the trainer checks the pipeline provides them.
  train_keys: tuple[str, ...] = ("video",)
  eval_keys: tuple[str, ...] = ("video", "mask")
  # Evaluation metric that picks the best checkpoint, and whether higher is
  # better; config.checkpoint.best_metric overrides it.
  best_metric: str = ""
  best_mode: str = "max"

  def __init__(self, config: ml_collections.ConfigDict, info: DatasetInfo,
               num_train_steps: int):
    self.config = config
    self.info = info
    self.num_train_steps = num_train_steps
    self.model = self.build_model()
    self.tx, self.schedule = optimizers.make_optimizer(config.optimizer,
                                                       num_train_steps)

  # -- model -----------------------------------------------------------------

  def build_model(self) -> nn.Module:
    return models.build(self.config.model, **self.model_kwargs())

  def model_kwargs(self) -> dict[str, Any]:
    """What the task adds to config.model (e.g. the number of classes)."""
    return {}

  def init_state(self, rng: jax.Array, batch: Batch) -> TrainState:
    """Initial state from a batch's shapes; traced by `jax.eval_shape`/jit."""
    variables = dict(self.model.init({"params": rng, "dropout": rng},
                                     batch["video"], train=False))
    params = variables.pop("params")
    return TrainState.create(params=params, tx=self.tx,
                             model_state=variables,
                             ema=self.config.train.ema_decay > 0)

  def load_pretrained(self, state: TrainState, batch: Batch) -> TrainState:
    """The initial state with config.init_from's weights (host code).

    Called once, for a fresh run, on `init_state`'s result; `batch` gives
    the input shapes. See vidjax.train.pretrained for what is resized or
    re-initialised. A task whose state holds several models overrides it.
    """
    from vidjax.train import pretrained  # pylint: disable=g-import-not-at-top
    video_shape = np.shape(batch["video"])
    fields = {"name": self.config.model.name,
              **models.model_kwargs(self.config.model)}
    merged, _ = pretrained.load_variables(
        jax.device_get({"params": state.params, **state.model_state}),
        self.config.init_from, models.get_module(self.config.model.name),
        self.model, fields, tuple(video_shape[-4:-1]))
    params = merged.pop("params")
    return state.replace(
        params=params, model_state=merged,
        ema_params=None if state.ema_params is None else params)

  def apply_model(self, params: Any, model_state: Any, inputs: jax.Array, *,
                  train: bool, rng: jax.Array | None = None
                  ) -> tuple[jax.Array, Any]:
    """Runs the model; returns outputs and the updated model state."""
    variables = {"params": params, **model_state}
    if not train:
      return self.model.apply(variables, inputs, train=False), model_state
    outputs, updated = self.model.apply(
        variables, inputs, train=True, rngs={"dropout": rng},
        mutable=list(model_state))
    return outputs, {**model_state, **updated}

  # -- training --------------------------------------------------------------

  def loss(self, params: Any, model_state: Any, batch: Batch,
           rng: jax.Array) -> tuple[jax.Array, tuple[Metrics, Any]]:
    """Scalar loss and (metrics, new model state) for one training batch."""
    raise NotImplementedError

  def grads(self, state: TrainState, batch: Batch, rng: jax.Array
            ) -> tuple[Any, Metrics, Any]:
    """Gradients of `loss`, its metrics (with "loss"), and the new model
    state, for one batch or micro-batch."""
    grad_fn = jax.value_and_grad(self.loss, has_aux=True)
    (loss, (metrics, model_state)), grads = grad_fn(
        state.params, state.model_state, batch, rng)
    return grads, dict(metrics, loss=loss), model_state

  def accumulated_grads(self, state: TrainState, batch: Batch,
                        rng: jax.Array) -> tuple[Any, Metrics, Any]:
    """`grads` averaged over config.train.grad_accum_steps micro-batches.

    Micro-batch j takes rows j, j+k, j+2k, ... so each stays split evenly
    over the data-parallel devices, and `lax.scan` runs them one after
    another: activation memory is that of one micro-batch. The mean of the
    micro-batch means equals the full-batch mean (equal sizes), so without
    batch statistics (BatchNorm) the step equals one on the whole batch.
    """
    k = self.config.train.get("grad_accum_steps", 1)
    if k == 1:
      return self.grads(state, batch, rng)
    micro = jax.tree.map(
        lambda x: jnp.swapaxes(
            x.reshape(x.shape[0] // k, k, *x.shape[1:]), 0, 1), batch)

    def body(carry, xs):
      grad_sum, metric_sum, model_state = carry
      index, micro_batch = xs
      grads, metrics, model_state = self.grads(
          state.replace(model_state=model_state), micro_batch,
          jax.random.fold_in(rng, index))
      add = lambda a, b: jax.tree.map(jnp.add, a, b)  # noqa: E731
      return (add(grad_sum, grads), add(metric_sum, metrics),
              model_state), None

    shapes = jax.eval_shape(self.grads, state,
                            jax.tree.map(lambda x: x[0], micro), rng)
    zeros = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes[:2])
    (grad_sum, metric_sum, model_state), _ = jax.lax.scan(
        body, (*zeros, state.model_state), (jnp.arange(k), micro))
    mean = lambda t: jax.tree.map(lambda x: x / k, t)  # noqa: E731
    return mean(grad_sum), mean(metric_sum), model_state

  def train_step(self, state: TrainState, batch: Batch,
                 rng: jax.Array) -> tuple[TrainState, Metrics]:
    """One optimizer step; metrics are scalars averaged over the batch."""
    grads, metrics, model_state = self.accumulated_grads(state, batch, rng)
    new_state, updates = state.apply_gradients(grads, model_state=model_state)
    if new_state.ema_params is not None:
      new_state = new_state.replace(ema_params=ema_update(
          state.ema_params, new_state.params, self.config.train.ema_decay,
          new_state.step, self.config.train.get("ema_warmup", True)))
    return new_state, dict(
        metrics, grad_norm=optax.global_norm(grads),
        param_norm=optax.global_norm(new_state.params),
        update_norm=optax.global_norm(updates))

  # -- evaluation ------------------------------------------------------------

  def eval_params(self, state: TrainState) -> Any:
    """Evaluation uses the moving average of the weights when there is one."""
    return state.params if state.ema_params is None else state.ema_params

  def eval_step(self, state: TrainState, batch: Batch, rng: jax.Array
                ) -> tuple[dict[str, jax.Array], dict[str, jax.Array]]:
    """Evaluates one batch; returns (sums, examples).

    sums: arrays weighted by batch['mask'] that add up over batches.
    examples: per-example outputs [B, ...] (predictions, output frames);
      the trainer keeps those of the first batch for `visualize`, so the
      model does not run twice.
    """
    raise NotImplementedError

  def finalize_eval(self, sums: dict[str, np.ndarray]) -> dict[str, float]:
    """Scalar evaluation metrics from the summed outputs of `eval_step`."""
    raise NotImplementedError

  def write_eval_artifacts(self, sums: dict[str, np.ndarray],
                           out_dir: str) -> dict[str, Any]:
    """Writes plots or tables to out_dir; returns extra results to report."""
    del sums, out_dir
    return {}

  def end_of_run(self, state: TrainState) -> dict[str, Any]:
    """Extra results once training ends (chief only, host code), e.g. a
    pretraining task's linear probe on frozen features."""
    del state
    return {}

  def visualize(self, batch: dict[str, np.ndarray],
                examples: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """uint8 images [H, W, 3] from an evaluation batch and its `examples`.

    Host code: runs once, on the chief process, on its part of the batch.
    """
    del batch, examples
    return {}


def masked_mean(values: jax.Array, mask: jax.Array) -> jax.Array:
  return jnp.sum(values * mask) / jnp.maximum(jnp.sum(mask), 1.0)
