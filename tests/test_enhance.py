"""`python -m vidjax.enhance` on generated mp4 files with an audio track."""

import fractions
import os
import subprocess
import sys

import av
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.conftest import REPO, load_config
from vidjax import enhance
from vidjax.data.pipeline import DatasetInfo
from vidjax.tasks import denoising
from vidjax.tasks import super_resolution
from vidjax.train import checkpoint as checkpoint_lib

DNCNN = REPO / "configs" / "denoising" / "dncnn_synthetic.py"
ESPCN = REPO / "configs" / "super_resolution" / "espcn_synthetic.py"
INFO = DatasetInfo(num_classes=0, class_names=(), num_train=1, num_eval=1,
                   root="")
LEVELS = [20 + 9 * i for i in range(23)]  # frame i is grey level LEVELS[i]


def write_video(path, num_frames=len(LEVELS), size=(40, 24), fps=12,
                audio=True):
  """An H.264 mp4 whose frame i is a flat grey LEVELS[i] with a white square
  (so each frame is identifiable), plus a 440 Hz AAC track."""
  w, h = size
  with av.open(str(path), "w") as out:
    v = out.add_stream("libx264", rate=fps)
    v.width, v.height, v.pix_fmt = w, h, "yuv420p"
    v.options = {"crf": "1", "preset": "ultrafast"}
    a = None
    if audio:
      a = out.add_stream("aac", rate=16000)
      a.layout = "mono"
    for i in range(num_frames):
      img = np.full((h, w, 3), LEVELS[i % len(LEVELS)], np.uint8)
      img[4:12, 4:12] = 255
      for packet in v.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
        out.mux(packet)
    for packet in v.encode():
      out.mux(packet)
    if a is not None:
      n = int(16000 * num_frames / fps)
      t = np.arange(n) / 16000
      tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
      for start in range(0, n, 1024):
        chunk = tone[None, start:start + 1024]
        frame = av.AudioFrame.from_ndarray(chunk, format="flt",
                                           layout="mono")
        frame.sample_rate = 16000
        frame.pts = start
        frame.time_base = fractions.Fraction(1, 16000)
        for packet in a.encode(frame):
          out.mux(packet)
      for packet in a.encode():
        out.mux(packet)
  return path


def read_video(path):
  with av.open(str(path)) as c:
    v = c.streams.video[0]
    fps = float(v.average_rate)
    has_audio = bool(c.streams.audio)
    audio_s = (float(c.streams.audio[0].duration *
                     c.streams.audio[0].time_base) if has_audio else 0.0)
    frames = np.stack([f.to_ndarray(format="rgb24") for f in c.decode(v)])
  return frames, fps, has_audio, audio_s


def save_checkpoint(task, config, workdir, transform=None):
  """A checkpoint of the task's initial state (optionally transformed)."""
  d = config.data
  video = jnp.zeros((1, d.num_frames, d.image_size, d.image_size, 3))
  state = task.init_state(jax.random.key(0), {"video": video})
  if transform is not None:
    state = state.replace(params=transform(state.params))
  ckpt = checkpoint_lib.Checkpointer(os.path.join(workdir, "checkpoints"),
                                     async_save=False)
  ckpt.save(1, state, None)
  ckpt.close()
  return workdir


def _identity_dncnn(params):
  """DnCNN outputs input - conv_out(...): zero conv_out is the identity."""
  out = dict(params)
  out["conv_out"] = jax.tree.map(jnp.zeros_like, params["conv_out"])
  return out


@pytest.fixture(scope="module")
def identity_checkpoint(tmp_path_factory):
  config = load_config(DNCNN, "tiny")
  workdir = tmp_path_factory.mktemp("dncnn_identity")
  save_checkpoint(denoising.Task(config, INFO, 1), config, str(workdir),
                  _identity_dncnn)
  return config, str(workdir)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
  return write_video(tmp_path_factory.mktemp("in") / "in.mp4")


@pytest.mark.parametrize("window,overlap", [(5, 2), (4, None)])
def test_windows_keep_every_frame_in_order_with_fps_and_audio(
    identity_checkpoint, clip, tmp_path, window, overlap):
  """An identity model through overlapping windows (mirrored at both ends)
  gives back every input frame, in order, at the input's frame rate, with
  the audio track copied."""
  config, workdir = identity_checkpoint
  out = tmp_path / "out.mp4"
  summary = enhance.enhance_file(config, workdir, str(clip), str(out),
                                 window=window, overlap=overlap,
                                 options={"sigma": 25})
  frames, fps, has_audio, audio_s = read_video(out)
  src, src_fps, _, src_audio_s = read_video(clip)
  assert summary["frames"] == len(frames) == len(src) == len(LEVELS)
  assert fps == pytest.approx(src_fps) and fps == 12
  assert has_audio and audio_s == pytest.approx(src_audio_s, abs=0.05)
  levels = frames[:, 16:, 16:].mean(axis=(1, 2, 3))
  np.testing.assert_allclose(levels, LEVELS, atol=2.0)
  assert np.abs(frames.astype(float) - src).mean() < 2.0
  assert [p for p in os.listdir(tmp_path) if p != "out.mp4"] == []


def test_plan_mirrors_past_both_ends():
  plan = enhance.WindowPlan(window=6, context=2)
  assert plan.core == 2
  np.testing.assert_array_equal(plan.indices(0, 10), [2, 1, 0, 1, 2, 3])
  np.testing.assert_array_equal(plan.indices(8, 10), [6, 7, 8, 9, 8, 7])
  assert enhance.reflect(-3, 1) == 0


