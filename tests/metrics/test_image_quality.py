"""PSNR against scikit-image."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from skimage.metrics import peak_signal_noise_ratio

from vidjax.metrics import image_quality


def _jit(fn, **static):
  """fn with the `static` keyword arguments, as one program: eagerly, each op
  compiles its own."""
  return jax.jit(functools.partial(fn, **static))


def test_psnr_matches_skimage_per_clip():
  rng = np.random.default_rng(0)
  clean = rng.uniform(size=(3, 4, 16, 16, 3))
  noisy = np.clip(clean + rng.normal(0, 0.1, clean.shape), 0, 1)
  got = np.asarray(_jit(image_quality.psnr)(noisy, clean))
  want = [peak_signal_noise_ratio(clean[i], noisy[i], data_range=1.0)
          for i in range(3)]
  np.testing.assert_allclose(got, want, atol=1e-4)


def test_psnr_data_range():
  a = np.full((1, 8, 8), 100.0)
  b = a + 5.0
  got = float(_jit(image_quality.psnr, data_range=255.0)(b, a)[0])
  np.testing.assert_allclose(got, peak_signal_noise_ratio(a, b,
                                                          data_range=255),
                             atol=1e-4)


# -- PSNR and SSIM per frame, RGB and Y, against scikit-image ----------------

import pytest  # noqa: E402
from skimage.color import rgb2ycbcr  # noqa: E402
from skimage.metrics import structural_similarity  # noqa: E402


def _pair(seed=0, shape=(2, 3, 24, 20, 3), noise=0.08):
  rng = np.random.default_rng(seed)
  # Smooth content plus noise: SSIM well away from 0 and 1.
  base = rng.uniform(size=shape[:-3] + (6, 5, shape[-1]))
  clean = np.clip(np.repeat(np.repeat(base, 4, -3), 4, -2)[..., :shape[-3],
                                                          :shape[-2], :]
                  + rng.normal(0, 0.03, shape), 0, 1)
  noisy = np.clip(clean + rng.normal(0, noise, shape), 0, 1)
  return clean, noisy


def test_y_channel_is_skimage_rgb2ycbcr():
  clean, _ = _pair()
  got = np.asarray(_jit(image_quality.rgb_to_y)(clean))[..., 0]
  want = rgb2ycbcr(clean.reshape(-1, 20, 3))[..., 0].reshape(
      clean.shape[:-1]) / 255.0
  np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("y_channel", [False, True])
def test_psnr_frames_match_skimage(y_channel):
  clean, noisy = _pair()
  got = np.asarray(_jit(image_quality.psnr_frames, y_channel=y_channel)(
      noisy, clean))
  assert got.shape == (2, 3)
  conv = (lambda a: rgb2ycbcr(a)[..., :1] / 255.0) if y_channel else \
      (lambda a: a)
  want = [[peak_signal_noise_ratio(conv(clean[b, t]), conv(noisy[b, t]),
                                   data_range=1.0) for t in range(3)]
          for b in range(2)]
  np.testing.assert_allclose(got, want, atol=1e-4)
  video = np.asarray(image_quality.video_mean(jnp.asarray(got)))
  np.testing.assert_allclose(video, np.mean(want, axis=1), atol=1e-4)


SSIM_SETTINGS = [
    {},  # scikit-image's defaults: 7x7 uniform window, sample covariance
    dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False),
    dict(win_size=5, use_sample_covariance=False),
    dict(gaussian_weights=True, sigma=1.0),
]


@pytest.mark.parametrize("kwargs", SSIM_SETTINGS,
                         ids=["skimage_defaults", "wang_gaussian",
                              "uniform5", "gaussian_sigma1"])
@pytest.mark.parametrize("y_channel", [False, True])
def test_ssim_frames_match_skimage(kwargs, y_channel):
  clean, noisy = _pair(seed=1)
  got = np.asarray(_jit(image_quality.ssim_frames, y_channel=y_channel,
                        **kwargs)(noisy, clean))
  assert got.shape == (2, 3)
  want = np.zeros((2, 3))
  for b in range(2):
    for t in range(3):
      x, y = noisy[b, t], clean[b, t]
      if y_channel:
        x, y = rgb2ycbcr(x)[..., 0] / 255.0, rgb2ycbcr(y)[..., 0] / 255.0
        want[b, t] = structural_similarity(x, y, data_range=1.0, **kwargs)
      else:
        want[b, t] = structural_similarity(x, y, data_range=1.0,
                                           channel_axis=-1, **kwargs)
  assert 0.2 < want.min() and want.max() < 0.99  # a discriminating case
  np.testing.assert_allclose(got, want, atol=1e-4)


def test_ssim_data_range_and_identity():
  clean, noisy = _pair(seed=2, shape=(1, 16, 16, 3))
  ssim = jax.jit(image_quality.ssim)  # one program for both ranges
  got = float(ssim(noisy * 255, clean * 255, 255.0)[0])
  want = structural_similarity(noisy[0] * 255, clean[0] * 255,
                               data_range=255.0, channel_axis=-1)
  assert got == pytest.approx(want, abs=1e-4)
  same = float(ssim(clean, clean, 1.0)[0])
  assert same == pytest.approx(1.0, abs=1e-5)


def test_ssim_rejects_images_smaller_than_the_window():
  x = jnp.zeros((1, 6, 6, 3))
  with pytest.raises(ValueError, match="smaller than the 7x7 window"):
    image_quality.ssim(x, x)
