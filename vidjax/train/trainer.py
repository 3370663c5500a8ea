"""The one generic trainer: any task, any model, one CPU to a pod.

`train_and_evaluate(config, workdir)` builds the data pipelines, the task and
its state (created already sharded), resumes from the newest checkpoint in
`workdir` if there is one, and runs the jitted train step with periodic
evaluation, logging and checkpointing. It never looks at a task's or model's
name: everything problem-specific is a method of the task.
"""

from __future__ import annotations

import dataclasses
import math
import os
import signal
import threading
import time
from typing import Any, Iterator

import grain
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl import logging

from vidjax import tasks
from vidjax.tasks import base as task_base
from vidjax.data import pipeline
from vidjax.train import checkpoint as checkpoint_lib
from vidjax.train import report
from vidjax.train import sharding
from vidjax.train import writers

BOOKKEEPING_FAILURES = pipeline.DECODE_FAILURES


class NonFiniteError(FloatingPointError):
  """The loss or the gradients stopped being finite."""


# Dense bfloat16 peak FLOP/s per device, for model FLOPs utilization.
PEAK_FLOPS = (
    ("H200", 989e12), ("H100", 989e12), ("A100", 312e12), ("L4", 121e12),
    ("TPU v6 lite", 918e12), ("TPU v5 lite", 197e12), ("TPU v5p", 459e12),
    ("TPU v5", 459e12), ("TPU v4", 275e12),
)


def peak_flops(device: jax.Device) -> float | None:
  if device.platform == "cpu":
    return None
  for name, flops in PEAK_FLOPS:
    if name.lower() in device.device_kind.lower():
      return flops
  return None


class _BatchStream:
  """Training batches in index order, minus the skipped indices.

  Batch n of the training stream depends only on the seed and n, so the
  stream can restart at any index; `skip` holds indices never trained on
  (config.train.skip_batches, and batches that produced non-finite values).
  """

  def __init__(self, make_iterator, next_batch: int, skip=()):
    self._make = make_iterator
    self.skip = set(int(i) for i in skip)
    self.start = self.next_batch = next_batch  # start: of this iterator
    self.iterator = make_iterator(next_batch)

  def __next__(self) -> tuple[int, dict[str, np.ndarray]]:
    while self.next_batch in self.skip:
      next(self.iterator)
      self.next_batch += 1
    batch = next(self.iterator)
    self.next_batch += 1
    return self.next_batch - 1, batch

  def restart(self, next_batch: int) -> None:
    self.iterator.close()
    self.start = self.next_batch = next_batch
    self.iterator = self._make(next_batch)

  def meta(self) -> dict[str, Any]:
    # The Grain iterator's saved position counts from `start`.
    return {"stream_start": self.start, "next_batch": self.next_batch,
            "skip_batches": sorted(self.skip)}

  def close(self) -> None:
    self.iterator.close()


class _Preemption:
  """Whether to save and stop now.

  Under jax.distributed, JAX's preemption service turns a SIGTERM on any
  process into one agreed step for all of them (`reached_preemption`); a
  single process installs its own SIGTERM handler.
  """

  def __init__(self, checkpointer):
    self.checkpointer = checkpointer
    self.multi_process = jax.process_count() > 1
    self.signalled = False
    self._previous = None
    if (not self.multi_process and
        threading.current_thread() is threading.main_thread()):
      self._previous = signal.signal(signal.SIGTERM, self._handle)

  def _handle(self, signum, frame):
    del signum, frame
    self.signalled = True
    logging.warning("SIGTERM received: saving a checkpoint after this step")

  def reached(self, step: int) -> bool:
    if self.multi_process:
      return self.checkpointer.reached_preemption(step)
    return self.signalled

  def close(self) -> None:
    if self._previous is not None:
      signal.signal(signal.SIGTERM, self._previous)
      self._previous = None


def num_train_steps(config: ml_collections.ConfigDict, num_train: int) -> int:
  """config.train.num_steps, or enough steps for config.train.num_epochs."""
  if config.train.num_steps > 0:
    return int(config.train.num_steps)
  if config.train.num_epochs <= 0:
    raise ValueError("set config.train.num_steps or config.train.num_epochs "
                     "to a positive number")
  return int(math.ceil(config.train.num_epochs * num_train /
                       config.train.batch_size))


