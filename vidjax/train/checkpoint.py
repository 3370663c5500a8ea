"""Orbax checkpoints of the train state together with the data iterator.

Each checkpoint step holds four items: `state` (the TrainState pytree),
`data` (the Grain iterator position, one file per process), `meta` (the
next batch index, skipped batches, and the process and worker counts that
saved it) and `config` (the run's config as JSON). A resumed run sees
exactly the batches it would have seen.

Retention keeps the `keep_latest` newest checkpoints (the resume point, and
a fallback if it turns out corrupt) and, when a metric is named, the best
one by it at the same time: Orbax's plain best-by-metric retention could
otherwise delete the newest.

Replicated arrays are written by one replica when the run is a single
process: Orbax's default on CPU and TPU (replica-parallel saving) splits each
replicated array over its replicas, which pays off when the replicas sit on
different hosts but, with every replica in one process, only adds a sliced
copy per array and replica on the training thread (measured: ~1 s of each
save of a 4.5 MiB state on 8 devices, see benchmarks/RESULTS.md).
"""

from __future__ import annotations

import functools
import logging as std_logging
import os
import time
from typing import Any

import grain
import jax
import orbax.checkpoint as ocp
from absl import logging
from orbax.checkpoint import checkpoint_managers as policies

ITEMS = ("state", "data", "meta", "config")


class CheckpointSaveError(RuntimeError):
  """A checkpoint could not be written; names the step and the directory."""


@functools.cache
def _use_replica_parallel_saves(enabled: bool) -> None:
  """Registers Orbax's jax.Array handler with replica-parallel saving only
  when replicas can live in several processes (see the module docstring);
  once per process, without Orbax's warning about replacing its default."""
  quiet = lambda record: "overriding" not in record.getMessage()  # noqa: E731
  absl_logger = std_logging.getLogger("absl")
  absl_logger.addFilter(quiet)
  try:
    ocp.type_handlers.register_type_handler(
        jax.Array, ocp.type_handlers.ArrayHandler(
            use_replica_parallel=enabled), override=True)
  finally:
    absl_logger.removeFilter(quiet)


