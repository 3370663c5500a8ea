"""Real multi-process training: 2 processes x 4 simulated CPU devices joined
through jax.distributed on localhost, against 1 process x 8 devices."""

import json
import os
import re
import socket
import subprocess
import sys

import jax
import numpy as np

from tests.conftest import REPO
from tests.train.test_resume import final_params

STEPS = 4


def _free_port():
  with socket.socket() as s:
    s.bind(("localhost", 0))
    return s.getsockname()[1]


def _command(workdir, cache_dir, *extra):
  return [sys.executable, str(REPO / "launch.py"),
          f"--config={REPO / 'configs' / 'quickstart.py'}:tiny",
          f"--workdir={workdir}",
          f"--config.train.num_steps={STEPS}",
          "--config.train.log_every=1",
          "--config.optimizer.name=sgd",
          "--config.optimizer.learning_rate=0.05",
          "--config.data.image_size=32", "--config.data.num_frames=8",
          "--config.data.stride=1",
          f"--config.data.synthetic.cache_dir={cache_dir}", *extra]


def _env(devices):
  env = dict(os.environ)
  env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
  return env


def _losses(log: str) -> dict[int, float]:
  return {int(s): float(v) for s, v in
          re.findall(r"step (\d+): loss=([-\d.e+]+)", log)}


def test_two_processes_match_one_and_hand_over(tmp_path, cache_dir):
  two = tmp_path / "two"
  port = _free_port()
  procs = [subprocess.Popen(
      _command(two, cache_dir, f"--coordinator_address=localhost:{port}",
               "--num_processes=2", f"--process_id={i}"),
      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
      env=_env(4)) for i in range(2)]
  logs = [p.communicate(timeout=600)[0] for p in procs]
  for p, log in zip(procs, logs):
    assert p.returncode == 0, log[-3000:]
  assert "process 0 of 2" in logs[0] and "process 1 of 2" in logs[1]

  # Both processes see the same (global) loss at every step.
  per_process = [_losses(log) for log in logs]
  assert sorted(per_process[0]) == list(range(1, STEPS + 1))
  assert per_process[0] == per_process[1]
  # Only process 0 writes logs and results.
  results = json.loads((two / "results.json").read_text())
  assert results["num_processes"] == 2 and results["num_devices"] == 8

  one = tmp_path / "one"
  out = subprocess.run(_command(one, cache_dir), capture_output=True,
                       text=True, cwd=REPO, env=_env(8), timeout=600)
  assert out.returncode == 0, out.stderr[-3000:]
  single = _losses(out.stderr)
  np.testing.assert_allclose([per_process[0][s] for s in sorted(single)],
                             [single[s] for s in sorted(single)], rtol=1e-4)
  _, params_two = final_params(two)
  _, params_one = final_params(one)
  for a, b in zip(jax.tree.leaves(params_two), jax.tree.leaves(params_one)):
    a, b = np.asarray(a), np.asarray(b)
    np.testing.assert_allclose(a, b, atol=1e-4 * np.abs(b).max())

  # The 2-process checkpoint restores into a 1-process run, which goes on.
  out = subprocess.run(
      _command(two, cache_dir, f"--config.train.num_steps={STEPS + 2}"),
      capture_output=True, text=True, cwd=REPO, env=_env(8), timeout=600)
  assert out.returncode == 0, out.stderr[-3000:]
  assert f"Resumed from checkpoint at step {STEPS}" in out.stderr
  assert "restarting the data stream at batch" in out.stderr
  assert json.loads((two / "results.json").read_text())["step"] == STEPS + 2
