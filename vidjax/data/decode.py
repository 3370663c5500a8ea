"""Video decoding with PyAV: only the frames a clip needs, found by seeking.

`open_video` probes a file and `VideoReader.read(indices)` decodes the frames
at the given indices (in presentation order), seeking to the keyframe before
the first one instead of decoding the whole file. Anything that makes a file
unusable raises `DecodeError`, which names the file and says why; the data
pipeline turns it into a skipped, counted example.
"""

from __future__ import annotations

import dataclasses
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
  """What a reader knows about a video stream before decoding it."""

  path: str
  num_frames: int
  fps: float
  width: int
  height: int
  codec: str

  @property
  def duration(self) -> float:
    return self.num_frames / self.fps


class VideoReader:
  """An open video file; use as a context manager or call `close()`.

  `threads`: decoder threads (0: FFmpeg's choice). Data pipelines decode many
  short clips in parallel worker processes, where one thread per decoder is
  fastest: frame threading adds a delay of one frame per thread to every
  seek.
  """

  def __init__(self, path: str | os.PathLike, threads: int = 1):
    self.path = str(path)
    if not os.path.exists(self.path):
      raise DecodeError(self.path, "no such file")
    if os.path.getsize(self.path) == 0:
      raise DecodeError(self.path, "empty file (0 bytes)")
    try:
      self._container = av.open(self.path, metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError) as e:
      raise DecodeError(self.path, f"unreadable container ({e})") from e
    if not self._container.streams.video:
      self._container.close()
      raise DecodeError(self.path, "no video stream")
    self._stream = self._container.streams.video[0]
    self._stream.codec_context.thread_count = threads
    self.info = self._probe()
    # A fresh container decodes from frame 0 without seeking; after a read
    # it sits wherever that read stopped, so every later read seeks.
    self._at_start = True

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
    return VideoInfo(path=self.path, num_frames=num_frames, fps=fps,
                     width=ctx.width, height=ctx.height, codec=ctx.name)

  def _frame_index(self, frame: av.VideoFrame) -> int:
    s = self._stream
    start = s.start_time or 0
    if frame.pts is None:
      raise DecodeError(self.path, "frame without a timestamp")
    return int(round(float((frame.pts - start) * s.time_base) * self.info.fps))

  def _seek_to_frame(self, index: int) -> None:
    s = self._stream
    start = s.start_time or 0
    target = start + int(index / self.info.fps / s.time_base)
    self._container.seek(target, stream=s, backward=True, any_frame=False)

  def read(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
    """Decodes the frames at `indices` as uint8 RGB [len(indices), H, W, 3].

    Indices may repeat and need not be sorted; each distinct frame is decoded
    once. Raises DecodeError if any index lies past the frames the file
    really holds (a truncated file) or if decoding fails.
    """
    indices = np.asarray(indices, dtype=np.int64)
    if indices.ndim != 1 or indices.size == 0:
      raise ValueError(f"indices must be a non-empty 1-D array, got "
                       f"shape {indices.shape}")
    if indices.min() < 0:
      raise ValueError(f"negative frame index {indices.min()}")
    wanted = set(indices.tolist())
    first, last = min(wanted), max(wanted)
    found: dict[int, np.ndarray] = {}
    try:
      if first > 0 or not self._at_start:
        self._seek_to_frame(first)
      self._at_start = False
      for frame in self._container.decode(self._stream):
        idx = self._frame_index(frame)
        if idx > last:
          break
        if idx >= first and idx in wanted and idx not in found:
          found[idx] = frame.reformat(format="rgb24").to_ndarray()
          if len(found) == len(wanted):
            break
    except av.error.FFmpegError as e:
      raise DecodeError(self.path, f"decoding failed ({e})") from e
    if len(found) < len(wanted):
      missing = sorted(wanted - found.keys())
      decoded_to = max(found) if found else None
      raise DecodeError(
          self.path,
          f"truncated or damaged: could not decode frame(s) {missing[:5]}"
          f"{'...' if len(missing) > 5 else ''} of a stream that claims "
          f"{self.info.num_frames} frames (last frame decoded: {decoded_to})")
    shapes = {f.shape for f in found.values()}
    if len(shapes) != 1:
      raise DecodeError(self.path, f"frame size changes mid-stream: {shapes}")
    return np.stack([found[int(i)] for i in indices])

  def read_all(self) -> np.ndarray:
    """Decodes every frame from the start; used by tests and tools."""
    self._container.seek(0)
    try:
      frames = [f.to_ndarray(format="rgb24")
                for f in self._container.decode(self._stream)]
    except av.error.FFmpegError as e:
      raise DecodeError(self.path, f"decoding failed ({e})") from e
    if not frames:
      raise DecodeError(self.path, "zero frames decoded")
    return np.stack(frames)

  def close(self) -> None:
    self._container.close()

  def __enter__(self) -> "VideoReader":
    return self

  def __exit__(self, *exc) -> None:
    self.close()


def open_video(path: str | os.PathLike, threads: int = 1) -> VideoReader:
  return VideoReader(path, threads)
