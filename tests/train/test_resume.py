"""A run stopped by SIGTERM, started again, killed with SIGKILL, and started
again ends where an uninterrupted run ends: same parameters, same data."""

import os
import re
import signal
import subprocess
import sys
import time

import jax
import numpy as np

from tests.conftest import REPO, final_params, subprocess_env

STEPS = 16


def _command(workdir, cache_dir):
  return [sys.executable, str(REPO / "launch.py"),
          f"--config={REPO / 'configs' / 'quickstart.py'}:tiny",
          f"--workdir={workdir}",
          f"--config.train.num_steps={STEPS}",
          "--config.checkpoint.every_steps=4",
          "--config.data.num_workers=1",  # iterator state of a worker process
          f"--config.data.synthetic.cache_dir={cache_dir}"]


def _steps(workdir):
  ckpt = workdir / "checkpoints"
  if not ckpt.exists():
    return []
  return sorted(int(p.name) for p in ckpt.iterdir() if p.name.isdigit())


def _env():
  # Two simulated devices: the run is still sharded, and steps are cheaper
  # than on the eight the other tests use.
  return subprocess_env(2)


def _wait_for_checkpoint(proc, workdir, after):
  """Returns once a checkpoint newer than `after` (and not the last) exists."""
  deadline = time.time() + 300
  while time.time() < deadline and proc.poll() is None:
    if any(after < s < STEPS for s in _steps(workdir)):
      return
    time.sleep(0.02)


def _assert_same_params(a, b):
  step_a, params_a = final_params(a)
  step_b, params_b = final_params(b)
  assert step_a == step_b == STEPS
  leaves_a, leaves_b = jax.tree.leaves(params_a), jax.tree.leaves(params_b)
  assert len(leaves_a) == len(leaves_b) > 0
  for x, y in zip(leaves_a, leaves_b):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_sigterm_then_sigkill_then_resume_matches_uninterrupted(tmp_path,
                                                                cache_dir):
  """One run meets both faults in turn (one test, so the uninterrupted run
  and the compilations are paid once):
  - SIGTERM, a preemption notice: the run saves at the step it is on, waits
    for the save and exits 0 without results;
  - started again, it resumes there; then SIGKILL to it and its Grain worker
    processes, so nothing gets to clean up;
  - started again, it resumes from its newest checkpoint and ends with
    exactly the parameters of the uninterrupted run."""
  straight = tmp_path / "straight"
  subprocess.run(_command(straight, cache_dir), check=True,
                 capture_output=True, cwd=REPO, env=_env())

  run = tmp_path / "run"
  proc = subprocess.Popen(_command(run, cache_dir), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, cwd=REPO,
                          env=_env())
  _wait_for_checkpoint(proc, run, after=0)
  proc.send_signal(signal.SIGTERM)
  log = proc.communicate(timeout=300)[0]
  assert proc.returncode == 0, log[-3000:]
  saved = re.search(r"Preempted: checkpoint of step (\d+) saved", log)
  assert saved, log[-3000:]
  stopped_at = int(saved.group(1))
  assert stopped_at < STEPS and _steps(run)[-1] == stopped_at
  assert not (run / "results.json").exists()

  log = open(tmp_path / "log.txt", "w")
  proc = subprocess.Popen(_command(run, cache_dir), stdout=log,
                          stderr=subprocess.STDOUT, cwd=REPO, env=_env(),
                          start_new_session=True)
  _wait_for_checkpoint(proc, run, after=stopped_at)
  os.killpg(proc.pid, signal.SIGKILL)
  proc.wait()
  log.close()
  text = (tmp_path / "log.txt").read_text()
  assert proc.returncode == -signal.SIGKILL, "the run ended before the kill"
  assert f"Resumed from checkpoint at step {stopped_at}" in text
  assert not (run / "results.json").exists()
  killed_at = _steps(run)[-1]
  assert stopped_at < killed_at < STEPS

  out = subprocess.run(_command(run, cache_dir), check=True,
                       capture_output=True, text=True, cwd=REPO, env=_env())
  assert f"Resumed from checkpoint at step {killed_at}" in out.stderr
  _assert_same_params(straight, run)