def test_super_resolution_output_size_and_simulate(tmp_path):
  config = load_config(ESPCN, "tiny,x2")
  workdir = save_checkpoint(super_resolution.Task(config, INFO, 1), config,
                            str(tmp_path / "run"))
  clip = write_video(tmp_path / "in.mp4", num_frames=5, audio=False)
  out = tmp_path / "sr.mp4"
  summary = enhance.enhance_file(config, workdir, str(clip), str(out),
                                 window=4)
  frames, _, has_audio, _ = read_video(out)
  assert frames.shape == (5, 48, 80, 3) and not has_audio
  assert summary["output_size"] == (80, 48)
  # --simulate downscales first: the output has the input's size again;
  # --side_by_side puts the (enlarged) input on the left.
  enhance.enhance_file(config, workdir, str(clip), str(out), window=4,
                       simulate=True, side_by_side=True)
  frames, _, _, _ = read_video(out)
  assert frames.shape == (5, 24, 80, 3)


def _run_cli(*args):
  return subprocess.run(
      [sys.executable, "-m", "vidjax.enhance", *args, "--noprogress"],
      cwd=REPO, capture_output=True, text=True, timeout=300,
      env={**os.environ, "JAX_PLATFORMS": "cpu"})


def test_command_line_and_bad_inputs(identity_checkpoint, clip, tmp_path):
  _, workdir = identity_checkpoint
  common = [f"--config={DNCNN}:tiny", f"--checkpoint={workdir}"]
  out = tmp_path / "cli.mp4"
  ok = _run_cli(*common, f"--input={clip}", f"--output={out}", "--sigma=20",
                "--window=6")
  assert ok.returncode == 0, ok.stderr[-2000:]
  assert "23 frames at 12 fps" in ok.stdout and "audio copied" in ok.stdout
  assert len(read_video(out)[0]) == 23

  not_video = tmp_path / "notes.mp4"
  not_video.write_text("not a video")
  bad = _run_cli(*common, f"--input={not_video}", f"--output={out}.2.mp4",
                 "--sigma=20")
  assert bad.returncode == 2 and "notes.mp4" in bad.stderr
  assert "cannot read a video" in bad.stderr

  # Failed runs leave nothing behind: only the first output exists.
  assert sorted(p.name for p in tmp_path.iterdir()) == ["cli.mp4",
                                                        "notes.mp4"]


def test_bad_arguments_name_what_is_wrong(identity_checkpoint, clip,
                                          tmp_path):
  config, workdir = identity_checkpoint
  with pytest.raises(enhance.EnhanceError, match="nope.mp4"):
    enhance.enhance_file(config, workdir, str(tmp_path / "nope.mp4"),
                         str(tmp_path / "x.mp4"), options={"sigma": 10})
  with pytest.raises(ValueError, match="--sigma"):
    enhance.enhance_file(config, workdir, str(clip), str(tmp_path / "x.mp4"))
  with pytest.raises(enhance.EnhanceError, match="no checkpoint at step 7"):
    enhance.enhance_file(config, workdir, str(clip), str(tmp_path / "x.mp4"),
                         options={"sigma": 10}, step=7)
  with pytest.raises(enhance.EnhanceError, match="no such checkpoint"):
    enhance.enhance_file(config, str(tmp_path / "none"), str(clip),
                         str(tmp_path / "x.mp4"), options={"sigma": 10})
  assert list(tmp_path.iterdir()) == []


def test_failure_midway_leaves_the_old_output_untouched(
    identity_checkpoint, clip, tmp_path, monkeypatch):
  """The output is written under a temporary name and renamed at the end:
  a run that fails after some frames were encoded leaves no partial file
  and does not touch an existing output."""
  config, workdir = identity_checkpoint
  out = tmp_path / "out.mp4"
  out.write_bytes(b"previous result")
  real_decode = enhance._decode  # pylint: disable=protected-access

  def failing_decode(*args):
    for i, frame in enumerate(real_decode(*args)):
      if i == 12:
        raise enhance.EnhanceError("decoding failed halfway")
      yield frame
  monkeypatch.setattr(enhance, "_decode", failing_decode)
  with pytest.raises(enhance.EnhanceError, match="halfway"):
    enhance.enhance_file(config, workdir, str(clip), str(out), window=4,
                         options={"sigma": 10})
  assert out.read_bytes() == b"previous result"
  assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]


def test_too_large_for_memory_is_a_clear_error(identity_checkpoint, clip,
                                               tmp_path):
  config, workdir = identity_checkpoint
  with pytest.raises(enhance.EnhanceError, match="smaller --window"):
    enhance.enhance_file(config, workdir, str(clip),
                         str(tmp_path / "x.mp4"), window=4,
                         options={"sigma": 10}, max_memory_bytes=1000)
  assert list(tmp_path.iterdir()) == []


def test_checkpoint_of_another_model_is_a_clear_error(identity_checkpoint,
                                                      clip, tmp_path):
  _, workdir = identity_checkpoint
  config = load_config(DNCNN, "tiny")
  config.model.variant = "small"
  with pytest.raises(enhance.EnhanceError, match="does not hold the weights"):
    enhance.enhance_file(config, workdir, str(clip), str(tmp_path / "x.mp4"),
                         options={"sigma": 10})
