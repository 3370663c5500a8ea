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


# -- more spatial crops (uint8) ------------------------------------------------

MULTI_SCALE_SCALES = (1.0, 0.875, 0.75, 0.66)


def sample_multi_scale_crop_box(height: int, width: int,
                                rng: np.random.Generator,
                                scales: Sequence[float] = MULTI_SCALE_SCALES,
                                max_distort: int = 1,
                                fixed_offsets: bool = True
                                ) -> tuple[int, int, int, int]:
  """TSN's multi-scale crop box (top, left, h, w).

  The crop's height and width are each a fraction `scales` of the frame's
  short side, picked independently but at most `max_distort` steps apart in
  `scales` (so the aspect ratio stays moderate); the box sits at one of 13
  fixed positions (corners, centre, edge midpoints, quarter points) or, with
  `fixed_offsets=False`, anywhere.
  """
  base = min(height, width)
  sizes = [max(1, int(base * s)) for s in scales]
  pairs = [(h, w) for i, h in enumerate(sizes) for j, w in enumerate(sizes)
           if abs(i - j) <= max_distort]
  h, w = pairs[int(rng.integers(len(pairs)))]
  if not fixed_offsets:
    return (int(rng.integers(0, height - h + 1)),
            int(rng.integers(0, width - w + 1)), h, w)
  dy, dx = (height - h) // 4, (width - w) // 4
  offsets = [(0, 0), (0, 4 * dx), (4 * dy, 0), (4 * dy, 4 * dx),
             (2 * dy, 2 * dx), (0, 2 * dx), (4 * dy, 2 * dx), (2 * dy, 0),
             (2 * dy, 4 * dx), (dy, dx), (dy, 3 * dx), (3 * dy, dx),
             (3 * dy, 3 * dx)]
  top, left = offsets[int(rng.integers(len(offsets)))]
  return top, left, h, w


def multi_scale_crop(video: np.ndarray, rng: np.random.Generator, size: int,
                     scales: Sequence[float] = MULTI_SCALE_SCALES,
                     max_distort: int = 1) -> np.ndarray:
  """One TSN multi-scale box for the whole clip, resized to [T, size, size, C]."""
  _check_video(video, np.uint8)
  top, left, h, w = sample_multi_scale_crop_box(
      video.shape[1], video.shape[2], rng, scales, max_distort)
  return resize(crop(video, top, left, h, w), size, size)


def random_crop(video: np.ndarray, rng: np.random.Generator,
                size: int) -> np.ndarray:
  """A size x size window at a random position (the same for every frame)."""
  h, w = video.shape[1:3]
  if h < size or w < size:
    raise ValueError(f"cannot take a {size}x{size} crop of {h}x{w} frames")
  top = int(rng.integers(0, h - size + 1))
  left = int(rng.integers(0, w - size + 1))
  return crop(video, top, left, size, size)


def short_side_jitter_crop(video: np.ndarray, rng: np.random.Generator,
                           size: int, short_side: Sequence[int]) -> np.ndarray:
  """SlowFast-style scale jitter: resize the short side to a random length in
  [short_side[0], short_side[1]] (pixels, inclusive), then a random crop."""
  _check_video(video, np.uint8)
  lo, hi = int(short_side[0]), int(short_side[1])
  if not size <= lo <= hi:
    raise ValueError(f"scale jitter range must satisfy {size} (image size) "
                     f"<= min <= max, got {tuple(short_side)}")
  target = int(rng.integers(lo, hi + 1))
  return random_crop(resize_short_side(video, target), rng, size)


def rotate(video: np.ndarray, degrees: float) -> np.ndarray:
  """Rotates every frame by `degrees` counter-clockwise about its centre;
  corners that come from outside the frame are black. uint8 in and out."""
  _check_video(video, np.uint8)
  if degrees == 0:
    return video
  return np.stack([np.asarray(Image.fromarray(f).rotate(
      degrees, resample=_RESAMPLE, fillcolor=(0,) * f.shape[-1]
      if f.shape[-1] > 1 else 0)) for f in video]).reshape(video.shape)


def random_rotation(video: np.ndarray, rng: np.random.Generator,
                    max_degrees: float) -> np.ndarray:
  """One angle uniform in [-max_degrees, max_degrees] for the whole clip."""
  return rotate(video, float(rng.uniform(-max_degrees, max_degrees)))


# -- more photometric transforms (float32 in [0, 1]) ---------------------------


