"""Seek-based decoding returns exactly the requested frames; bad files fail
with a DecodeError naming the file and the reason."""

import av
import numpy as np
import pytest

from vidjax.data import synthetic
from vidjax.data.decode import DecodeError, open_video


@pytest.fixture(scope="module")
def video(tmp_path_factory):
  """A 40-frame H.264 file with a keyframe every 8 frames."""
  rng = np.random.default_rng(0)
  frames = rng.integers(0, 256, (40, 24, 32, 3), dtype=np.uint8)
  path = tmp_path_factory.mktemp("decode") / "clip.mp4"
  synthetic.write_video(path, frames, fps=25, options={"g": "8"})
  return path


@pytest.mark.parametrize("indices", [
    [0, 1, 2, 3], [5, 7, 9, 11], [17, 21, 25, 29, 33, 37], [39], [30, 2, 30],
    list(range(40))])
def test_read_matches_decoding_everything(video, indices):
  with open_video(video) as reader:
    everything = reader.read_all()
  with open_video(video) as reader:
    got = reader.read(indices)
  assert got.shape == (len(indices), 24, 32, 3)
  assert got.dtype == np.uint8
  np.testing.assert_array_equal(got, everything[indices])


def test_several_reads_from_one_reader(video):
  """Training with several views reads clips in any order from one reader;
  a later clip that starts at frame 0 must seek back too."""
  with open_video(video) as reader:
    everything = reader.read_all()
  with open_video(video) as reader:
    for indices in ([20, 22, 24], [0, 2, 4], [9, 10], [0, 1], [38, 39]):
      np.testing.assert_array_equal(reader.read(indices),
                                    everything[indices])


def test_info(video):
  with open_video(video) as reader:
    info = reader.info
  assert (info.num_frames, info.width, info.height) == (40, 32, 24)
  assert info.fps == 25 and info.codec == "h264"


def test_past_the_end_is_a_decode_error(video):
  with open_video(video) as reader, pytest.raises(DecodeError, match="40"):
    reader.read([38, 40])


def _audio_only(path):
  with av.open(str(path), "w") as c:
    stream = c.add_stream("aac", rate=16000)
    samples = np.zeros((1, 16000), np.float32)
    frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
    frame.sample_rate = 16000
    for packet in stream.encode(frame):
      c.mux(packet)
    for packet in stream.encode(None):
      c.mux(packet)


def bad_files(tmp_path, good):
  """Paths of the four kinds of broken file a real collection contains."""
  data = good.read_bytes()
  files = {
      "corrupt": tmp_path / "corrupt.mp4",
      "truncated": tmp_path / "truncated.mp4",
      "empty": tmp_path / "empty.mp4",
      "audio_only": tmp_path / "audio_only.m4a",
  }
  rng = np.random.default_rng(1)
  files["corrupt"].write_bytes(rng.integers(0, 256, 4096, np.uint8).tobytes())
  files["truncated"].write_bytes(data[:len(data) // 2])
  files["empty"].write_bytes(b"")
  _audio_only(files["audio_only"])
  return files


@pytest.mark.parametrize("kind,reason", [
    ("corrupt", "unreadable"), ("truncated", "unreadable|truncated"),
    ("empty", "empty"), ("audio_only", "no video stream")])
def test_bad_files_raise_decode_error(tmp_path, video, kind, reason):
  path = bad_files(tmp_path, video)[kind]
  with pytest.raises(DecodeError, match=reason) as err:
    with open_video(path) as reader:
      reader.read([0, 1, 2])
  assert err.value.path == str(path)
  assert str(path) in str(err.value)


def test_missing_file(tmp_path):
  with pytest.raises(DecodeError, match="no such file"):
    open_video(tmp_path / "nope.mp4")
