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
import time
from typing import Any, Iterator

import grain
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl import logging

from vidjax import tasks
from vidjax.data import pipeline
from vidjax.train import checkpoint as checkpoint_lib
from vidjax.train import report
from vidjax.train import sharding
from vidjax.train import writers

BOOKKEEPING_FAILURES = pipeline.DECODE_FAILURES


class NonFiniteError(FloatingPointError):
  """The loss or the gradients stopped being finite."""


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

    self.mesh = sharding.make_mesh(config.train.num_devices)
    sharding.check_batch_size(config.train.batch_size, self.mesh,
                              "config.train.batch_size")
    sharding.check_batch_size(config.eval.batch_size, self.mesh,
                              "config.eval.batch_size")
    self.train_source, self.eval_source = pipeline.load_sources(config)
    self.info = pipeline.dataset_info(self.train_source, self.eval_source)
    self.num_steps = num_train_steps(config, self.info.num_train)
    self.task = tasks.get_task_class(config.task.name)(config, self.info,
                                                      self.num_steps)
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
    self.state_sharding = jax.tree.map(lambda _: self.replicated, abstract)
    init = jax.jit(self.task.init_state, out_shardings=self.state_sharding)
    with jax.set_mesh(self.mesh):
      return init(self.init_key, spec)

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

  def _check_finite(self, step: int, metrics: dict[str, float]) -> None:
    bad = {k: metrics[k] for k in ("loss", "grad_norm")
           if k in metrics and not math.isfinite(metrics[k])}
    if bad:
      raise NonFiniteError(
          f"training stopped at step {step}: non-finite "
          + ", ".join(f"{k}={v}" for k, v in bad.items())
          + f". The last good checkpoint is in {self.checkpointer.directory}; "
          "lower config.optimizer.learning_rate or set "
          "config.optimizer.grad_clip_norm.")

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
    self.writer.scalars(step, means)
    logging.info("step %d: loss=%.6g grad_norm=%.4g lr=%.3g clips/s=%.1f "
                 "data_wait=%.0f%%", step, means["train/loss"],
                 means.get("train/grad_norm", float("nan")),
                 means["train/learning_rate"], means["train/clips_per_sec"],
                 100 * means["train/data_wait_fraction"])
    if pbar is not None:
      pbar.set_postfix(loss=f"{means['train/loss']:.4f}",
                       clips_s=f"{means['train/clips_per_sec']:.1f}",
                       refresh=False)

  def _train_iterator(self, start_batch: int) -> Iterator:
    self.data_meta = {"start_batch": start_batch,
                      "process_count": jax.process_count(),
                      "num_workers": self.config.data.num_workers}
    return iter(pipeline.make_train_dataset(
        self.config, self.train_source, shard=self.shard,
        start_batch=start_batch))

  def restore(self, state) -> tuple[Any, Iterator]:
    """The newest readable checkpoint's state and data position, if any."""
    restored = self.checkpointer.restore(checkpoint_lib.abstract_like(state))
    if restored is None:
      return state, self._train_iterator(0)
    state, step = restored
    meta = self.checkpointer.restore_meta(step)
    train_iter = self._train_iterator(meta.get("start_batch", 0))
    if not self.checkpointer.restore_data(step, train_iter):
      # Batch n depends only on the seed and n, so starting the stream at
      # the restored step gives exactly the batches the run would have seen.
      logging.warning(
          "Saved by %s process(es) with %s worker(s), now %d and %d: "
          "restarting the data stream at batch %d.",
          meta.get("process_count", "?"), meta.get("num_workers", "?"),
          jax.process_count(), self.config.data.num_workers, step)
      train_iter.close()
      train_iter = self._train_iterator(step)
    logging.info("Resumed from checkpoint at step %d in %s", step,
                 self.checkpointer.directory)
    return state, train_iter

  def run(self) -> dict[str, Any]:
    config = self.config
    state = self.init_state()
    self._compile_steps()
    state, train_iter = self.restore(state)
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
    interval = _Interval()
    total_failures = 0
    best: dict[str, Any] | None = None
    last_eval: tuple | None = None
    train_start = time.perf_counter()
    pending: tuple[int, Any] | None = None  # metrics not yet fetched

    def drain():
      # Reading a step's metrics waits for it; doing it one step late keeps
      # the device busy while the host fetches the next batch.
      nonlocal pending, total_failures
      if pending is None:
        return
      done_step, device_metrics = pending
      pending = None
      metrics = {k: float(v) for k, v in jax.device_get(device_metrics).items()}
      self._check_finite(done_step, metrics)
      total_failures += int(metrics["decode_failures"])
      interval.add(metrics)

    try:
      with jax.set_mesh(self.mesh):
        for step in range(start_step + 1, self.num_steps + 1):
          t0 = time.perf_counter()
          host_batch = next(train_iter)
          interval.data_wait += time.perf_counter() - t0
          batch = sharding.global_batch(
              _select(host_batch, self.task.train_keys), self.mesh)
          state, metrics = self.train_step(state, batch, self.step_key)
          drain()
          pending = (step, metrics)

          is_last = step == self.num_steps
          if step % log_every == 0 or is_last:
            drain()
            self._log_train(step, interval, pbar)
            interval = _Interval()
          if pbar is not None:
            pbar.update(1)

          eval_metrics = None
          if (eval_every and step % eval_every == 0) or is_last:
            drain()
            eval_metrics, sums, first = self.evaluate(state)
            last_eval = (step, eval_metrics, sums, first)
            self.writer.scalars(step, {f"eval/{k}": v
                                       for k, v in eval_metrics.items()})
            best = self._update_best(best, step, eval_metrics)
            logging.info("step %d eval: %s", step, eval_metrics)
          if eval_metrics is not None or (ckpt_every and
                                          step % ckpt_every == 0):
            self.checkpointer.save(step, state, train_iter,
                                   metrics=eval_metrics, meta=self.data_meta)
        drain()
    finally:
      if pbar is not None:
        pbar.close()
      train_iter.close()  # stops Grain's worker processes
      # The final save (and any error of an async one) is always waited for.
      self.checkpointer.wait()
    train_time = time.perf_counter() - train_start
    self.state = state

    if last_eval is None or last_eval[0] != self.num_steps:
      # Nothing was trained in this call (the workdir was already finished):
      # evaluate the restored state.
      eval_metrics, sums, first = self.evaluate(state)
      last_eval = (self.num_steps, eval_metrics, sums, first)
      best = self._update_best(best, self.num_steps, eval_metrics)
    results = self._finish(last_eval, best, train_time,
                           self.num_steps - start_step, total_failures)
    self.checkpointer.close()
    self.writer.close()
    return results

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
