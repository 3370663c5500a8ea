"""Video decoding with PyAV: only the frames a clip needs, found by seeking.

`open_video` probes a file (or the bytes of one) and `VideoReader` decodes
the frames a clip needs, seeking to the keyframe before the first one instead
of decoding the whole file:

- `read(indices)`: frames by number, in presentation order (frame i is the
  one on screen at time i / fps, exact for constant-frame-rate files);
- `read_times(times)`: the frame on screen at each time in seconds, for
  variable-frame-rate files or a fixed sampling rate across videos;
- `read_audio(start, duration, rate)`: a mono waveform.

Frames come out as uint8 RGB [T, H, W, 3] whatever the codec (H.264, H.265,
VP9, AV1, ...) and pixel format (8- or 10-bit, 4:2:0 or 4:4:4, grayscale),
turned upright when the container carries a display rotation. Anything that
makes a file unusable raises `DecodeError`, which names the file and says
why; the data pipeline turns it into a skipped, counted example.
"""

from __future__ import annotations

import dataclasses
import io
import math
import os
from typing import Sequence

import av
import numpy as np


class DecodeError(Exception):
  """A video cannot deliver the requested frames; names the file and reason."""

  def __init__(self, path: str | os.PathLike, reason: str):
    super().__init__(f"{path}: {reason}")
    self.path = str(path)
    self.reason = reason


@dataclasses.dataclass(frozen=True)
class VideoInfo:
  """What a reader knows about a video stream before decoding it.

  width/height: the coded frame size; frames that `read` returns are turned
  upright when the container carries a display rotation (see
  `VideoReader.display_rotation`), which swaps them for 90 and 270 degrees.
  fps: the average frame rate; num_frames: frames in the stream (estimated
  from the duration when the container does not store a count).
  """

  path: str
  num_frames: int
  fps: float
  width: int
  height: int
  codec: str
  pix_fmt: str = "rgb24"
  has_audio: bool = False

  @property
  def duration(self) -> float:
    return self.num_frames / self.fps


def _check_indices(indices) -> np.ndarray:
  indices = np.asarray(indices, dtype=np.int64)
  if indices.ndim != 1 or indices.size == 0:
    raise ValueError(f"indices must be a non-empty 1-D array, got "
                     f"shape {indices.shape}")
  if indices.min() < 0:
    raise ValueError(f"negative frame index {indices.min()}")
  return indices


def _check_times(times) -> np.ndarray:
  times = np.asarray(times, dtype=np.float64)
  if times.ndim != 1 or times.size == 0:
    raise ValueError(f"times must be a non-empty 1-D array, got "
                     f"shape {times.shape}")
  if times.min() < 0:
    raise ValueError(f"negative time {times.min()}")
  return times


