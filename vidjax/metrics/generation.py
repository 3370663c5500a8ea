"""Evaluation of video generators: Fréchet video distance and conditional
accuracy, with a shuffled-frames baseline.

Per evaluation batch of real clips (with their labels), the task generates
as many clips for the same labels; `batch_sums` then computes, with a frozen
feature network (`video_features.FeatureNetwork`):

- feature statistics of the real clips, of the generated clips and of the
  real clips with their frames shuffled in time. The shuffled clips have
  exactly the real appearance and no coherent motion: the trivial baseline a
  generator of motion must beat. `fvd` is the Fréchet distance of the
  generated clips to the real ones, `fvd_shuffled` the baseline's;
- the confusion matrix of (label asked for, class the network predicts) for
  generated clips: `cond_top1` is their accuracy, the conditional-quality
  check, next to the network's accuracy on the real clips (`real_top1`, its
  ceiling) and on the shuffled ones (`shuffled_top1`).

All of it is sums over examples, so batches and devices add up. The Fréchet
distance from a few hundred clips is biased upwards (the more so the fewer
the clips); compare numbers computed from the same number of clips.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from vidjax.metrics import classification as cls_metrics
from vidjax.metrics import frechet
from vidjax.metrics.video_features import FeatureNetwork

SETS = ("real", "generated", "shuffled")


def shuffle_frames(video: jax.Array, rng: jax.Array) -> jax.Array:
  """Each clip [B, T, ...] with its frames in an independent random order."""
  b, t = video.shape[:2]
  order = jax.vmap(lambda k: jax.random.permutation(k, t))(
      jax.random.split(rng, b))
  return jnp.take_along_axis(
      video, order.reshape((b, t) + (1,) * (video.ndim - 2)), axis=1)


def batch_sums(network: FeatureNetwork, real: jax.Array,
               generated: jax.Array, labels: jax.Array, mask: jax.Array,
               rng: jax.Array, num_classes: int) -> dict[str, jax.Array]:
  """Additive statistics of one batch; clips [B, T, H, W, 3] in [0, 1].

  labels: [B] the classes the generated clips were asked to show (those of
  the real clips); mask: [B] 1 for real examples, 0 for padding.
  """
  shuffled = shuffle_frames(real, rng)
  sums = {}
  for name, video in zip(SETS, (real, generated, shuffled)):
    features, logits = network(video)
    stats = frechet.feature_sums(features, mask)
    sums.update({f"{name}_{k}": v for k, v in stats.items()})
    predictions = jnp.argmax(logits, -1)
    sums[f"{name}_confusion"] = cls_metrics.confusion_matrix(
        labels, predictions, num_classes, mask)
  return sums


def _stats(sums: dict[str, np.ndarray], name: str) -> dict[str, np.ndarray]:
  return {k: sums[f"{name}_{k}"] for k in ("count", "sum", "outer")}


def finalize(sums: dict[str, np.ndarray]) -> dict[str, float]:
  """fvd, fvd_shuffled, their ratio, and the accuracies, from summed
  `batch_sums`."""
  real = _stats(sums, "real")
  out = {}
  for name, key in (("generated", "fvd"), ("shuffled", "fvd_shuffled")):
    out[key] = frechet.frechet_distance_from_sums(_stats(sums, name), real)
  out["fvd_ratio_to_shuffled"] = out["fvd"] / max(out["fvd_shuffled"], 1e-12)
  for name, key in (("generated", "cond_top1"), ("real", "real_top1"),
                    ("shuffled", "shuffled_top1")):
    confusion = np.asarray(sums[f"{name}_confusion"], np.float64)
    out[key] = float(np.trace(confusion) / max(confusion.sum(), 1.0))
  return out


def per_class_accuracy(sums: dict[str, np.ndarray],
                       class_names) -> dict[str, dict[str, float]]:
  """Per class asked for: accuracy of generated clips and of real ones."""
  out = {}
  for i, name in enumerate(class_names):
    row = {}
    for s, key in (("generated", "generated"), ("real", "real")):
      confusion = np.asarray(sums[f"{s}_confusion"], np.float64)
      total = confusion[i].sum()
      row[key] = float(confusion[i, i] / total) if total else float("nan")
    row["support"] = float(np.asarray(sums["real_confusion"])[i].sum())
    out[name] = row
  return out


def split_halves_fvd(real: np.ndarray, shuffled: np.ndarray,
                     seed: int = 0) -> dict[str, float]:
  """Sanity check of a feature network, from features [N, D] of real clips
  and of the same clips with shuffled frames.

  Splits the clips at random into halves A and B and returns the Fréchet
  distance between A and B (`real_halves`: same distribution, only sampling
  noise) and between A and the shuffled clips of B (`shuffled_halves`). A
  network whose features see motion gives real_halves < shuffled_halves.
  """
  real, shuffled = np.asarray(real, np.float64), np.asarray(shuffled,
                                                              np.float64)
  order = np.random.default_rng(seed).permutation(len(real))
  a, b = order[:len(order) // 2], order[len(order) // 2:]

  def gaussian(x):
    return np.mean(x, axis=0), np.cov(x, rowvar=False)

  return {"real_halves": frechet.frechet_distance(*gaussian(real[a]),
                                                  *gaussian(real[b])),
          "shuffled_halves": frechet.frechet_distance(
              *gaussian(real[a]), *gaussian(shuffled[b])),
          "clips_per_half": float(len(a))}


def real_and_shuffled_features(network: FeatureNetwork, batches,
                               rng: jax.Array
                               ) -> tuple[np.ndarray, np.ndarray]:
  """Features of the real clips of evaluation batches (dicts with `video`
  and `mask`) and of the same clips with shuffled frames, [N, D] each."""
  embed = jax.jit(lambda v: network(v)[0])
  real, shuffled = [], []
  for i, batch in enumerate(batches):
    video = np.asarray(batch["video"])[np.asarray(batch["mask"]) > 0]
    if not len(video):
      continue
    real.append(np.asarray(embed(video)))
    shuffled.append(np.asarray(embed(
        shuffle_frames(video, jax.random.fold_in(rng, i)))))
  return np.concatenate(real), np.concatenate(shuffled)
