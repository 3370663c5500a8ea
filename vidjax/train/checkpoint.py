"""Orbax checkpoints of the train state together with the data iterator.

Each checkpoint step holds three items: `state` (the TrainState pytree),
`data` (the Grain iterator position), so a resumed run sees exactly the
batches it would have seen, and `config` (the run's config as JSON). Retention keeps the newest checkpoint (the resume
point) and, when a metric is named, the best one by it: Orbax's plain
best-by-metric retention could otherwise delete the newest.
"""

from __future__ import annotations

import os
from typing import Any

import grain
import jax
import orbax.checkpoint as ocp
from absl import logging
from orbax.checkpoint import checkpoint_managers as policies


class Checkpointer:
  """Saves and restores (state, data iterator) pairs under `directory`."""

  def __init__(self, directory: str | os.PathLike, *, keep_latest: int = 1,
               best_metric: str = "", best_mode: str = "max",
               async_save: bool = True, config: dict | None = None):
    if best_mode not in ("max", "min"):
      raise ValueError(f"config.checkpoint.best_mode must be 'max' or 'min', "
                       f"got {best_mode!r}")
    keep: list[policies.PreservationPolicy] = [
        policies.LatestN(n=keep_latest)]
    if best_metric:
      keep.append(policies.BestN(
          get_metric_fn=lambda metrics: metrics[best_metric],
          reverse=best_mode == "min", n=1,
          keep_checkpoints_without_metrics=False))
    self.best_metric = best_metric
    self._config = config
    self.directory = os.path.abspath(os.fspath(directory))
    self._manager = ocp.CheckpointManager(
        self.directory,
        options=ocp.CheckpointManagerOptions(
            preservation_policy=policies.AnyPreservationPolicy(keep),
            enable_async_checkpointing=async_save,
            cleanup_tmp_directories=True),
        item_names=("state", "data", "config"))

  def all_steps(self) -> list[int]:
    return sorted(self._manager.all_steps())

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def save(self, step: int, state: Any, data_iterator: Any,
           metrics: dict[str, float] | None = None) -> None:
    """Starts saving; errors of an earlier async save surface here."""
    args = {"state": ocp.args.StandardSave(state)}
    if data_iterator is not None:
      args["data"] = grain.checkpoint.CheckpointSave(data_iterator)
    if self._config is not None:
      args["config"] = ocp.args.JsonSave(self._config)
    if self.best_metric and metrics is not None and \
        self.best_metric not in metrics:
      raise KeyError(f"config.checkpoint.best_metric={self.best_metric!r} is "
                     f"not an evaluation metric; have: {sorted(metrics)}")
    self._manager.save(step, args=ocp.args.Composite(**args),
                       metrics=metrics, force=True)

  def restore(self, abstract_state: Any, data_iterator: Any = None
              ) -> tuple[Any, int] | None:
    """Restores the newest readable checkpoint, or returns None if none.

    `abstract_state` is a pytree of jax.ShapeDtypeStruct carrying the
    shardings wanted now (not those it was saved with), so a checkpoint
    restores onto a different device count. A checkpoint that cannot be read
    (truncated, missing files) is reported and the one before it is tried.
    """
    for step in reversed(self.all_steps()):
      args = {"state": ocp.args.StandardRestore(abstract_state)}
      if data_iterator is not None:
        args["data"] = grain.checkpoint.CheckpointRestore(data_iterator)
      try:
        restored = self._manager.restore(step,
                                         args=ocp.args.Composite(**args))
      except Exception as e:  # pylint: disable=broad-except
        logging.error("Checkpoint %s/%d cannot be restored (%s: %s); trying "
                      "the one before it.", self.directory, step,
                      type(e).__name__, e)
        continue
      return restored["state"], step
    return None

  def wait(self) -> None:
    """Blocks until pending saves are on disk; raises their errors."""
    self._manager.wait_until_finished()

  def close(self) -> None:
    self._manager.close()


def abstract_like(tree: Any) -> Any:
  """ShapeDtypeStructs (with shardings) describing the arrays of `tree`."""
  return jax.tree.map(
      lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype,
                                     sharding=getattr(x, "sharding", None)),
      tree)
