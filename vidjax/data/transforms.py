"""Clip-consistent video transforms on host numpy arrays.

Every random transform draws its parameters once per clip from the
`np.random.Generator` it is given and applies them to every frame, so motion
stays intact (a crop that jumped between frames would itself be motion).
Spatial transforms take and return uint8 [T, H, W, C]; photometric ones take
and return float32 [T, H, W, C] in [0, 1].
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from PIL import Image

_RESAMPLE = Image.BILINEAR


def _check_video(video: np.ndarray, dtype=None) -> None:
  if video.ndim != 4:
    raise ValueError(f"video must be [T, H, W, C], got shape {video.shape}")
  if dtype is not None and video.dtype != dtype:
    raise ValueError(f"video must be {np.dtype(dtype).name}, got {video.dtype}")


def resize(video: np.ndarray, height: int, width: int) -> np.ndarray:
  """Bilinear resize of every frame of a uint8 video to [T, height, width, C]."""
  _check_video(video, np.uint8)
  if video.shape[1:3] == (height, width):
    return video
  return np.stack([
      np.asarray(Image.fromarray(f).resize((width, height), _RESAMPLE))
      for f in video
  ]).reshape(video.shape[0], height, width, video.shape[3])


def resize_short_side(video: np.ndarray, size: int) -> np.ndarray:
  """Resizes so the shorter side is `size`, keeping the aspect ratio."""
  h, w = video.shape[1:3]
  if h <= w:
    new_h, new_w = size, max(1, int(round(w * size / h)))
  else:
    new_h, new_w = max(1, int(round(h * size / w))), size
  return resize(video, new_h, new_w)


def crop(video: np.ndarray, top: int, left: int, height: int,
         width: int) -> np.ndarray:
  return video[:, top:top + height, left:left + width]


def centre_crop(video: np.ndarray, size: int) -> np.ndarray:
  """The central size x size window (the frame must be at least that big)."""
  h, w = video.shape[1:3]
  if h < size or w < size:
    raise ValueError(f"cannot take a {size}x{size} crop of {h}x{w} frames")
  return crop(video, (h - size) // 2, (w - size) // 2, size, size)


def sample_resized_crop_box(height: int, width: int, rng: np.random.Generator,
                            scale: Sequence[float] = (0.08, 1.0),
                            ratio: Sequence[float] = (3 / 4, 4 / 3),
                            attempts: int = 10) -> tuple[int, int, int, int]:
  """Inception-style crop box (top, left, h, w), as in torchvision.

  The area is a uniform fraction `scale` of the frame and the aspect ratio is
  log-uniform in `ratio`; after `attempts` misses it falls back to the largest
  centred box within `ratio`.
  """
  area = height * width
  log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
  for _ in range(attempts):
    target = area * rng.uniform(scale[0], scale[1])
    aspect = math.exp(rng.uniform(*log_ratio))
    w = int(round(math.sqrt(target * aspect)))
    h = int(round(math.sqrt(target / aspect)))
    if 0 < w <= width and 0 < h <= height:
      top = int(rng.integers(0, height - h + 1))
      left = int(rng.integers(0, width - w + 1))
      return top, left, h, w
  in_ratio = width / height
  if in_ratio < min(ratio):
    w, h = width, int(round(width / min(ratio)))
  elif in_ratio > max(ratio):
    h, w = height, int(round(height * max(ratio)))
  else:
    w, h = width, height
  return (height - h) // 2, (width - w) // 2, h, w


def random_resized_crop(video: np.ndarray, rng: np.random.Generator,
                        size: int, scale: Sequence[float] = (0.08, 1.0),
                        ratio: Sequence[float] = (3 / 4, 4 / 3)) -> np.ndarray:
  """One random box for the whole clip, resized to [T, size, size, C]."""
  _check_video(video, np.uint8)
  top, left, h, w = sample_resized_crop_box(video.shape[1], video.shape[2],
                                            rng, scale, ratio)
  return resize(crop(video, top, left, h, w), size, size)


def random_horizontal_flip(video: np.ndarray, rng: np.random.Generator,
                           prob: float = 0.5) -> np.ndarray:
  """Mirrors the whole clip with probability `prob`.

  Mirroring swaps leftward and rightward (and clockwise and anticlockwise)
  motion: turn it off when those are different classes.
  """
  return video[:, :, ::-1] if rng.uniform() < prob else video


def to_float(video: np.ndarray) -> np.ndarray:
  """uint8 [0, 255] -> float32 [0, 1]."""
  _check_video(video, np.uint8)
  return video.astype(np.float32) * np.float32(1.0 / 255.0)


_LUMA = np.asarray([0.299, 0.587, 0.114], np.float32)
# RGB <-> YIQ: hue is a rotation of the (I, Q) chroma plane.
_RGB_TO_YIQ = np.asarray([[0.299, 0.587, 0.114],
                          [0.596, -0.274, -0.322],
                          [0.211, -0.523, 0.312]], np.float32)
_YIQ_TO_RGB = np.linalg.inv(_RGB_TO_YIQ).astype(np.float32)


def adjust_brightness(video: np.ndarray, factor: float) -> np.ndarray:
  return np.clip(video * np.float32(factor), 0.0, 1.0)


def adjust_contrast(video: np.ndarray, factor: float) -> np.ndarray:
  # The clip's mean grey level, not each frame's, so contrast cannot flicker.
  mean = np.float32((video @ _LUMA).mean())
  return np.clip(mean + (video - mean) * np.float32(factor), 0.0, 1.0)


def adjust_saturation(video: np.ndarray, factor: float) -> np.ndarray:
  grey = (video @ _LUMA)[..., None]
  return np.clip(grey + (video - grey) * np.float32(factor), 0.0, 1.0)


def adjust_hue(video: np.ndarray, shift: float) -> np.ndarray:
  """Rotates hue by `shift` turns (in [-0.5, 0.5]) in YIQ space."""
  theta = 2.0 * math.pi * shift
  c, s = math.cos(theta), math.sin(theta)
  rot = np.asarray([[1, 0, 0], [0, c, -s], [0, s, c]], np.float32)
  m = (_YIQ_TO_RGB @ rot @ _RGB_TO_YIQ).T
  return np.clip(video @ m, 0.0, 1.0)


def random_color_jitter(video: np.ndarray, rng: np.random.Generator,
                        brightness: float = 0.4, contrast: float = 0.4,
                        saturation: float = 0.4, hue: float = 0.1,
                        prob: float = 0.8) -> np.ndarray:
  """torchvision-style colour jitter with one factor set for the clip.

  With probability `prob`, draws brightness/contrast/saturation factors in
  [1 - x, 1 + x] and a hue shift in [-hue, hue], and applies them in a random
  order. Input and output: float32 [T, H, W, 3] in [0, 1].
  """
  _check_video(video, np.float32)
  if rng.uniform() >= prob:
    return video
  ops = []
  if brightness > 0:
    f = rng.uniform(max(0.0, 1 - brightness), 1 + brightness)
    ops.append(lambda v, f=f: adjust_brightness(v, f))
  if contrast > 0:
    f = rng.uniform(max(0.0, 1 - contrast), 1 + contrast)
    ops.append(lambda v, f=f: adjust_contrast(v, f))
  if saturation > 0:
    f = rng.uniform(max(0.0, 1 - saturation), 1 + saturation)
    ops.append(lambda v, f=f: adjust_saturation(v, f))
  if hue > 0:
    h = rng.uniform(-hue, hue)
    ops.append(lambda v, h=h: adjust_hue(v, h))
  for i in rng.permutation(len(ops)):
    video = ops[i](video)
  return video.astype(np.float32)


def normalize(video: np.ndarray, mean: Sequence[float],
              std: Sequence[float]) -> np.ndarray:
  """(video - mean) / std per channel; video float32 in [0, 1]."""
  mean = np.asarray(mean, np.float32)
  std = np.asarray(std, np.float32)
  return ((video - mean) / std).astype(np.float32)