class Reader:
  """What every frame reader offers; subclasses set `info` and `path`."""

  path: str
  info: VideoInfo

  def read(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
    """uint8 RGB [len(indices), H, W, 3] of the frames at `indices`."""
    raise NotImplementedError

  def read_times(self, times: Sequence[float] | np.ndarray) -> np.ndarray:
    """uint8 RGB [len(times), H, W, 3]: the frame on screen at each time.

    Times are seconds from the first frame. The default, for sources with a
    constant rate, is frame floor(t * fps).
    """
    times = _check_times(times)
    return self.read(np.floor(times * self.info.fps + 1e-6).astype(np.int64))

  def read_audio(self, start: float, duration: float,
                 sample_rate: int) -> np.ndarray | None:
    """Mono float32 waveform [round(duration * rate)] from `start` seconds,
    zero-padded past the end; None when there is no audio track."""
    del start, duration, sample_rate
    return None

  def close(self) -> None:
    pass

  def __enter__(self) -> "Reader":
    return self

  def __exit__(self, *exc) -> None:
    self.close()


def _rotation(frame: av.VideoFrame) -> int:
  """Display rotation in degrees counter-clockwise, a multiple of 90."""
  try:
    r = frame.rotation
  except (AttributeError, ValueError):  # no display matrix
    return 0
  return int(round((r or 0) / 90.0)) * 90 % 360


def _to_rgb(frame: av.VideoFrame) -> np.ndarray:
  rgb = frame.to_ndarray(format="rgb24")
  k = _rotation(frame) // 90
  return np.ascontiguousarray(np.rot90(rgb, k)) if k else rgb


class VideoReader(Reader):
  """An open video file; use as a context manager or call `close()`.

  `source`: a path, or the bytes / a binary file object of a whole video
  (then `name` is used in messages). `threads`: decoder threads (0: FFmpeg's
  choice). Data pipelines decode many short clips in parallel worker
  processes, where one thread per decoder is fastest: frame threading adds a
  delay of one frame per thread to every seek.
  """

  def __init__(self, source, threads: int = 1, name: str | None = None):
    if isinstance(source, (bytes, bytearray, memoryview)):
      self.path = name or "<bytes>"
      if len(source) == 0:
        raise DecodeError(self.path, "empty file (0 bytes)")
      source = io.BytesIO(source)
    elif hasattr(source, "read"):
      self.path = name or "<stream>"
    else:
      self.path = str(source)
      if not os.path.exists(self.path):
        raise DecodeError(self.path, "no such file")
      if os.path.isdir(self.path):
        raise DecodeError(self.path, "is a folder, not a video file")
      if os.path.getsize(self.path) == 0:
        raise DecodeError(self.path, "empty file (0 bytes)")
      source = self.path
    try:
      self._container = av.open(source, metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as e:
      raise DecodeError(self.path, f"unreadable container ({e})") from e
    if not self._container.streams.video:
      self._container.close()
      raise DecodeError(self.path, "no video stream")
    self._stream = self._container.streams.video[0]
    self._stream.codec_context.thread_count = threads
    self._at_start = True  # nothing demuxed yet: no seek needed for frame 0
    self.info = self._probe()

  def _probe(self) -> VideoInfo:
    s = self._stream
    rate = s.average_rate or s.guessed_rate or s.base_rate
    if not rate:
      raise DecodeError(self.path, "unknown frame rate")
    fps = float(rate)
    num_frames = int(s.frames or 0)
    if num_frames <= 0:
      # Some containers (webm, some avi) do not store a frame count.
      if s.duration is not None and s.time_base is not None:
        num_frames = int(round(float(s.duration * s.time_base) * fps))
      elif self._container.duration is not None:
        num_frames = int(round(self._container.duration / av.time_base * fps))
    if num_frames <= 0:
      raise DecodeError(self.path, "zero frames")
    ctx = s.codec_context
    return VideoInfo(
        path=self.path, num_frames=num_frames, fps=fps, width=ctx.width,
        height=ctx.height, codec=ctx.name, pix_fmt=ctx.pix_fmt or "",
        has_audio=bool(self._container.streams.audio))

  def display_rotation(self) -> int:
    """Degrees counter-clockwise that `read` turns frames by (0 if none).

    The display matrix is container side data that FFmpeg attaches to every
    decoded frame (PyAV exposes it on frames only), so this decodes one
    frame; `read` needs no probe and rotates each frame as it converts it.
    """
    try:
      self._rewind()
      self._at_start = False
      for frame in self._decode():
        return _rotation(frame)
    except av.error.FFmpegError as e:
      raise self._decode_error(e) from e
    finally:
      self._rewind()
    return 0

  def _rewind(self) -> None:
    if self._at_start:
      return
    try:
      self._container.seek(0, stream=self._stream, backward=True)
    except av.error.FFmpegError:
      pass

  def _decode(self):
    """Decoded frames of the video stream, remembering the last packet so a
    failure can tell a file cut short from damaged data."""
    self._last_packet_end = None
    for packet in self._container.demux(self._stream):
      if packet.pos is not None and packet.pos >= 0:
        self._last_packet_end = packet.pos + packet.size
      yield from packet.decode()

  def _decode_error(self, e: Exception, what: str = "decoding failed"
                    ) -> DecodeError:
    end = getattr(self, "_last_packet_end", None)
    try:
      size = os.path.getsize(self.path)
    except OSError:
      size = None
    if end is not None and size is not None and end >= size:
      return DecodeError(self.path, f"truncated: the file ends inside frame "
                         f"data ({size} bytes; {what}: {e})")
    return DecodeError(self.path, f"{what} ({e})")

  # Timestamps: everything below works in seconds from the stream start.

  def _frame_time(self, frame: av.VideoFrame) -> float:
    if frame.pts is None:
      raise DecodeError(self.path, "frame without a timestamp")
    s = self._stream
    return float((frame.pts - (s.start_time or 0)) * s.time_base)

  def _seek(self, seconds: float) -> None:
    s = self._stream
    target = (s.start_time or 0) + int(seconds / s.time_base)
    self._container.seek(target, stream=s, backward=True, any_frame=False)
    self._at_start = False

  def _read_at(self, targets: np.ndarray, tolerance: float,
               what: str) -> list[np.ndarray]:
    """The frame on screen at each target time (seconds).

    A frame is on screen from its timestamp until the next frame's. Targets
    past the last frame by more than `tolerance` seconds mean the file holds
    less than it claims (truncated). Each frame is converted once however
    many targets it serves.
    """
    order = np.argsort(targets, kind="stable")
    out: list[np.ndarray | None] = [None] * len(targets)
    pos = 0  # next target (in sorted order) to assign
    prev, prev_time, prev_rgb = None, -math.inf, None
    last_time = None

    def assign(rgb):
      nonlocal pos
      out[order[pos]] = rgb
      pos += 1

    try:
      first = float(targets[order[0]])
      if first > 1.0 / self.info.fps:
        self._seek(first)
      else:
        self._rewind()
      self._at_start = False
      for frame in self._decode():
        t = self._frame_time(frame)
        last_time = t
        # Targets before this frame's time show the previous frame (or this
        # one if the seek landed after them, e.g. a stream starting late).
        while pos < len(targets) and targets[order[pos]] < t - 1e-6:
          if prev is None:
            prev, prev_time = frame, t
          if prev_rgb is None:
            prev_rgb = _to_rgb(prev)
          assign(prev_rgb)
        if pos == len(targets):
          break
        if prev is not frame:
          prev, prev_time, prev_rgb = frame, t, None
    except av.error.FFmpegError as e:
      raise self._decode_error(e) from e
    if pos < len(targets) and prev is not None:
      # Past the last decoded frame: it stays on screen for one frame time.
      while (pos < len(targets) and
             targets[order[pos]] <= prev_time + tolerance):
        if prev_rgb is None:
          prev_rgb = _to_rgb(prev)
        assign(prev_rgb)
    if pos < len(targets):
      missing = [float(targets[i]) for i in order[pos:]]
      shown = ", ".join(f"{m:.3g}" for m in missing[:5])
      raise DecodeError(
          self.path,
          f"truncated or damaged: no frame for {what} {shown}"
          f"{'...' if len(missing) > 5 else ''} of a stream that claims "
          f"{self.info.num_frames} frames at {self.info.fps:.3g} fps "
          f"(last frame decoded at "
          f"{'none' if last_time is None else f'{last_time:.3f} s'})")
    shapes = {f.shape for f in out}
    if len(shapes) != 1:
      raise DecodeError(self.path, f"frame size changes mid-stream: {shapes}")
    return out

  def read(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
    """Decodes the frames at `indices` as uint8 RGB [len(indices), H, W, 3].

    Frame i is the one on screen at i / fps: the i-th frame of a
    constant-frame-rate stream. Indices may repeat and need not be sorted;
    each distinct frame is decoded once. Raises DecodeError if an index lies
    past the frames the file really holds (a truncated file) or if decoding
    fails.
    """
    indices = _check_indices(indices)
    fps = self.info.fps
    # Half a frame of slack absorbs timestamp rounding in the container.
    targets = (indices + 0.5) / fps
    frames = self._read_at(targets, tolerance=0.5 / fps, what="frame time")
    return np.stack(frames)

  def read_times(self, times: Sequence[float] | np.ndarray) -> np.ndarray:
    times = _check_times(times)
    frames = self._read_at(times + 1e-6, tolerance=1.0 / self.info.fps,
                           what="time")
    return np.stack(frames)

  def frame_times(self) -> np.ndarray:
    """Presentation times (s) of every frame, by decoding the whole stream."""
    self._rewind()
    self._at_start = False
    try:
      times = sorted(self._frame_time(f)
                     for f in self._decode())
    except av.error.FFmpegError as e:
      raise self._decode_error(e) from e
    return np.asarray(times)

  def read_all(self) -> np.ndarray:
    """Decodes every frame from the start; used by tests and tools."""
    self._rewind()
    self._at_start = False
    try:
      frames = [_to_rgb(f) for f in self._decode()]
    except av.error.FFmpegError as e:
      raise self._decode_error(e) from e
    if not frames:
      raise DecodeError(self.path, "zero frames decoded")
    return np.stack(frames)

  def count_frames(self) -> int:
    """Frames that really decode (slow: decodes everything, converts none)."""
    self._rewind()
    self._at_start = False
    n = 0
    try:
      for _ in self._decode():
        n += 1
    except av.error.FFmpegError as e:
      raise self._decode_error(e, f"decoding failed after {n} frames") from e
    return n

  def read_audio(self, start: float, duration: float,
                 sample_rate: int) -> np.ndarray | None:
    if not self._container.streams.audio:
      return None
    stream = self._container.streams.audio[0]
    n = int(round(duration * sample_rate))
    out = np.zeros(n, np.float32)
    if n == 0:
      return out
    resampler = av.AudioResampler(format="flt", layout="mono",
                                  rate=sample_rate)
    origin = float((stream.start_time or 0) * stream.time_base)
    chunks, first_time, have = [], None, 0
    try:
      target = (stream.start_time or 0) + int(max(start, 0.0) /
                                               stream.time_base)
      self._container.seek(target, stream=stream, backward=True)
      self._at_start = False
      for frame in self._container.decode(stream):
        if first_time is None:
          if frame.pts is None:
            raise DecodeError(self.path, "audio frame without a timestamp")
          first_time = float(frame.pts * stream.time_base) - origin
        for r in resampler.resample(frame):
          chunks.append(r.to_ndarray().reshape(-1))
          have += chunks[-1].size
        if first_time + have / sample_rate >= start + duration:
          break
      else:
        for r in resampler.resample(None):
          chunks.append(r.to_ndarray().reshape(-1))
    except av.error.FFmpegError as e:
      raise DecodeError(self.path, f"audio decoding failed ({e})") from e
    if first_time is None:
      return out
    wave = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    offset = int(round((start - first_time) * sample_rate))
    src = wave[max(offset, 0):max(offset, 0) + n - max(-offset, 0)]
    out[max(-offset, 0):max(-offset, 0) + src.size] = src
    return out

  def close(self) -> None:
    self._container.close()


def open_video(source, threads: int = 1, name: str | None = None
               ) -> VideoReader:
  return VideoReader(source, threads, name)


# -- folders of extracted frames ---------------------------------------------

FRAME_SUFFIXES = (".jpg", ".jpeg", ".png")


def _decode_image(data_or_path, name: str) -> np.ndarray:
  from PIL import Image, UnidentifiedImageError  # pylint: disable=g-import-not-at-top
  try:
    src = (io.BytesIO(data_or_path) if isinstance(data_or_path, bytes)
           else data_or_path)
    with Image.open(src) as image:
      return np.asarray(image.convert("RGB"))
  except (OSError, UnidentifiedImageError, ValueError) as e:
    raise DecodeError(name, f"unreadable image ({e})") from e


class ImageSequenceReader(Reader):
  """Frames that are separate images: a folder of JPEGs, or encoded bytes.

  `frames`: one path or bytes object per frame, in order. There is no
  timing in images, so `fps` must be given.
  """

  def __init__(self, frames: Sequence, fps: float, path: str):
    self.path = str(path)
    self._frames = list(frames)
    if not self._frames:
      raise DecodeError(self.path, "zero frames")
    if not fps or fps <= 0:
      raise ValueError(f"{path}: frames need a positive fps, got {fps}")
    first = self._decode(0)
    self.info = VideoInfo(path=self.path, num_frames=len(self._frames),
                          fps=float(fps), width=first.shape[1],
                          height=first.shape[0], codec="image",
                          pix_fmt="rgb24")
    self._first = first

  def _decode(self, i: int) -> np.ndarray:
    f = self._frames[i]
    name = f"{self.path}[{i}]" if isinstance(f, bytes) else str(f)
    return _decode_image(f, name)

  def read(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
    indices = _check_indices(indices)
    n = len(self._frames)
    if indices.max() >= n:
      raise DecodeError(self.path, f"frame {int(indices.max())} requested "
                        f"of {n} frames")
    cache = {0: self._first}
    for i in set(indices.tolist()):
      if i not in cache:
        cache[i] = self._decode(i)
    shapes = {cache[i].shape for i in cache}
    if len(shapes) != 1:
      raise DecodeError(self.path, f"frame sizes differ: {shapes}")
    return np.stack([cache[int(i)] for i in indices])


def list_frame_files(folder: str | os.PathLike) -> list[str]:
  """Image files of a frame folder in name order (img_00001.jpg, ...)."""
  folder = str(folder)
  try:
    names = sorted(n for n in os.listdir(folder)
                   if n.lower().endswith(FRAME_SUFFIXES))
  except OSError as e:
    raise DecodeError(folder, f"unreadable frame folder ({e})") from e
  return [os.path.join(folder, n) for n in names]


def open_frame_folder(folder: str | os.PathLike,
                      fps: float) -> ImageSequenceReader:
  folder = str(folder)
  if not os.path.isdir(folder):
    raise DecodeError(folder, "no such frame folder")
  files = list_frame_files(folder)
  if not files:
    raise DecodeError(folder, "zero frames (no .jpg/.jpeg/.png files)")
  return ImageSequenceReader(files, fps, folder)


def open_record(record: dict) -> Reader:
  """The reader for a source record: a video file, a folder of frames
  (records with `frames_fps`) or an example of prepared TFDS records
  (records with `tfds_index`)."""
  if "tfds_index" in record:
    from vidjax.data import tfds_records  # pylint: disable=g-import-not-at-top
    return tfds_records.open_example(record)
  if "frames_fps" in record:
    return open_frame_folder(record["path"], record["frames_fps"])
  return open_video(record["path"])
