"""`python -m vidjax.data check` on a folder holding broken files."""

import subprocess
import sys

import numpy as np

from tests.data import videos
from vidjax.data import __main__ as cli
from vidjax.data import check
from vidjax.data import pipeline


def _broken_folder(root):
  """Two good videos and one of each kind of broken file."""
  (root / "good").mkdir(parents=True)
  frames = videos.moving_frames(20, 16, 16)
  videos.write_video(root / "good" / "a.mp4", frames, fps=10)
  videos.write_video(root / "good" / "b.webm", frames[:12], "libvpx-vp9",
                     fps=10)
  rng = np.random.default_rng(0)
  (root / "corrupt.mp4").write_bytes(
      rng.integers(0, 256, 4096, np.uint8).tobytes())
  (root / "empty.avi").write_bytes(b"")
  # Index at the front (faststart): the header promises 20 frames, the data
  # stops half way.
  whole = videos.write_video(root.parent / "whole.mp4", frames, fps=10,
                             container_options={"movflags": "+faststart"})
  data = open(whole, "rb").read()
  (root / "truncated.mp4").write_bytes(data[:len(data) // 2])
  videos.write_audio_only(root / "audio_only.mp4",
                          np.zeros(16000, np.float32))
  return root


def test_check_folder_reports_each_failure_and_exits_non_zero(tmp_path,
                                                             capsys):
  root = _broken_folder(tmp_path / "data")
  code = cli.main(["check", str(root), "--no_progress"])
  out = capsys.readouterr().out
  assert code == 1
  fails = {line.split(":")[0].removeprefix("FAIL ").rsplit("/", 1)[-1]:
           line for line in out.splitlines() if line.startswith("FAIL ")}
  assert sorted(fails) == ["audio_only.mp4", "corrupt.mp4", "empty.avi",
                           "truncated.mp4"]
  assert "empty file (0 bytes)" in fails["empty.avi"]
  assert "unreadable container" in fails["corrupt.mp4"]
  assert "no video stream" in fails["audio_only.mp4"]
  assert "truncated" in fails["truncated.mp4"]
  assert "checked 6 videos: 2 ok, 4 failed" in out
  for kind in ("empty: 1", "no video stream: 1", "truncated: 1",
               "unreadable: 1"):
    assert f"  {kind}" in out


def test_check_clip_length_and_clean_folder(tmp_path, capsys):
  root = tmp_path / "data"
  root.mkdir()
  frames = videos.moving_frames(20, 16, 16)
  videos.write_video(root / "long.mp4", frames, fps=10)
  videos.write_video(root / "short.mp4", frames[:6], fps=10)
  assert cli.main(["check", str(root), "--no_progress"]) == 0
  assert "checked 2 videos: 2 ok, 0 failed" in capsys.readouterr().out
  assert cli.main(["check", str(root), "--no_progress",
                   "--min_frames", "8"]) == 1
  out = capsys.readouterr().out
  assert "short.mp4: fewer frames than a clip needs (6 < 8)" in out
  assert "too short: 1" in out


def test_check_full_decode_finds_truncation(tmp_path):
  """A damaged middle is found by decoding everything (`--full`)."""
  root = _broken_folder(tmp_path / "data")
  opts = pipeline.ClipOptions(num_frames=1, stride=1, pad_mode="loop",
                              image_size=1, mean=(0.0,), std=(1.0,))
  results = check.check_records(check.folder_records(root), opts, full=True)
  by_name = {r.path.rsplit("/", 1)[-1]: r for r in results}
  assert by_name["a.mp4"].ok and by_name["a.mp4"].num_frames == 20
  assert by_name["truncated.mp4"].kind == "truncated"


def test_check_runs_as_a_module(tmp_path):
  root = _broken_folder(tmp_path / "data")
  run = subprocess.run([sys.executable, "-m", "vidjax.data", "check",
                        str(root), "--no_progress"], capture_output=True,
                       text=True, timeout=120, check=False)
  assert run.returncode == 1, run.stderr
  assert run.stdout.count("FAIL ") == 4


def test_check_a_config_reads_its_splits(tiny_root, cache_dir, capsys):
  del tiny_root  # generated
  from tests.conftest import REPO  # pylint: disable=g-import-not-at-top
  code = cli.main(["check", f"{REPO / 'configs' / 'quickstart.py'}:tiny",
                   "--set", f"data.synthetic.cache_dir={cache_dir}",
                   "--no_progress"])
  out = capsys.readouterr().out
  assert code == 0, out
  last = [l for l in out.splitlines() if l.startswith("checked")][0]
  total = int(last.split()[1])
  assert total > 0 and last.endswith(f"{total} ok, 0 failed")
