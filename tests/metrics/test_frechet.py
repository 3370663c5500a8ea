"""The Fréchet distance against closed forms for two Gaussians."""

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from vidjax.metrics import frechet


def _random_cov(rng, d):
  a = rng.normal(size=(d, d))
  return a @ a.T / d + 0.1 * np.eye(d)


def test_one_dimension_is_the_wasserstein_distance():
  # W2(N(m1, s1^2), N(m2, s2^2))^2 = (m1 - m2)^2 + (s1 - s2)^2.
  got = frechet.frechet_distance(np.array([1.0]), np.array([[4.0]]),
                                 np.array([-2.0]), np.array([[0.25]]))
  assert got == pytest.approx((1.0 + 2.0) ** 2 + (2.0 - 0.5) ** 2, rel=1e-12)


def test_diagonal_covariances():
  mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, -1.0])
  v1, v2 = np.array([1.0, 9.0, 0.04]), np.array([4.0, 1.0, 0.09])
  want = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(v1) - np.sqrt(v2)) ** 2)
  got = frechet.frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2))
  assert got == pytest.approx(want, rel=1e-10)


def test_scaled_full_covariance():
  # S2 = c^2 S1 commutes with S1: Tr(S1 + c^2 S1 - 2 c S1) = (1 - c)^2 Tr S1.
  rng = np.random.default_rng(0)
  cov = _random_cov(rng, 6)
  mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
  got = frechet.frechet_distance(mu1, cov, mu2, 9.0 * cov)
  want = np.sum((mu1 - mu2) ** 2) + 4.0 * np.trace(cov)
  assert got == pytest.approx(want, rel=1e-9)


def test_non_commuting_covariances_match_scipy_sqrtm():
  rng = np.random.default_rng(1)
  c1, c2 = _random_cov(rng, 5), _random_cov(rng, 5)
  assert not np.allclose(c1 @ c2, c2 @ c1)
  mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
  ref = (np.sum((mu1 - mu2) ** 2) + np.trace(c1) + np.trace(c2)
         - 2 * np.trace(scipy.linalg.sqrtm(c1 @ c2)).real)
  got = frechet.frechet_distance(mu1, c1, mu2, c2)
  assert got == pytest.approx(ref, rel=1e-8)
  assert got == pytest.approx(frechet.frechet_distance(mu2, c2, mu1, c1),
                              rel=1e-8)


def test_identical_and_rank_deficient_inputs_give_zero():
  rng = np.random.default_rng(2)
  x = rng.normal(size=(3, 8))  # 3 samples in 8 dimensions: rank 2
  cov = np.cov(x, rowvar=False)
  assert frechet.frechet_distance(x.mean(0), cov, x.mean(0), cov) == \
      pytest.approx(0.0, abs=1e-7)


def test_batched_sums_estimate_two_gaussians():
  """Features of two known Gaussians, summed over batches and masked
  padding: the mean and covariance match numpy's, and the distance matches
  the closed form of the true parameters."""
  rng = np.random.default_rng(3)
  d, n = 4, 40000
  mu1, mu2 = np.zeros(d), np.array([0.5, -0.5, 0.0, 1.0])
  var1, var2 = np.array([1.0, 2.0, 0.5, 1.0]), np.array([1.5, 1.0, 0.5, 3.0])
  rot = np.linalg.qr(rng.normal(size=(d, d)))[0]
  cov1, cov2 = rot @ np.diag(var1) @ rot.T, rot @ np.diag(var2) @ rot.T
  samples = {k: rng.multivariate_normal(m, c, n).astype(np.float32)
             for k, m, c in (("a", mu1, cov1), ("b", mu2, cov2))}
  sums = {}
  for k, x in samples.items():
    total = None
    for batch in np.split(x, 8):
      padded = np.concatenate([batch, np.full((3, d), 1e3, np.float32)])
      mask = np.concatenate([np.ones(len(batch)), np.zeros(3)])
      s = frechet.feature_sums(jnp.asarray(padded),
                               jnp.asarray(mask, jnp.float32))
      total = s if total is None else {j: total[j] + s[j] for j in s}
    sums[k] = {j: np.asarray(v) for j, v in total.items()}
  mean, cov = frechet.gaussian_from_sums(sums["a"])
  np.testing.assert_allclose(mean, samples["a"].mean(0), atol=1e-4)
  np.testing.assert_allclose(cov, np.cov(samples["a"], rowvar=False),
                             atol=2e-3)
  # Shared eigenvectors: closed form sum of (sqrt(v1) - sqrt(v2))^2.
  want = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) -
                                            np.sqrt(var2)) ** 2)
  got = frechet.frechet_distance_from_sums(sums["a"], sums["b"])
  assert got == pytest.approx(want, rel=0.05)


def test_too_few_features_is_an_error():
  with pytest.raises(ValueError, match="at least 2"):
    frechet.gaussian_from_sums({"count": 1.0, "sum": np.zeros(2),
                                "outer": np.zeros((2, 2))})
