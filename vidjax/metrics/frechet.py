"""Fréchet distance between Gaussians fitted to feature sets (FID, FVD).

The Fréchet (2-Wasserstein) distance between N(mu1, S1) and N(mu2, S2) is

    |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2).

The trace of (S1 S2)^1/2, the usual way of writing the last term, equals that
of the symmetric positive semi-definite (S1^1/2 S2 S1^1/2)^1/2, which two
symmetric eigendecompositions give stably; scipy's `sqrtm` of the
non-symmetric S1 S2 can return complex parts for rank-deficient inputs.

Feature statistics are accumulated on device as additive sums (count, sum,
sum of outer products), so they add up over evaluation batches and devices
like every other metric; the host turns them into a mean and covariance.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def feature_sums(features: jax.Array, mask: jax.Array) -> dict[str, jax.Array]:
  """Additive statistics of features [N, D] weighted by mask [N] (0 or 1)."""
  features = features.astype(jnp.float32)
  weighted = features * mask[:, None]
  return {"count": jnp.sum(mask), "sum": jnp.sum(weighted, axis=0),
          "outer": weighted.T @ features}


def gaussian_from_sums(sums: dict[str, np.ndarray]
                       ) -> tuple[np.ndarray, np.ndarray]:
  """Mean [D] and unbiased covariance [D, D] from `feature_sums` totals."""
  n = float(sums["count"])
  if n < 2:
    raise ValueError(f"a covariance needs at least 2 feature vectors, got "
                     f"{n:g}")
  total = np.asarray(sums["sum"], np.float64)
  mean = total / n
  cov = (np.asarray(sums["outer"], np.float64) - n * np.outer(mean, mean)) / (
      n - 1)
  return mean, (cov + cov.T) / 2


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
  """Square root of a symmetric positive semi-definite matrix."""
  values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
  return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray,
                     cov2: np.ndarray) -> float:
  """Fréchet distance between N(mu1, cov1) and N(mu2, cov2), float64."""
  mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(
      np.asarray(mu2, np.float64))
  cov1, cov2 = np.atleast_2d(np.asarray(cov1, np.float64)), np.atleast_2d(
      np.asarray(cov2, np.float64))
  if mu1.shape != mu2.shape or cov1.shape != cov2.shape or \
      cov1.shape != mu1.shape * 2:
    raise ValueError(f"shapes do not match: mu {mu1.shape} / {mu2.shape}, "
                     f"cov {cov1.shape} / {cov2.shape}")
  root1 = _sqrt_psd(cov1)
  middle = np.trace(_sqrt_psd(root1 @ cov2 @ root1))
  diff = mu1 - mu2
  value = diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * middle
  # Rounding can leave -1e-12 for identical inputs; the distance is >= 0.
  return float(max(value, 0.0))


def frechet_distance_from_sums(a: dict[str, np.ndarray],
                               b: dict[str, np.ndarray]) -> float:
  """Fréchet distance between the Gaussians fitted to two `feature_sums`."""
  return frechet_distance(*gaussian_from_sums(a), *gaussian_from_sums(b))
