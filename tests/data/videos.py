"""Writes small test videos with PyAV: any encoder, pixel format, rotation,
frame timing and audio track."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np


def has_encoder(name: str) -> bool:
  return name in av.codecs_available


def moving_frames(num: int, height: int, width: int, seed: int = 0
                  ) -> np.ndarray:
  """uint8 [num, H, W, 3]: a smooth colour field with a moving bright block,
  so every frame differs and codecs keep it recognisable."""
  rng = np.random.default_rng(seed)
  y, x = np.mgrid[0:height, 0:width]
  base = np.stack([255 * x / max(width - 1, 1), 255 * y / max(height - 1, 1),
                   np.full((height, width), 96.0)], -1)
  frames = np.repeat(base[None], num, 0)
  size = max(2, min(height, width) // 3)
  for t in range(num):
    top = (t * 2) % max(height - size, 1)
    left = (t * 3 + int(rng.integers(0, 2))) % max(width - size, 1)
    frames[t, top:top + size, left:left + size] = 255
  return frames.astype(np.uint8)


def write_video(path, frames: np.ndarray, codec: str = "libx264",
                pix_fmt: str = "yuv420p", fps: int = 25,
                times: np.ndarray | None = None, rotation: int = 0,
                audio: np.ndarray | None = None, audio_rate: int = 16000,
                audio_codec: str = "aac", options: dict | None = None,
                container_options: dict | None = None) -> str:
  """Encodes uint8 RGB frames [T, H, W, 3] (or [T, H, W] gray).

  times: presentation time in seconds of each frame (variable frame rate);
    default i / fps. rotation: display rotation (degrees counter-clockwise)
    stored in the container. audio: mono float waveform in [-1, 1].
  """
  path = str(path)
  container = av.open(path, mode="w", options=container_options or {})
  stream = container.add_stream(codec, rate=fps)
  stream.width, stream.height = frames.shape[2], frames.shape[1]
  stream.pix_fmt = pix_fmt
  stream.options = dict({"g": str(fps)}, **(options or {}))
  if codec in ("libx264", "libx265"):
    stream.options.setdefault("preset", "ultrafast")
  if codec == "libx265":
    stream.options.setdefault("x265-params", "log-level=error")
  if codec == "libsvtav1":
    stream.options.setdefault("preset", "12")
  if codec == "libvpx-vp9":
    stream.options.setdefault("deadline", "realtime")
    stream.options.setdefault("cpu-used", "8")
  if times is not None:
    stream.time_base = Fraction(1, 1000)
    stream.codec_context.time_base = Fraction(1, 1000)
  if rotation:
    stream.set_display_rotation(rotation)
  astream = None
  if audio is not None:
    astream = container.add_stream(audio_codec, rate=audio_rate)
    astream.layout = "mono"
  src_format = "gray" if frames.ndim == 3 else "rgb24"
  for i, f in enumerate(frames):
    frame = av.VideoFrame.from_ndarray(f, format=src_format)
    if times is not None:
      frame.pts = int(round(times[i] * 1000))
      frame.time_base = Fraction(1, 1000)
    else:
      frame.pts = i
      frame.time_base = Fraction(1, fps)
    container.mux(stream.encode(frame))
  container.mux(stream.encode())
  if astream is not None:
    _write_audio(container, astream, audio, audio_rate)
  container.close()
  return path


def _write_audio(container, stream, wave, rate):
  wave = np.asarray(wave, np.float32)
  size = stream.codec_context.frame_size or 1024
  fmt = stream.codec_context.format.name
  for pts in range(0, wave.size, size):
    chunk = wave[pts:pts + size]
    if fmt in ("fltp", "flt"):
      data = chunk[None]
    else:  # s16 / s16p
      data = np.round(chunk * 32767).astype(np.int16)[None]
      fmt = "s16p" if fmt == "s16p" else "s16"
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data),
                                       format=fmt, layout="mono")
    frame.sample_rate = rate
    frame.pts = pts
    frame.time_base = Fraction(1, rate)
    container.mux(stream.encode(frame))
  container.mux(stream.encode())


def write_audio_only(path, wave: np.ndarray, rate: int = 16000) -> str:
  container = av.open(str(path), mode="w")
  stream = container.add_stream("aac", rate=rate)
  stream.layout = "mono"
  _write_audio(container, stream, wave, rate)
  container.close()
  return str(path)


def decode_all_pyav(path) -> tuple[list[np.ndarray], list[float]]:
  """Every frame as rgb24, and its time in seconds, straight from PyAV."""
  with av.open(str(path)) as c:
    s = c.streams.video[0]
    frames, times = [], []
    for f in c.decode(s):
      frames.append(f.to_ndarray(format="rgb24"))
      times.append(float((f.pts - (s.start_time or 0)) * s.time_base))
  return frames, times
