"""PSNR against scikit-image."""

import jax.numpy as jnp
import numpy as np
from skimage.metrics import peak_signal_noise_ratio

from vidjax.metrics import image_quality


def test_psnr_matches_skimage_per_clip():
  rng = np.random.default_rng(0)
  clean = rng.uniform(size=(3, 4, 16, 16, 3))
  noisy = np.clip(clean + rng.normal(0, 0.1, clean.shape), 0, 1)
  got = np.asarray(image_quality.psnr(jnp.asarray(noisy), jnp.asarray(clean)))
  want = [peak_signal_noise_ratio(clean[i], noisy[i], data_range=1.0)
          for i in range(3)]
  np.testing.assert_allclose(got, want, atol=1e-4)


def test_psnr_data_range():
  a = np.full((1, 8, 8), 100.0)
  b = a + 5.0
  got = float(image_quality.psnr(jnp.asarray(b), jnp.asarray(a),
                                 data_range=255.0)[0])
  np.testing.assert_allclose(got, peak_signal_noise_ratio(a, b,
                                                          data_range=255),
                             atol=1e-4)