class Checkpointer:
  """Saves and restores (state, data iterator) pairs under `directory`."""

  def __init__(self, directory: str | os.PathLike, *, keep_latest: int = 2,
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
    self._pending_step: int | None = None  # the save that may be in flight
    _use_replica_parallel_saves(jax.process_count() > 1)
    self.directory = os.path.abspath(os.fspath(directory))
    self._manager = ocp.CheckpointManager(
        self.directory,
        options=ocp.CheckpointManagerOptions(
            preservation_policy=policies.AnyPreservationPolicy(keep),
            enable_async_checkpointing=async_save,
            cleanup_tmp_directories=True),
        item_names=ITEMS)

  def all_steps(self) -> list[int]:
    return sorted(self._manager.all_steps())

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def save(self, step: int, state: Any, data_iterator: Any,
           metrics: dict[str, float] | None = None,
           meta: dict[str, Any] | None = None) -> None:
    """Starts saving; errors of an earlier async save surface here."""
    self.wait()  # Orbax would wait too; this names a failed earlier save
    args = {"state": ocp.args.StandardSave(state)}
    if data_iterator is not None:
      args["data"] = grain.checkpoint.CheckpointSave(data_iterator)
    if meta is not None:
      args["meta"] = ocp.args.JsonSave(meta)
    if self._config is not None:
      args["config"] = ocp.args.JsonSave(self._config)
    if self.best_metric and metrics is not None and \
        self.best_metric not in metrics:
      raise KeyError(f"config.checkpoint.best_metric={self.best_metric!r} is "
                     f"not an evaluation metric; have: {sorted(metrics)}")
    try:
      self._manager.save(step, args=ocp.args.Composite(**args),
                         metrics=metrics, force=True)
    except Exception as e:
      raise CheckpointSaveError(
          f"Saving checkpoint step {step} in {self.directory} failed: "
          f"{type(e).__name__}: {e}") from e
    self._pending_step = step

  def restore(self, abstract_state: Any) -> tuple[Any, int] | None:
    """Restores the newest readable train state, or returns None if none.

    `abstract_state` is a pytree of jax.ShapeDtypeStruct carrying the
    shardings wanted now (not those it was saved with), so a checkpoint
    restores onto a different device or process count. A checkpoint that
    cannot be read (truncated or missing files) is reported and the one
    before it is tried.
    """
    steps = self.all_steps()
    for step in reversed(steps):
      try:
        restored = self._manager.restore(step, args=ocp.args.Composite(
            state=ocp.args.StandardRestore(abstract_state)))
      except Exception as e:  # pylint: disable=broad-except
        earlier = [s for s in steps if s < step]
        logging.error(
            "Checkpoint %s/%d cannot be restored (%s: %s); %s",
            self.directory, step, type(e).__name__, str(e)[:500],
            f"falling back to step {earlier[-1]}" if earlier
            else "no earlier checkpoint: starting from scratch")
        self._set_aside(step)
        continue
      return restored["state"], step
    return None

  def _set_aside(self, step: int) -> None:
    """Moves an unreadable checkpoint out of the way (kept for inspection),
    so the run can save that step again."""
    if jax.process_index() == 0:
      target = os.path.join(os.path.dirname(self.directory),
                            "corrupt_checkpoints", f"{step}-{time.time():.0f}")
      os.makedirs(os.path.dirname(target), exist_ok=True)
      os.replace(os.path.join(self.directory, str(step)), target)
      logging.warning("Moved the unreadable checkpoint to %s", target)
    if jax.process_count() > 1:
      from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top
      multihost_utils.sync_global_devices(f"set aside checkpoint {step}")
    self._manager.reload()

  def restore_meta(self, step: int) -> dict[str, Any]:
    """The `meta` item of `step` ({} for checkpoints without one)."""
    try:
      return dict(self._manager.restore(step, args=ocp.args.Composite(
          meta=ocp.args.JsonRestore()))["meta"])
    except Exception:  # pylint: disable=broad-except
      return {}

  def restore_data(self, step: int, data_iterator: Any) -> bool:
    """Sets `data_iterator` to its position at `step`; False if the saved
    position does not fit it (saved by another number of processes or
    workers)."""
    try:
      self._manager.restore(step, args=ocp.args.Composite(
          data=grain.checkpoint.CheckpointRestore(data_iterator)))
    except Exception as e:  # pylint: disable=broad-except
      logging.warning("The data iterator position at step %d does not fit "
                      "this run (%s: %s).", step, type(e).__name__,
                      str(e)[:300])
      return False
    return True

  def reached_preemption(self, step: int) -> bool:
    """True at the step all processes agreed to save at after a preemption
    notice (JAX's preemption service; multi-process runs only)."""
    return self._manager.reached_preemption(step)

  def wait(self) -> None:
    """Blocks until pending saves are on disk; raises their errors."""
    step, self._pending_step = self._pending_step, None
    try:
      self._manager.wait_until_finished()
    except Exception as e:
      raise CheckpointSaveError(
          f"The asynchronous save of checkpoint step {step} in "
          f"{self.directory} failed: {type(e).__name__}: {e}") from e

  def close(self) -> None:
    self._manager.close()


def abstract_like(tree: Any) -> Any:
  """ShapeDtypeStructs (with shardings) describing the arrays of `tree`."""
  return jax.tree.map(
      lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype,
                                     sharding=getattr(x, "sharding", None)),
      tree)


def load_state(directory: str | os.PathLike,
               step: int | None = None) -> tuple[int, Any]:
  """Reads the train state of `step` (default: newest) onto this host.

  For notebooks, evaluation and export: arrays come back whole on the first
  local device, whatever mesh or number of processes saved them. Returns
  (step, state) where state is a nested dict of arrays.
  """
  directory = os.path.abspath(os.fspath(directory))
  if not os.path.isdir(directory):
    raise FileNotFoundError(f"No checkpoint directory at {directory}")
  device = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
  with ocp.CheckpointManager(directory, item_names=ITEMS) as manager:
    if step is None:
      step = manager.latest_step()
      if step is None:
        raise FileNotFoundError(f"No checkpoints in {directory}")
    metadata = ocp.StandardCheckpointer().metadata(
        os.path.join(directory, str(step), "state")).item_metadata.tree
    target = jax.tree.map(
        lambda m: jax.ShapeDtypeStruct(m.shape, m.dtype, sharding=device),
        metadata, is_leaf=lambda m: hasattr(m, "shape"))
    restored = manager.restore(step, args=ocp.args.Composite(
        state=ocp.args.StandardRestore(target)))
  return step, restored["state"]
