"""Clip sampling indices."""

import numpy as np
import pytest

from vidjax.data import sampling


def test_random_clip_fits_and_is_strided():
  rng = np.random.default_rng(0)
  starts = set()
  for _ in range(200):
    idx = sampling.random_clip_indices(32, 8, 2, rng)
    assert idx.shape == (8,)
    np.testing.assert_array_equal(np.diff(idx), 2)
    assert idx[0] >= 0 and idx[-1] <= 31
    starts.add(int(idx[0]))
  assert starts == set(range(0, 32 - 15 + 1))  # every valid start is drawn


def test_centre_clip():
  np.testing.assert_array_equal(sampling.centre_clip_indices(32, 4, 2),
                                [12, 14, 16, 18])
  np.testing.assert_array_equal(sampling.centre_clip_indices(9, 3, 1),
                                [3, 4, 5])


def test_uniform_clips_cover_first_to_last():
  idx = sampling.uniform_clips_indices(40, 4, 2, num_clips=3)
  assert idx.shape == (3, 4)
  np.testing.assert_array_equal(idx[:, 0], [0, 16, 33])
  assert idx[-1, -1] == 39
  np.testing.assert_array_equal(
      sampling.uniform_clips_indices(40, 4, 2, num_clips=1)[0],
      sampling.centre_clip_indices(40, 4, 2))


def test_short_video_padding():
  rng = np.random.default_rng(0)
  np.testing.assert_array_equal(
      sampling.random_clip_indices(5, 4, 2, rng, "loop"), [0, 2, 4, 1])
  np.testing.assert_array_equal(
      sampling.centre_clip_indices(5, 4, 2, "repeat_last"), [0, 2, 4, 4])
  with pytest.raises(ValueError, match="pad_mode"):
    sampling.centre_clip_indices(5, 4, 2, "mirror")


def test_invalid_arguments():
  with pytest.raises(ValueError, match="stride"):
    sampling.clip_span(4, 0)
