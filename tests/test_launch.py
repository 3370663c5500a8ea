"""launch.py: --help explains, the config is locked against typos."""

import subprocess
import sys

from tests.conftest import REPO


def _launch(*args):
  return subprocess.run([sys.executable, str(REPO / "launch.py"), *args],
                        capture_output=True, text=True, cwd=REPO, timeout=300)


def test_help_explains_usage():
  out = _launch("--help")  # absl exits with status 1 after --help
  text = out.stdout + out.stderr
  for needle in ("--config", "--workdir", "resumes", "--config.<field>"):
    assert needle in text, needle


def test_misspelt_override_is_an_error(tmp_path):
  out = _launch(f"--config={REPO / 'configs' / 'quickstart.py'}:tiny",
                f"--workdir={tmp_path}", "--config.train.num_step=5")
  assert out.returncode != 0
  assert "num_step" in out.stderr
  assert not (tmp_path / "results.json").exists()


def test_missing_workdir_is_an_error():
  out = _launch(f"--config={REPO / 'configs' / 'quickstart.py'}:tiny")
  assert out.returncode != 0 and "workdir" in out.stderr