def grayscale(video: np.ndarray) -> np.ndarray:
  """Luma (ITU-R 601) copied to the three channels."""
  _check_video(video, np.float32)
  grey = video @ _LUMA
  return np.repeat(grey[..., None], video.shape[-1], axis=-1)


def random_grayscale(video: np.ndarray, rng: np.random.Generator,
                     prob: float) -> np.ndarray:
  return grayscale(video) if rng.uniform() < prob else video


def _gaussian_kernel(sigma: float) -> np.ndarray:
  radius = max(1, int(math.ceil(3.0 * sigma)))
  x = np.arange(-radius, radius + 1, dtype=np.float32)
  k = np.exp(-0.5 * (x / sigma) ** 2)
  return (k / k.sum()).astype(np.float32)


def _convolve_axis(video: np.ndarray, kernel: np.ndarray,
                   axis: int) -> np.ndarray:
  r = len(kernel) // 2
  pad = [(0, 0)] * video.ndim
  pad[axis] = (r, r)
  padded = np.pad(video, pad, mode="reflect" if video.shape[axis] > r
                  else "edge")
  out = np.zeros_like(video)
  n = video.shape[axis]
  for i, k in enumerate(kernel):
    out += k * np.take(padded, np.arange(i, i + n), axis=axis)
  return out


def gaussian_blur(video: np.ndarray, sigma: float) -> np.ndarray:
  """Separable Gaussian blur of every frame (reflected borders)."""
  _check_video(video, np.float32)
  if sigma <= 0:
    return video
  k = _gaussian_kernel(sigma)
  return _convolve_axis(_convolve_axis(video, k, 1), k, 2)


def random_gaussian_blur(video: np.ndarray, rng: np.random.Generator,
                         prob: float,
                         sigma: Sequence[float] = (0.1, 2.0)) -> np.ndarray:
  """With probability `prob`, one sigma uniform in `sigma` (pixels)."""
  if rng.uniform() >= prob:
    return video
  return gaussian_blur(video, float(rng.uniform(sigma[0], sigma[1])))


def random_gaussian_noise(video: np.ndarray, rng: np.random.Generator,
                          prob: float,
                          std: Sequence[float] = (0.0, 0.05)) -> np.ndarray:
  """With probability `prob`, adds N(0, s^2) noise, one s uniform in `std`.

  The noise level is the clip's; the noise itself is drawn per pixel and
  frame (sensor noise is not static), then the result is clipped to [0, 1].
  """
  _check_video(video, np.float32)
  if rng.uniform() >= prob:
    return video
  s = np.float32(rng.uniform(std[0], std[1]))
  noise = rng.standard_normal(video.shape, dtype=np.float32) * s
  return np.clip(video + noise, 0.0, 1.0)


def random_erasing(video: np.ndarray, rng: np.random.Generator, prob: float,
                   scale: Sequence[float] = (0.02, 1 / 3),
                   ratio: Sequence[float] = (0.3, 3.3),
                   value: str = "random") -> np.ndarray:
  """Random erasing (Zhong et al.) with one box for the whole clip.

  With probability `prob`, a box of area fraction in `scale` and aspect
  ratio log-uniform in `ratio` is filled in every frame with the same
  values: per-pixel standard normal noise ("random", as in timm; the video
  is normalized by then) or zeros ("zero"). The occluder is static, like a
  real one. float32 [T, H, W, C] in and out.
  """
  _check_video(video, np.float32)
  if value not in ("random", "zero"):
    raise ValueError(f"erasing value must be 'random' or 'zero', got "
                     f"{value!r}")
  if rng.uniform() >= prob:
    return video
  t, height, width, c = video.shape
  area = height * width
  log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
  for _ in range(10):
    target = area * rng.uniform(scale[0], scale[1])
    aspect = math.exp(rng.uniform(*log_ratio))
    h = int(round(math.sqrt(target * aspect)))
    w = int(round(math.sqrt(target / aspect)))
    if 0 < h < height and 0 < w < width:
      top = int(rng.integers(0, height - h + 1))
      left = int(rng.integers(0, width - w + 1))
      out = video.copy()
      fill = (rng.standard_normal((h, w, c), dtype=np.float32)
              if value == "random" else np.zeros((h, w, c), np.float32))
      out[:, top:top + h, left:left + w] = fill
      return out
  return video


# -- RandAugment for video (uint8) ---------------------------------------------
#
# The 14 operations of RandAugment (Cubuk et al., 2020) with the magnitude
# ranges of its reference implementation (tensorflow/tpu autoaugment.py),
# applied with the same parameters to every frame. Operations that depend on
# image statistics (autocontrast, equalize, contrast) use the statistics of
# the whole clip so that frames cannot flicker.

