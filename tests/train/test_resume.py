"""A run killed with SIGKILL and started again ends where an uninterrupted
run ends: same parameters, same data."""

import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np
from vidjax.train import checkpoint as checkpoint_lib

from tests.conftest import REPO

STEPS = 20


def _command(workdir, cache_dir):
  return [sys.executable, str(REPO / "launch.py"),
          f"--config={REPO / 'configs' / 'quickstart.py'}:tiny",
          f"--workdir={workdir}",
          f"--config.train.num_steps={STEPS}",
          "--config.checkpoint.every_steps=4",
          "--config.data.num_workers=2",  # iterator state of worker processes
          f"--config.data.synthetic.cache_dir={cache_dir}"]


def _steps(workdir):
  ckpt = workdir / "checkpoints"
  if not ckpt.exists():
    return []
  return sorted(int(p.name) for p in ckpt.iterdir() if p.name.isdigit())


def _env():
  # Two simulated devices: the run is still sharded, and steps are cheaper
  # than on the eight the other tests use.
  env = dict(os.environ)
  env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
  return env


def final_params(workdir):
  step, state = checkpoint_lib.load_state(workdir / "checkpoints")
  return step, state["params"]


def test_sigkill_then_resume_matches_uninterrupted(tmp_path, cache_dir):
  straight, killed = tmp_path / "straight", tmp_path / "killed"
  log = open(tmp_path / "log.txt", "w")
  subprocess.run(_command(straight, cache_dir), check=True, stdout=log,
                 stderr=subprocess.STDOUT, cwd=REPO, env=_env())

  proc = subprocess.Popen(_command(killed, cache_dir), stdout=log,
                          stderr=subprocess.STDOUT, cwd=REPO, env=_env(),
                          start_new_session=True)
  deadline = time.time() + 300
  while time.time() < deadline and proc.poll() is None:
    if any(8 <= s < STEPS for s in _steps(killed)):
      break
    time.sleep(0.02)
  # SIGKILL the run and its Grain worker processes: nothing gets to clean up.
  os.killpg(proc.pid, signal.SIGKILL)
  proc.wait()
  assert proc.returncode == -signal.SIGKILL, "the run ended before the kill"
  assert not (killed / "results.json").exists()
  killed_at = _steps(killed)[-1]
  assert killed_at < STEPS

  subprocess.run(_command(killed, cache_dir), check=True, stdout=log,
                 stderr=subprocess.STDOUT, cwd=REPO, env=_env())
  log.close()
  assert f"Resumed from checkpoint at step {killed_at}" in (
      tmp_path / "log.txt").read_text()

  step_a, params_a = final_params(straight)
  step_b, params_b = final_params(killed)
  assert step_a == step_b == STEPS
  leaves_a, leaves_b = jax.tree.leaves(params_a), jax.tree.leaves(params_b)
  assert len(leaves_a) == len(leaves_b) > 0
  for a, b in zip(leaves_a, leaves_b):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
