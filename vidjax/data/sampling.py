"""Which frames of a video make a clip.

All samplers return integer frame indices; the decoder reads exactly those.
"Frames" are positions on the video's frame grid: its own frames, or, when
sampling by time, a grid at a fixed rate (see `pipeline.FrameGrid`).

- dense (`random_clip_indices`, `centre_clip_indices`,
  `uniform_clips_indices`): `num_frames` frames taken every `stride` frames,
  spanning `(num_frames - 1) * stride + 1` frames of the video. When a video
  is shorter than that span, indices past its end are wrapped
  (`pad_mode="loop"`), clamped to the last frame (`pad_mode="repeat_last"`),
  or the video is rejected (`pad_mode="none"`: `ShortVideoError`).
- TSN segments (`segment_indices`): the video cut into `num_frames` equal
  segments, one frame from each: random within its segment in training,
  the segment's centre in testing.
- uniform (`uniform_indices`): `num_frames` frames evenly spaced over the
  whole video, first to last.
"""

from __future__ import annotations

import numpy as np

PAD_MODES = ("loop", "repeat_last", "none")
SAMPLERS = ("dense", "tsn", "uniform")


class ShortVideoError(ValueError):
  """A video has fewer frames than a clip needs and pad_mode is "none"."""


def clip_span(num_frames: int, stride: int) -> int:
  """Number of video frames a clip covers from its first to its last frame."""
  if num_frames < 1 or stride < 1:
    raise ValueError(f"num_frames and stride must be >= 1, got "
                     f"{num_frames=} {stride=}")
  return (num_frames - 1) * stride + 1


def _fit(indices: np.ndarray, video_frames: int, pad_mode: str) -> np.ndarray:
  if video_frames < 1:
    raise ShortVideoError(f"a video needs at least one frame, got "
                          f"{video_frames}")
  if pad_mode == "loop":
    return indices % video_frames
  if pad_mode == "repeat_last":
    return np.minimum(indices, video_frames - 1)
  if pad_mode == "none":
    if indices.max() >= video_frames:
      raise ShortVideoError(
          f"fewer frames than a clip needs ({video_frames} < "
          f"{int(indices.max()) + 1}; set config.data.pad_mode to 'loop' or "
          "'repeat_last' to use such videos)")
    return indices
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


def segment_indices(video_frames: int, num_segments: int,
                    rng: np.random.Generator | None = None,
                    offset: float = 0.5) -> np.ndarray:
  """TSN sampling: one frame from each of `num_segments` equal segments.

  With `rng` (training) the frame is uniform within its segment; without
  (testing) it sits at fraction `offset` of the segment (0.5: its centre;
  several test clips use offsets (c + 0.5) / clips). A video with fewer
  frames than segments repeats frames. Returns int64 [num_segments].
  """
  if num_segments < 1:
    raise ValueError(f"num_segments must be >= 1, got {num_segments}")
  if video_frames < 1:
    raise ShortVideoError(f"a video needs at least one frame, got "
                          f"{video_frames}")
  edges = np.arange(num_segments + 1) * (video_frames / num_segments)
  lo, hi = edges[:-1], edges[1:]
  if rng is None:
    pos = lo + offset * (hi - lo)
  else:
    pos = rng.uniform(lo, hi)
  return np.clip(np.floor(pos), 0, video_frames - 1).astype(np.int64)


def uniform_indices(video_frames: int, num_frames: int,
                    offset: float = 0.0) -> np.ndarray:
  """`num_frames` frames evenly spaced from the first to the last frame.

  `offset` in [0, 1) shifts every frame by that fraction of the spacing
  (for several test clips); frames stay inside the video.
  Returns int64 [num_frames].
  """
  if num_frames < 1:
    raise ValueError(f"num_frames must be >= 1, got {num_frames}")
  if video_frames < 1:
    raise ShortVideoError(f"a video needs at least one frame, got "
                          f"{video_frames}")
  if num_frames == 1:
    return np.asarray([(video_frames - 1) // 2], np.int64)
  step = (video_frames - 1) / (num_frames - 1)
  pos = np.arange(num_frames) * step + offset * step
  return np.clip(np.round(pos), 0, video_frames - 1).astype(np.int64)


def train_indices(sampler: str, video_frames: int, num_frames: int,
                  stride: int, rng: np.random.Generator,
                  pad_mode: str = "loop") -> np.ndarray:
  """One training clip from `sampler` ("dense", "tsn" or "uniform")."""
  if sampler == "dense":
    return random_clip_indices(video_frames, num_frames, stride, rng,
                               pad_mode)
  if sampler == "tsn":
    return segment_indices(video_frames, num_frames, rng)
  if sampler == "uniform":
    return uniform_indices(video_frames, num_frames)
  raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")


def eval_indices(sampler: str, video_frames: int, num_frames: int,
                 stride: int, num_clips: int,
                 pad_mode: str = "loop") -> np.ndarray:
  """`num_clips` fixed test clips from `sampler`: int64 [num_clips, T].

  dense: evenly spaced clips, first to last; tsn: segment frames at offsets
  (c + 0.5) / num_clips within each segment; uniform: the whole-video grid
  shifted by c / num_clips of its spacing.
  """
  if sampler == "dense":
    return uniform_clips_indices(video_frames, num_frames, stride, num_clips,
                                 pad_mode)
  if sampler == "tsn":
    return np.stack([segment_indices(video_frames, num_frames,
                                     offset=(c + 0.5) / num_clips)
                     for c in range(num_clips)])
  if sampler == "uniform":
    return np.stack([uniform_indices(video_frames, num_frames,
                                     offset=c / num_clips)
                     for c in range(num_clips)])
  raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
