"""Classification metrics.

On device, per batch: top-k hits and a confusion matrix, both weighted by a
mask so padded or failed examples do not count; they are summed over batches.
On host: accuracy, per-class precision/recall/F1 and their macro average from
the summed confusion matrix (rows: true class, columns: predicted class).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def topk_correct(logits: jax.Array, labels: jax.Array, k: int) -> jax.Array:
  """1.0 where the true label is among the k highest logits; [B]."""
  k = min(k, logits.shape[-1])
  top = jax.lax.top_k(logits, k)[1]
  return jnp.any(top == labels[:, None], axis=-1).astype(jnp.float32)


def confusion_matrix(labels: jax.Array, predictions: jax.Array,
                     num_classes: int, weights: jax.Array | None = None
                     ) -> jax.Array:
  """[num_classes, num_classes] weighted counts; rows true, columns predicted."""
  if weights is None:
    weights = jnp.ones(labels.shape, jnp.float32)
  flat = labels * num_classes + predictions
  counts = jnp.zeros(num_classes * num_classes, jnp.float32).at[flat].add(
      weights.astype(jnp.float32))
  return counts.reshape(num_classes, num_classes)


def per_class_scores(confusion: np.ndarray) -> dict[str, np.ndarray]:
  """Precision, recall, F1 and support per class (0 where undefined)."""
  confusion = np.asarray(confusion, np.float64)
  tp = np.diag(confusion)
  predicted = confusion.sum(axis=0)
  support = confusion.sum(axis=1)
  with np.errstate(divide="ignore", invalid="ignore"):
    precision = np.where(predicted > 0, tp / predicted, 0.0)
    recall = np.where(support > 0, tp / support, 0.0)
    f1 = np.where(precision + recall > 0,
                  2 * precision * recall / (precision + recall), 0.0)
  return dict(precision=precision, recall=recall, f1=f1, support=support)


def accuracy(confusion: np.ndarray) -> float:
  confusion = np.asarray(confusion, np.float64)
  total = confusion.sum()
  return float(np.trace(confusion) / total) if total else 0.0
