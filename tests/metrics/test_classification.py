"""Classification metrics against scikit-learn."""

import jax.numpy as jnp
import numpy as np
from sklearn import metrics as skm

from vidjax.metrics import classification as C


def _data(seed=0, n=200, k=7):
  rng = np.random.default_rng(seed)
  logits = rng.normal(size=(n, k)).astype(np.float32)
  labels = rng.integers(0, k, n)
  weights = (rng.uniform(size=n) > 0.2).astype(np.float32)
  return logits, labels, weights


def test_confusion_matrix_matches_sklearn():
  logits, labels, weights = _data()
  preds = logits.argmax(-1)
  got = C.confusion_matrix(jnp.asarray(labels), jnp.asarray(preds), 7,
                           jnp.asarray(weights))
  want = skm.confusion_matrix(labels, preds, labels=range(7),
                              sample_weight=weights)
  np.testing.assert_allclose(np.asarray(got), want)


def test_per_class_scores_match_sklearn():
  logits, labels, _ = _data(1)
  preds = logits.argmax(-1)
  preds[preds == 3] = 2  # class 3 is never predicted: precision undefined
  confusion = skm.confusion_matrix(labels, preds, labels=range(7))
  got = C.per_class_scores(confusion)
  p, r, f, s = skm.precision_recall_fscore_support(
      labels, preds, labels=range(7), zero_division=0)
  np.testing.assert_allclose(got["precision"], p)
  np.testing.assert_allclose(got["recall"], r)
  np.testing.assert_allclose(got["f1"], f)
  np.testing.assert_allclose(got["support"], s)
  assert C.accuracy(confusion) == skm.accuracy_score(labels, preds)


def test_topk_matches_sklearn():
  logits, labels, _ = _data(2)
  for k in (1, 3, 5):
    got = np.asarray(C.topk_correct(jnp.asarray(logits), jnp.asarray(labels),
                                    k)).mean()
    want = skm.top_k_accuracy_score(labels, logits, k=k, labels=range(7))
    np.testing.assert_allclose(got, want)
