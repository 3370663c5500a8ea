"""Which frames of a video make a clip.

All samplers return integer frame indices; the decoder reads exactly those.
A clip of `num_frames` frames taken every `stride` frames spans
`(num_frames - 1) * stride + 1` frames of the video. When a video is shorter
than that span, indices past its end are wrapped (`pad_mode="loop"`) or
clamped to the last frame (`pad_mode="repeat_last"`).
"""

from __future__ import annotations

import numpy as np

PAD_MODES = ("loop", "repeat_last")


def clip_span(num_frames: int, stride: int) -> int:
  """Number of video frames a clip covers from its first to its last frame."""
  if num_frames < 1 or stride < 1:
    raise ValueError(f"num_frames and stride must be >= 1, got "
                     f"{num_frames=} {stride=}")
  return (num_frames - 1) * stride + 1


def _fit(indices: np.ndarray, video_frames: int, pad_mode: str) -> np.ndarray:
  if pad_mode == "loop":
    return indices % video_frames
  if pad_mode == "repeat_last":
    return np.minimum(indices, video_frames - 1)
  raise ValueError(f"pad_mode must be one of {PAD_MODES}, got {pad_mode!r}")


def random_clip_indices(video_frames: int, num_frames: int, stride: int,
                        rng: np.random.Generator,
                        pad_mode: str = "loop") -> np.ndarray:
  """Training clip: a start drawn uniformly from every start that fits.

  Returns int64 [num_frames].
  """
  span = clip_span(num_frames, stride)
  start = int(rng.integers(0, max(video_frames - span, 0) + 1))
  return _fit(start + stride * np.arange(num_frames), video_frames, pad_mode)


def centre_clip_indices(video_frames: int, num_frames: int, stride: int,
                        pad_mode: str = "loop") -> np.ndarray:
  """Evaluation clip centred in the video. Returns int64 [num_frames]."""
  span = clip_span(num_frames, stride)
  start = max(video_frames - span, 0) // 2
  return _fit(start + stride * np.arange(num_frames), video_frames, pad_mode)


def uniform_clips_indices(video_frames: int, num_frames: int, stride: int,
                          num_clips: int, pad_mode: str = "loop"
                          ) -> np.ndarray:
  """`num_clips` evenly spaced clips covering the video, first to last.

  With one clip this is the centred clip. Returns int64 [num_clips, num_frames].
  """
  if num_clips == 1:
    return centre_clip_indices(video_frames, num_frames, stride,
                               pad_mode)[None]
  span = clip_span(num_frames, stride)
  last_start = max(video_frames - span, 0)
  starts = np.round(np.linspace(0, last_start, num_clips)).astype(np.int64)
  idx = starts[:, None] + stride * np.arange(num_frames)[None, :]
  return _fit(idx, video_frames, pad_mode)