def _check_batch_keys(needed, available, what: str) -> None:
  missing = [k for k in needed if k not in available]
  if missing:
    raise KeyError(f"the task needs {what} batch keys {missing} but the "
                   f"pipeline provides {sorted(available)}; check config.data")


def _select(batch: dict[str, np.ndarray], keys) -> dict[str, np.ndarray]:
  return {k: batch[k] for k in (*keys, BOOKKEEPING_FAILURES)}


@dataclasses.dataclass
class _Interval:
  """Host-side running sums between two log lines."""

  sums: dict[str, float] = dataclasses.field(default_factory=dict)
  steps: int = 0
  data_wait: float = 0.0
  save_block: float = 0.0  # seconds the loop spent inside checkpoint saves
  start: float = dataclasses.field(default_factory=time.perf_counter)

  def add(self, metrics: dict[str, float]) -> None:
    for k, v in metrics.items():
      self.sums[k] = self.sums.get(k, 0.0) + float(v)
    self.steps += 1


class Trainer:
  """Holds what a run builds once; `run()` trains, evaluates and reports."""

  def __init__(self, config: ml_collections.ConfigDict, workdir: str):
    self.config = config
    self.workdir = os.path.abspath(os.path.expanduser(workdir))
    self.is_chief = jax.process_index() == 0
    os.makedirs(self.workdir, exist_ok=True)
    if self.is_chief:
      with open(os.path.join(self.workdir, "config.json"), "w") as f:
        f.write(config.to_json_best_effort(indent=2, sort_keys=True))

    self.mesh = sharding.make_mesh(config.train.num_devices,
                                   config.train.model_parallel)
    sharding.check_batch_size(config.train.batch_size, self.mesh,
                              "config.train.batch_size",
                              micro_batches=config.train.grad_accum_steps)
    sharding.check_batch_size(config.eval.batch_size, self.mesh,
                              "config.eval.batch_size")
    self.train_source, self.eval_source = pipeline.load_sources(config)
    self.info = pipeline.dataset_info(self.train_source, self.eval_source)
    self.num_steps = num_train_steps(config, self.info.num_train)
    self.task = tasks.get_task_class(config.task.name)(config, self.info,
                                                      self.num_steps)
    if (config.train.grad_accum_steps > 1 and
        type(self.task).train_step is not task_base.Task.train_step and
        not getattr(self.task, "handles_grad_accum", False)):
      raise ValueError(
          f"config.train.grad_accum_steps={config.train.grad_accum_steps}: "
          f"task {config.task.name!r} has its own train_step without "
          "gradient accumulation; set it to 1")
    if config.train.nonfinite not in ("stop", "restore_and_skip"):
      raise ValueError(f"config.train.nonfinite={config.train.nonfinite!r}; "
                       "choose 'stop' or 'restore_and_skip'")
    self.best_metric = config.checkpoint.best_metric or self.task.best_metric
    self.best_mode = (config.checkpoint.best_mode or self.task.best_mode)

    self.shard = grain.sharding.ShardByJaxProcess()
    self.eval_dataset = pipeline.make_eval_dataset(
        config, self.eval_source,
        shard=self.shard)
    example = pipeline.example_element(config, self.train_source)
    _check_batch_keys(self.task.train_keys, example, "training")
    self._example = example

    key = jax.random.key(config.seed)
    self.init_key, self.step_key, self.eval_key = jax.random.split(key, 3)
    self.replicated = sharding.replicated(self.mesh)
    self.data_sharding = sharding.batch_sharding(self.mesh)
    self.writer = writers.MetricWriter(
        self.workdir, enabled=self.is_chief,
        tensorboard=config.logging.tensorboard)
    self.checkpointer = checkpoint_lib.Checkpointer(
        os.path.join(self.workdir, "checkpoints"),
        keep_latest=config.checkpoint.keep_latest,
        best_metric=self.best_metric if config.checkpoint.keep_best else "",
        best_mode=self.best_mode, async_save=config.checkpoint.async_save,
        config=config.to_dict())

  # -- state -----------------------------------------------------------------

  def init_state(self):
    """The task's initial state, created directly with its shardings."""
    spec = {k: np.zeros((1,) + np.shape(self._example[k]),
                        np.asarray(self._example[k]).dtype)
            for k in self.task.train_keys}
    abstract = jax.eval_shape(self.task.init_state, self.init_key, spec)
    self.state_sharding = sharding.state_shardings(
        abstract, self.mesh, self.config.train.sharding,
        self.config.train.fsdp_min_size)
    logging.info("Mesh %s; train state: %s", dict(self.mesh.shape),
                 sharding.describe(self.state_sharding, abstract))
    init = jax.jit(self.task.init_state, out_shardings=self.state_sharding)
    with jax.set_mesh(self.mesh):
      state = init(self.init_key, spec)
    if self.config.get("init_from") and self.checkpointer.latest_step() is None:
      # Pretrained weights start a fresh run; a resumed one restores its own.
      state = jax.device_put(self.task.load_pretrained(state, spec),
                             self.state_sharding)
    return state

  # -- compiled steps --------------------------------------------------------

  def _compile_steps(self):
    task = self.task

    def train_step(state, batch, key):
      batch = dict(batch)
      failures = batch.pop(BOOKKEEPING_FAILURES)
      state, metrics = task.train_step(state, batch,
                                       jax.random.fold_in(key, state.step))
      metrics = dict(metrics)
      metrics["decode_failures"] = jnp.sum(failures)
      return state, metrics

    def eval_step(state, batch, key, index):
      batch = dict(batch)
      failures = batch.pop(BOOKKEEPING_FAILURES)
      sums, examples = task.eval_step(state, batch,
                                      jax.random.fold_in(key, index))
      sums = dict(sums, decode_failures=jnp.sum(failures))
      return sums, examples

    self._step_fn = None
    self.flops_per_step = 0.0
    self.peak_flops = peak_flops(self.mesh.devices.flat[0])
    self.train_step = jax.jit(
        train_step, donate_argnums=(0,),
        in_shardings=(self.state_sharding, self.data_sharding,
                      self.replicated),
        out_shardings=(self.state_sharding, self.replicated))
    self.eval_step = jax.jit(
        eval_step,
        in_shardings=(self.state_sharding, self.data_sharding,
                      self.replicated, self.replicated),
        out_shardings=(self.replicated, self.data_sharding))

  # -- evaluation ------------------------------------------------------------

  def evaluate(self, state) -> tuple[dict[str, float], dict[str, np.ndarray],
                                     dict[str, np.ndarray] | None]:
    """One pass over the evaluation split.

    Returns the scalar metrics, the summed per-batch outputs, and the first
    batch with its per-example outputs (this process's part, numpy) for
    visualization.
    """
    sums, first = None, None
    for index, host_batch in enumerate(self.eval_dataset):
      _check_batch_keys(self.task.eval_keys, host_batch, "evaluation")
      host_batch = _select(host_batch, self.task.eval_keys)
      batch = sharding.global_batch(host_batch, self.mesh)
      out, examples = self.eval_step(state, batch, self.eval_key, index)
      if first is None:
        first = (host_batch, sharding.local_part(examples, self.mesh))
      sums = out if sums is None else jax.tree.map(jnp.add, sums, out)
    sums = jax.tree.map(np.asarray, jax.device_get(sums))
    failures = int(sums.pop("decode_failures"))
    metrics = self.task.finalize_eval(sums)
    metrics["decode_failures"] = failures
    return metrics, sums, first

  # -- main loop -------------------------------------------------------------

  def _log_train(self, step: int, interval: _Interval, pbar) -> None:
    elapsed = time.perf_counter() - interval.start
    means = {f"train/{k}": v / interval.steps for k, v in interval.sums.items()
             if k != "decode_failures"}
    means["train/decode_failures"] = interval.sums.get("decode_failures", 0.0)
    means["train/learning_rate"] = float(self.task.schedule(step - 1))
    means["train/clips_per_sec"] = (interval.steps *
                                    self.config.train.batch_size / elapsed)
    means["train/step_time_s"] = elapsed / interval.steps
    means["train/data_wait_fraction"] = interval.data_wait / elapsed
    # Time the loop was held by checkpoint saves (an async save returns once
    # the arrays are copied off the devices; its writes go on behind).
    means["train/save_block_s"] = interval.save_block
    mfu = ""
    if self.flops_per_step:
      flops = self.flops_per_step * interval.steps / elapsed
      means["train/tflops_per_sec"] = flops / 1e12
      if self.peak_flops:
        means["train/mfu"] = flops / (self.peak_flops * self.mesh.devices.size)
        mfu = f" mfu={100 * means['train/mfu']:.1f}%"
    self.writer.scalars(step, means)
    logging.info("step %d: loss=%.6g grad_norm=%.4g lr=%.3g clips/s=%.1f "
                 "step_time=%.3gs data_wait=%.0f%%%s", step,
                 means["train/loss"],
                 means.get("train/grad_norm", float("nan")),
                 means["train/learning_rate"], means["train/clips_per_sec"],
                 means["train/step_time_s"],
                 100 * means["train/data_wait_fraction"], mfu)
    if pbar is not None:
      pbar.set_postfix(loss=f"{means['train/loss']:.4f}",
                       clips_s=f"{means['train/clips_per_sec']:.1f}",
                       refresh=False)

  def _train_iterator(self, start_batch: int) -> Iterator:
    return iter(pipeline.make_train_dataset(
        self.config, self.train_source, shard=self.shard,
        start_batch=start_batch))

  def _data_meta(self, stream: _BatchStream) -> dict[str, Any]:
    return {**stream.meta(), "process_count": jax.process_count(),
            "num_workers": self.config.data.num_workers}

  def restore(self, state) -> tuple[Any, _BatchStream]:
    """The newest readable checkpoint's state and data position, if any."""
    skip = set(self.config.train.skip_batches)
    restored = self.checkpointer.restore(checkpoint_lib.abstract_like(state))
    if restored is None:
      return state, _BatchStream(self._train_iterator, 0, skip)
    state, step = restored
    meta = self.checkpointer.restore_meta(step)
    next_batch = int(meta.get("next_batch", step))
    skip |= set(meta.get("skip_batches", ()))
    # The grain iterator's own state is restored when the run has the same
    # processes and workers; otherwise the stream restarts at the saved
    # batch index, which gives exactly the same batches.
    stream = _BatchStream(self._train_iterator,
                          int(meta.get("stream_start",
                                       meta.get("start_batch", 0))), skip)
    stream.next_batch = next_batch
    same_layout = (meta.get("process_count") == jax.process_count() and
                   meta.get("num_workers") == self.config.data.num_workers)
    if not (same_layout and
            self.checkpointer.restore_data(step, stream.iterator)):
      logging.warning(
          "Saved by %s process(es) with %s worker(s), now %d and %d: "
          "restarting the data stream at batch %d.",
          meta.get("process_count", "?"), meta.get("num_workers", "?"),
          jax.process_count(), self.config.data.num_workers, next_batch)
      stream.restart(next_batch)
    logging.info("Resumed from checkpoint at step %d in %s", step,
                 self.checkpointer.directory)
    return state, stream

  def _save(self, step, state, stream, eval_metrics=None) -> None:
    self.checkpointer.save(step, state, stream.iterator, metrics=eval_metrics,
                           meta=self._data_meta(stream))

  def _host_batch(self, stream: _BatchStream) -> tuple[int, dict]:
    index, host_batch = next(stream)
    host_batch = _select(host_batch, self.task.train_keys)
    if index in self.config.train.inject_nan_batches:
      host_batch["video"] = np.full_like(host_batch["video"], np.nan)
    return index, host_batch

  def _compile_train_step(self, state, batch):
    """Compiles the train step ahead of time and reads its FLOP count."""
    compiled = self.train_step.lower(state, batch, self.step_key).compile()
    try:
      cost = compiled.cost_analysis()
      cost = cost[0] if isinstance(cost, (list, tuple)) else cost
      # The cost of the partitioned program is that of one device.
      self.flops_per_step = float(cost["flops"]) * self.mesh.devices.size
    except Exception as e:  # pylint: disable=broad-except
      logging.info("No FLOP count for the train step (%s)", e)
    return compiled

  def run(self) -> dict[str, Any]:
    config = self.config
    state = self.init_state()
    self._compile_steps()
    init_state = jax.tree.map(np.asarray, jax.device_get(state)) \
        if config.train.nonfinite == "restore_and_skip" else None
    state, stream = self.restore(state)
    start_step = int(jax.device_get(state.step))
    logging.info("Training %s / %s for %d steps on %d device(s) from step %d",
                 config.task.name, config.model.name, self.num_steps,
                 self.mesh.devices.size, start_step)

    pbar = None
    if self.is_chief and config.logging.progress_bar:
      import tqdm  # pylint: disable=g-import-not-at-top
      pbar = tqdm.tqdm(total=self.num_steps, initial=start_step,
                       desc=f"{config.task.name}/{config.model.name}",
                       unit="step", dynamic_ncols=True)

    log_every = max(1, config.train.log_every)
    eval_every = config.eval.every_steps
    ckpt_every = config.checkpoint.every_steps
    profile_first = max(config.profile_start_step, start_step + 1)
    profile_last = profile_first + config.profile_steps - 1
    interval = _Interval()
    total_failures = 0
    restores = 0
    best: dict[str, Any] | None = None
    last_eval: tuple | None = None
    train_start = time.perf_counter()
    pending: tuple[int, int, Any] | None = None  # metrics not yet fetched
    preemption = _Preemption(self.checkpointer)
    preempted_at = None

    def drain() -> tuple[int, int] | None:
      # Reading a step's metrics waits for it; doing it one step late keeps
      # the device busy while the host fetches the next batch. Returns the
      # (step, batch index) whose values were not finite, if any.
      nonlocal pending, total_failures
      if pending is None:
        return None
      done_step, index, device_metrics = pending
      pending = None
      metrics = {k: float(v) for k, v in jax.device_get(device_metrics).items()}
      bad = self._non_finite(metrics)
      if bad:
        if config.train.nonfinite == "stop":
          raise NonFiniteError(self._non_finite_report(done_step, index, bad))
        return done_step, index
      total_failures += int(metrics["decode_failures"])
      interval.add(metrics)
      return None

    step = start_step
    try:
      with jax.set_mesh(self.mesh):
        while step < self.num_steps:
          step += 1
          if step == profile_first and config.profile_steps > 0:
            jax.profiler.start_trace(os.path.join(self.workdir, "profile"))
          t0 = time.perf_counter()
          index, host_batch = self._host_batch(stream)
          interval.data_wait += time.perf_counter() - t0
          batch = sharding.global_batch(host_batch, self.mesh)
          if self._step_fn is None:
            self._step_fn = self._compile_train_step(state, batch)
          state, metrics = self._step_fn(state, batch, self.step_key)
          bad = drain()
          pending = (step, index, metrics)
          if step == profile_last and config.profile_steps > 0:
            jax.block_until_ready(state)
            jax.profiler.stop_trace()
            logging.info("Profile of steps %d-%d written to %s/profile",
                         profile_first, profile_last, self.workdir)

          is_last = step == self.num_steps
          saving = (is_last or (eval_every and step % eval_every == 0) or
                    (ckpt_every and step % ckpt_every == 0))
          if saving or step % log_every == 0:
            # Only finite states are evaluated and saved.
            bad = bad or drain()
          if bad:
            pending = None  # steps after the bad one are discarded too
            restores += 1
            state, step = self._restore_after_non_finite(
                bad, restores, stream, state, init_state)
            interval = _Interval()
            if pbar is not None:
              pbar.reset(total=self.num_steps)
              pbar.update(step)
            continue

          if step % log_every == 0 or is_last:
            self._log_train(step, interval, pbar)
            interval = _Interval()
          if pbar is not None:
            pbar.update(1)

          eval_metrics = None
          if (eval_every and step % eval_every == 0) or is_last:
            eval_metrics, sums, first = self.evaluate(state)
            last_eval = (step, eval_metrics, sums, first)
            self.writer.scalars(step, {f"eval/{k}": v
                                       for k, v in eval_metrics.items()})
            best = self._update_best(best, step, eval_metrics)
            logging.info("step %d eval: %s", step, eval_metrics)
          if saving:
            t0 = time.perf_counter()
            self._save(step, state, stream, eval_metrics)
            interval.save_block += time.perf_counter() - t0
          if preemption.reached(step):
            if drain() is None and not saving:
              self._save(step, state, stream)
            preempted_at = step
            break
        drain()
    finally:
      preemption.close()
      if pbar is not None:
        pbar.close()
      stream.close()  # stops Grain's worker processes
      # The final save (and any error of an async one) is always waited for.
      self.checkpointer.wait()
    train_time = time.perf_counter() - train_start
    self.state = state

    if preempted_at is not None:
      logging.warning("Preempted: checkpoint of step %d saved in %s; start "
                      "the same command again to continue.", preempted_at,
                      self.checkpointer.directory)
      self.checkpointer.close()
      self.writer.close()
      return {"preempted": True, "step": preempted_at,
              "workdir": self.workdir}

    if last_eval is None or last_eval[0] != self.num_steps:
      # Nothing was trained in this call (the workdir was already finished):
      # evaluate the restored state.
      eval_metrics, sums, first = self.evaluate(state)
      last_eval = (self.num_steps, eval_metrics, sums, first)
      best = self._update_best(best, self.num_steps, eval_metrics)
    results = self._finish(last_eval, best, train_time,
                           self.num_steps - start_step, total_failures)
    results["nonfinite_restores"] = restores
    self.checkpointer.close()
    self.writer.close()
    return results

  @staticmethod
  def _non_finite(metrics: dict[str, float]) -> dict[str, float]:
    return {k: metrics[k] for k in ("loss", "grad_norm")
            if k in metrics and not math.isfinite(metrics[k])}

  def _non_finite_report(self, step: int, index: int, bad) -> str:
    return (f"training stopped at step {step} (batch {index}): non-finite "
            + ", ".join(f"{k}={v}" for k, v in bad.items())
            + f". The last good checkpoint is in {self.checkpointer.directory}"
            "; lower config.optimizer.learning_rate, set "
            "config.optimizer.grad_clip_norm, or set config.train.nonfinite="
            "'restore_and_skip' to skip the batch.")

  def _restore_after_non_finite(self, bad, restores, stream, state,
                                init_state):
    """Reloads the newest checkpoint and skips the offending batch."""
    step, index = bad
    if restores > self.config.train.max_nonfinite_restores:
      raise NonFiniteError(self._non_finite_report(step, index, {}) +
                           f" Gave up after {restores - 1} restores "
                           "(config.train.max_nonfinite_restores).")
    self.checkpointer.wait()
    stream.skip.add(index)
    restored = self.checkpointer.restore(checkpoint_lib.abstract_like(state))
    if restored is None:
      state = jax.device_put(init_state, self.state_sharding)
      good, next_batch = 0, 0
    else:
      state, good = restored
      next_batch = int(self.checkpointer.restore_meta(good).get(
          "next_batch", good))
    stream.restart(next_batch)
    logging.warning(
        "Non-finite loss or gradients at step %d (batch %d): restored step "
        "%d and skipping batch %d (restore %d of at most %d).", step, index,
        good, index, restores, self.config.train.max_nonfinite_restores)
    return state, good

  def _update_best(self, best, step, metrics):
    name = self.best_metric
    if not name or name not in metrics:
      return best
    value = metrics[name]
    better = (best is None or (value > best["value"] if self.best_mode == "max"
                               else value < best["value"]))
    return {"metric": name, "value": value, "step": step} if better else best

  def _finish(self, last_eval, best, train_time, steps_run,
              total_failures) -> dict[str, Any]:
    step, eval_metrics, sums, first = last_eval
    results = {
        "task": self.config.task.name,
        "model": self.config.model.name,
        "step": step,
        "eval": eval_metrics,
        "best": best,
        "train_time_s": train_time,
        "train_clips_per_sec": (steps_run * self.config.train.batch_size /
                                train_time if steps_run else 0.0),
        "decode_failures": total_failures + int(
            eval_metrics.get("decode_failures", 0)),
        "num_devices": int(self.mesh.devices.size),
        "num_processes": jax.process_count(),
        "workdir": self.workdir,
    }
    if not self.is_chief:
      return results
    results.update(self.task.write_eval_artifacts(sums, self.workdir))
    results.update(self.task.end_of_run(self.state))
    if first is not None:
      images = self.task.visualize(*first)
      self.writer.images(step, images)
      _save_pngs(images, self.workdir)
    report.plot_curves(self.workdir, title=f"{self.config.task.name} / "
                       f"{self.config.model.name}")
    report.write_results(self.workdir, results)
    return results


def _save_pngs(images: dict[str, np.ndarray], out_dir: str) -> None:
  from PIL import Image  # pylint: disable=g-import-not-at-top
  for name, image in images.items():
    Image.fromarray(np.asarray(image)).save(
        os.path.join(out_dir, f"{name}.png"))


def train_and_evaluate(config: ml_collections.ConfigDict,
                       workdir: str) -> dict[str, Any]:
  """Trains `config` in `workdir` (resuming if it holds checkpoints)."""
  return Trainer(config, workdir).run()
