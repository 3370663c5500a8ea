"""Clip-consistent augmentations: shapes kept, one parameter set per clip."""

import numpy as np
import pytest

from vidjax.data import transforms as T


def _static_clip(t=6, h=40, w=56, seed=0):
  """A clip whose frames are all the same image."""
  frame = np.random.default_rng(seed).integers(0, 256, (h, w, 3), np.uint8)
  return np.repeat(frame[None], t, axis=0)


def _assert_frames_identical(video):
  for t in range(1, video.shape[0]):
    np.testing.assert_array_equal(video[t], video[0])


SPATIAL = {
    "random_resized_crop": lambda v, r: T.random_resized_crop(
        v, r, 24, (0.2, 1.0)),
    "random_horizontal_flip": lambda v, r: T.random_horizontal_flip(v, r, 0.5),
}
PHOTOMETRIC = {
    "random_color_jitter": lambda v, r: T.random_color_jitter(
        v, r, 0.4, 0.4, 0.4, 0.1, prob=1.0),
}


@pytest.mark.parametrize("name", sorted(SPATIAL))
def test_spatial_one_parameter_set_per_clip(name):
  clip = _static_clip()
  for seed in range(10):
    out = SPATIAL[name](clip, np.random.default_rng(seed))
    assert out.dtype == np.uint8 and out.shape[0] == clip.shape[0]
    _assert_frames_identical(out)


@pytest.mark.parametrize("name", sorted(PHOTOMETRIC))
def test_photometric_one_parameter_set_per_clip(name):
  clip = T.to_float(_static_clip())
  for seed in range(10):
    out = PHOTOMETRIC[name](clip, np.random.default_rng(seed))
    assert out.dtype == np.float32 and out.shape == clip.shape
    assert out.min() >= 0.0 and out.max() <= 1.0
    _assert_frames_identical(out)
    assert not np.allclose(out, clip)  # it did change the clip


def test_random_resized_crop_output_and_box():
  rng = np.random.default_rng(0)
  for _ in range(50):
    top, left, h, w = T.sample_resized_crop_box(40, 56, rng, (0.2, 1.0))
    assert 0 <= top and top + h <= 40 and 0 <= left and left + w <= 56
    assert 0.2 * 40 * 56 * 0.8 <= h * w <= 40 * 56
  out = T.random_resized_crop(_static_clip(), rng, 24)
  assert out.shape == (6, 24, 24, 3)


def test_flip_mirrors_motion():
  clip = np.zeros((2, 4, 4, 3), np.uint8)
  clip[0, :, 0] = 255  # a bar at the left, moving right
  clip[1, :, 1] = 255
  flipped = T.random_horizontal_flip(clip, np.random.default_rng(0), prob=1.0)
  assert flipped[0, 0, 3, 0] == 255 and flipped[1, 0, 2, 0] == 255


def test_resize_short_side_and_centre_crop():
  clip = _static_clip(h=40, w=60)
  out = T.resize_short_side(clip, 20)
  assert out.shape == (6, 20, 30, 3)
  assert T.centre_crop(out, 20).shape == (6, 20, 20, 3)
  with pytest.raises(ValueError, match="crop"):
    T.centre_crop(out, 32)


def test_colour_adjustments_identity():
  clip = T.to_float(_static_clip())
  np.testing.assert_allclose(T.adjust_brightness(clip, 1.0), clip)
  np.testing.assert_allclose(T.adjust_contrast(clip, 1.0), clip, atol=1e-6)
  np.testing.assert_allclose(T.adjust_saturation(clip, 1.0), clip, atol=1e-6)
  np.testing.assert_allclose(T.adjust_hue(clip, 0.0), clip, atol=1e-5)
  grey = T.adjust_saturation(clip, 0.0)
  np.testing.assert_allclose(grey[..., 0], grey[..., 1], atol=1e-6)


def test_normalize():
  clip = np.full((2, 2, 2, 3), 0.5, np.float32)
  out = T.normalize(clip, (0.5, 0.25, 0.0), (0.5, 0.25, 1.0))
  np.testing.assert_allclose(out[0, 0, 0], [0.0, 1.0, 0.5])


def test_wrong_dtype_is_an_error():
  with pytest.raises(ValueError, match="uint8"):
    T.random_resized_crop(np.zeros((2, 8, 8, 3), np.float32),
                          np.random.default_rng(0), 4)
