"""Decoding what real collections contain, against frames decoded directly
with PyAV: codecs, odd sizes, pixel formats, rotation, variable frame rate,
short videos, audio."""

import numpy as np
import pytest

from tests.data import videos
from vidjax.data import audio as audio_lib
from vidjax.data import pipeline
from vidjax.data.decode import open_video

INDICES = np.array([0, 3, 4, 11, 7, 7])

# (encoder, container, pixel format, height, width)
CASES = [
    ("libx264", "mp4", "yuv420p", 24, 32),
    ("libx265", "mp4", "yuv420p", 24, 32),
    ("libvpx-vp9", "webm", "yuv420p", 24, 32),
    ("libsvtav1", "mkv", "yuv420p", 64, 64),  # SVT-AV1 needs >= 64 px
    ("libx264", "mp4", "yuv444p", 19, 33),  # odd sizes need 4:4:4
    ("libx265", "mkv", "gray", 24, 32),
    ("libx265", "mp4", "yuv420p10le", 24, 32),
    ("libx264", "mp4", "yuv420p10le", 24, 32),
]


def _id(case):
  return f"{case[0]}-{case[2]}-{case[3]}x{case[4]}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_codecs_and_pixel_formats_match_pyav(tmp_path, case):
  codec, ext, pix_fmt, h, w = case
  if not videos.has_encoder(codec):
    pytest.skip(f"this PyAV/FFmpeg build has no {codec} encoder")
  source = videos.moving_frames(12, h, w)
  if pix_fmt == "gray":
    source = source.mean(-1).astype(np.uint8)
  path = videos.write_video(tmp_path / f"v.{ext}", source, codec, pix_fmt,
                            fps=10)
  direct, _ = videos.decode_all_pyav(path)
  with open_video(path) as reader:
    assert reader.info.num_frames == 12
    assert (reader.info.height, reader.info.width) == (h, w)
    assert reader.info.pix_fmt.startswith(pix_fmt.replace("le", ""))
    got = reader.read(INDICES)
  assert got.dtype == np.uint8 and got.shape == (len(INDICES), h, w, 3)
  np.testing.assert_array_equal(got, np.stack([direct[i] for i in INDICES]))
  # And the frames are the ones encoded (lossy, so loosely).
  want = source[INDICES]
  if want.ndim == 3:
    want = np.repeat(want[..., None], 3, -1)
  assert np.abs(got.astype(float) - want).mean() < 12


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotation_metadata_turns_frames_upright(tmp_path, rotation):
  source = videos.moving_frames(6, 16, 32)
  path = videos.write_video(tmp_path / "r.mp4", source, rotation=rotation,
                            fps=10)
  direct, _ = videos.decode_all_pyav(path)
  with open_video(path) as reader:
    assert reader.display_rotation() == rotation
    got = reader.read([1, 4])
  # The display matrix rotates counter-clockwise by `rotation` degrees.
  want = np.stack([np.rot90(direct[i], rotation // 90) for i in (1, 4)])
  assert got.shape[1:3] == ((32, 16) if rotation % 180 else (16, 32))
  np.testing.assert_array_equal(got, want)


def test_variable_frame_rate_is_sampled_by_timestamp(tmp_path):
  times = np.array([0.0, 0.05, 0.3, 0.35, 0.9, 1.0, 1.02, 1.5])
  source = videos.moving_frames(len(times), 16, 16)
  path = videos.write_video(tmp_path / "vfr.mkv", source, fps=10,
                            times=times)
  direct, direct_times = videos.decode_all_pyav(path)
  np.testing.assert_allclose(direct_times, times, atol=1e-3)
  queries = np.array([0.0, 0.2, 0.31, 0.95, 1.01, 1.49, 1.55])
  with open_video(path) as reader:
    got = reader.read_times(queries)
  # The frame on screen at t: the last one whose time is <= t.
  on_screen = np.searchsorted(times, queries + 1e-6, side="right") - 1
  np.testing.assert_array_equal(got, np.stack([direct[i] for i in on_screen]))


@pytest.mark.parametrize("pad_mode,expected", [
    ("loop", [0, 2, 4, 1, 3, 0]), ("repeat_last", [0, 2, 4, 4, 4, 4])])
def test_short_video_loops_or_pads(tmp_path, pad_mode, expected):
  source = videos.moving_frames(5, 16, 16)
  path = videos.write_video(tmp_path / "short.mp4", source, fps=10)
  direct, _ = videos.decode_all_pyav(path)
  opts = pipeline.ClipOptions(num_frames=6, stride=2, pad_mode=pad_mode,
                              image_size=16, mean=(0.0,), std=(1.0,))
  reader, grid = pipeline.open_grid(dict(path=path), opts)
  with reader:
    idx = pipeline.sampling.uniform_clips_indices(grid.num, 6, 2, 1,
                                                  pad_mode)[0]
    np.testing.assert_array_equal(idx, expected)
    got = grid.read(reader, idx)
  np.testing.assert_array_equal(got, np.stack([direct[i] for i in expected]))


def test_short_video_without_padding_is_a_counted_failure(tmp_path):
  path = videos.write_video(tmp_path / "short.mp4",
                            videos.moving_frames(5, 16, 16), fps=10)
  opts = pipeline.ClipOptions(num_frames=6, stride=2, pad_mode="none",
                              image_size=16, mean=(0.0,), std=(1.0,))
  out = pipeline.TrainClip(opts).random_map(dict(path=path, label=0,
                                                 video_id=0),
                                            np.random.default_rng(0))
  assert out[pipeline.FAILED] == path
  assert "fewer frames than a clip needs (5 < 11)" in out["reason"]


def test_audio_waveform_and_log_mel(tmp_path):
  rate, f0 = 16000, 1000.0
  t = np.arange(2 * rate) / rate
  wave = (0.5 * np.sin(2 * np.pi * f0 * t)).astype(np.float32)
  wave[rate:] = 0.0  # a second of tone, then a second of silence
  path = videos.write_video(tmp_path / "a.mkv",
                            videos.moving_frames(20, 16, 16), fps=10,
                            audio=wave, audio_rate=rate,
                            audio_codec="pcm_s16le")
  with open_video(path) as reader:
    assert reader.info.has_audio
    got = reader.read_audio(0.25, 0.5, rate)
    late = reader.read_audio(1.5, 1.0, rate)  # past the end: zero-padded
  assert got.shape == (rate // 2,)
  np.testing.assert_allclose(got, wave[rate // 4:3 * rate // 4], atol=2e-4)
  assert late.shape == (rate,) and np.abs(late).max() < 1e-3

  logmel = audio_lib.log_mel_spectrogram(got, rate, num_mel_bins=40)
  assert logmel.shape == (audio_lib.frame_count(rate // 2, 400, 160), 40)
  # The tone's energy sits in the filter whose peak is nearest 1 kHz.
  bank = audio_lib.mel_filterbank(40, 512, rate)
  peaks_hz = np.argmax(bank, 0) * rate / 512
  assert abs(peaks_hz[np.argmax(logmel.mean(0))] - f0) < 100
  # Parseval: summed filter energies follow the power of the windowed tone.
  hann_power = np.mean(np.hanning(401)[:-1] ** 2)
  expected = (0.5 ** 2 / 2) * 400 * hann_power * 512 / 2
  total = np.exp(logmel).sum(-1).mean()
  assert 0.5 * expected < total < 1.5 * expected


def test_pipeline_audio_keys(tmp_path):
  rate = 8000
  wave = np.sin(np.arange(2 * rate) * 0.3).astype(np.float32) * 0.3
  with_audio = videos.write_video(tmp_path / "a.mkv",
                                  videos.moving_frames(20, 16, 16), fps=10,
                                  audio=wave, audio_rate=rate,
                                  audio_codec="pcm_s16le")
  silent = videos.write_video(tmp_path / "s.mp4",
                              videos.moving_frames(20, 16, 16), fps=10)
  opts = pipeline.ClipOptions(
      num_frames=4, stride=2, pad_mode="loop", image_size=16, mean=(0.0,),
      std=(1.0,), audio=pipeline.AudioOptions(
          enabled=True, sample_rate=rate, duration=1.0, num_mel_bins=16))
  clip = pipeline.TrainClip(opts)
  a = clip.random_map(dict(path=with_audio, label=0, video_id=0),
                      np.random.default_rng(0))
  s = clip.random_map(dict(path=silent, label=0, video_id=1),
                      np.random.default_rng(0))
  assert a["audio"].shape == s["audio"].shape == (rate,)
  assert a["audio_logmel"].shape == s["audio_logmel"].shape == (98, 16)
  assert a["has_audio"] == 1 and s["has_audio"] == 0
  assert np.abs(a["audio"]).max() > 0.2 and np.abs(s["audio"]).max() == 0