RANDAUGMENT_OPS = ("identity", "autocontrast", "equalize", "rotate",
                   "solarize", "color", "posterize", "contrast", "brightness",
                   "sharpness", "shear_x", "shear_y", "translate_x",
                   "translate_y")
_MAX_LEVEL = 10.0


def _blend(a: np.ndarray, b: np.ndarray, factor: float) -> np.ndarray:
  """a + factor * (b - a) in float, back to uint8 (PIL's ImageEnhance)."""
  out = a.astype(np.float32) + np.float32(factor) * (
      b.astype(np.float32) - a.astype(np.float32))
  return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _luma_u8(video: np.ndarray) -> np.ndarray:
  return video.astype(np.float32) @ _LUMA


def _autocontrast(video: np.ndarray) -> np.ndarray:
  lo = video.min(axis=(0, 1, 2)).astype(np.float32)
  hi = video.max(axis=(0, 1, 2)).astype(np.float32)
  scale = np.where(hi > lo, 255.0 / np.maximum(hi - lo, 1), 1.0)
  lo = np.where(hi > lo, lo, 0.0)
  return np.clip(np.round((video - lo) * scale), 0, 255).astype(np.uint8)


def _equalize(video: np.ndarray) -> np.ndarray:
  out = np.empty_like(video)
  for c in range(video.shape[-1]):
    channel = video[..., c]
    hist = np.bincount(channel.ravel(), minlength=256)
    nonzero = hist[hist > 0]
    step = (hist.sum() - nonzero[-1]) // 255 if len(nonzero) else 0
    if step == 0:
      out[..., c] = channel
      continue
    lut = (np.cumsum(hist) - hist + step // 2) // step
    out[..., c] = np.clip(lut, 0, 255).astype(np.uint8)[channel]
  return out


def _sharpness(video: np.ndarray, factor: float) -> np.ndarray:
  from PIL import ImageFilter  # pylint: disable=g-import-not-at-top
  smooth = np.stack([np.asarray(Image.fromarray(f).filter(ImageFilter.SMOOTH))
                     for f in video]).reshape(video.shape)
  # PIL keeps the one-pixel border unfiltered.
  smooth[:, 0], smooth[:, -1] = video[:, 0], video[:, -1]
  smooth[:, :, 0], smooth[:, :, -1] = video[:, :, 0], video[:, :, -1]
  return _blend(smooth, video, factor)


def _affine(video: np.ndarray, coeffs: tuple[float, ...]) -> np.ndarray:
  fill = (128,) * video.shape[-1]
  return np.stack([np.asarray(Image.fromarray(f).transform(
      (f.shape[1], f.shape[0]), Image.AFFINE, coeffs, resample=_RESAMPLE,
      fillcolor=fill)) for f in video]).reshape(video.shape)


def apply_randaugment_op(video: np.ndarray, op: str, magnitude: float,
                         sign: float = 1.0) -> np.ndarray:
  """One RandAugment operation at `magnitude` in [0, 10] on uint8 [T, H, W, 3].

  `sign` (+1 or -1) picks the direction of signed operations (rotate,
  shear, translate).
  """
  _check_video(video, np.uint8)
  m = float(magnitude) / _MAX_LEVEL
  h, w = video.shape[1:3]
  if op == "identity":
    return video
  if op == "autocontrast":
    return _autocontrast(video)
  if op == "equalize":
    return _equalize(video)
  if op == "rotate":
    return rotate(video, sign * 30.0 * m)
  if op == "solarize":
    threshold = 256 - int(256 * m)
    return np.where(video >= threshold, 255 - video, video).astype(np.uint8)
  if op == "posterize":
    bits = max(1, 8 - int(4 * m))
    mask = np.uint8((0xFF << (8 - bits)) & 0xFF)
    return video & mask
  if op in ("color", "contrast", "brightness", "sharpness"):
    factor = 1.0 + sign * 0.9 * m
    if op == "color":
      grey = np.repeat(np.round(_luma_u8(video))[..., None], 3, -1)
      return _blend(grey.astype(np.uint8), video, factor)
    if op == "contrast":
      mean = np.full_like(video, int(round(float(_luma_u8(video).mean()))))
      return _blend(mean, video, factor)
    if op == "brightness":
      return _blend(np.zeros_like(video), video, factor)
    return _sharpness(video, factor)
  if op == "shear_x":
    return _affine(video, (1, sign * 0.3 * m, 0, 0, 1, 0))
  if op == "shear_y":
    return _affine(video, (1, 0, 0, sign * 0.3 * m, 1, 0))
  if op == "translate_x":
    return _affine(video, (1, 0, sign * 0.45 * m * w, 0, 1, 0))
  if op == "translate_y":
    return _affine(video, (1, 0, 0, 0, 1, sign * 0.45 * m * h))
  raise ValueError(f"unknown RandAugment op {op!r}; one of {RANDAUGMENT_OPS}")


def randaugment(video: np.ndarray, rng: np.random.Generator, num_layers: int,
                magnitude: float, magnitude_std: float = 0.0,
                ops: Sequence[str] = RANDAUGMENT_OPS) -> np.ndarray:
  """RandAugment for video: `num_layers` ops drawn uniformly (with
  replacement), each at `magnitude` in [0, 10] (plus N(0, magnitude_std)
  noise, as in timm), each with one parameter set for the whole clip."""
  for _ in range(num_layers):
    op = ops[int(rng.integers(len(ops)))]
    m = magnitude
    if magnitude_std > 0:
      m = float(np.clip(rng.normal(magnitude, magnitude_std), 0, _MAX_LEVEL))
    sign = 1.0 if rng.uniform() < 0.5 else -1.0
    video = apply_randaugment_op(video, op, m, sign)
  return video


# -- batch-level mixing (mixup, cutmix) ----------------------------------------


def one_hot(labels: np.ndarray, num_classes: int) -> np.ndarray:
  labels = np.asarray(labels, np.int64)
  if labels.min() < 0 or labels.max() >= num_classes:
    raise ValueError(f"labels must be in [0, {num_classes}), got "
                     f"[{labels.min()}, {labels.max()}]")
  return np.eye(num_classes, dtype=np.float32)[labels]


def sample_cutmix_box(height: int, width: int, lam: float,
                      rng: np.random.Generator) -> tuple[int, int, int, int]:
  """A box of area about (1 - lam) of the frame, centred uniformly; clipped
  at the borders. Returns (top, left, h, w)."""
  cut = math.sqrt(1.0 - lam)
  ch, cw = int(height * cut), int(width * cut)
  cy, cx = int(rng.integers(0, height)), int(rng.integers(0, width))
  top, bottom = np.clip([cy - ch // 2, cy + ch // 2], 0, height)
  left, right = np.clip([cx - cw // 2, cx + cw // 2], 0, width)
  return int(top), int(left), int(bottom - top), int(right - left)


def mix_batch(video: np.ndarray, labels: np.ndarray, num_classes: int,
              rng: np.random.Generator, mixup_alpha: float = 0.0,
              cutmix_alpha: float = 0.0, prob: float = 1.0,
              switch_prob: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
  """Mixup or cutmix of a batch with a permutation of itself.

  video: float32 [B, T, H, W, C] (or [B, V, T, H, W, C]); labels: int [B].
  With probability `prob` the batch is mixed: cutmix (when both alphas are
  positive, with probability `switch_prob`) pastes one box of the partner
  clip into every frame (the same box for all frames and views) and sets
  lam to the area kept; mixup blends whole clips. lam ~ Beta(alpha, alpha),
  one per batch (as timm's "batch" mode). Returns the mixed video and soft
  labels float32 [B, num_classes] that sum to one.
  """
  targets = one_hot(labels, num_classes)
  use_mixup, use_cutmix = mixup_alpha > 0, cutmix_alpha > 0
  if not (use_mixup or use_cutmix) or rng.uniform() >= prob:
    return video, targets
  cutmix = use_cutmix and (not use_mixup or rng.uniform() < switch_prob)
  alpha = cutmix_alpha if cutmix else mixup_alpha
  lam = float(rng.beta(alpha, alpha))
  perm = rng.permutation(video.shape[0])
  if cutmix:
    h, w = video.shape[-3:-1]
    top, left, bh, bw = sample_cutmix_box(h, w, lam, rng)
    video = video.copy()
    video[..., top:top + bh, left:left + bw, :] = (
        video[perm][..., top:top + bh, left:left + bw, :])
    lam = 1.0 - bh * bw / (h * w)
  else:
    video = (np.float32(lam) * video +
             np.float32(1.0 - lam) * video[perm]).astype(np.float32)
  mixed = (np.float32(lam) * targets +
           np.float32(1.0 - lam) * targets[perm]).astype(np.float32)
  return video, mixed
