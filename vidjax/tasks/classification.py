"""Video classification: cross-entropy training, top-k and per-class metrics.

config.task:
  label_smoothing: mass spread uniformly over all classes (0 disables).

Batch keys: `video` [B, T, H, W, 3] and `label` [B] (int) or [B, K] (soft
labels, e.g. from mixup). At evaluation `video` may carry a views axis
[B, V, T, H, W, 3] (several clips and crops of one video); the logits of the
views are averaged per video.

Evaluation reports top-1/top-5 accuracy in [0, 1], loss, macro F1, and
writes per-class precision/recall/F1 and a confusion matrix plot.
"""

from __future__ import annotations

import json
import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from vidjax.metrics import classification as cls_metrics
from vidjax.tasks import base


class Task(base.Task):
  train_keys = ("video", "label")
  eval_keys = ("video", "label", "mask")
  best_metric = "top1"
  best_mode = "max"

  def model_kwargs(self) -> dict[str, Any]:
    return {"num_classes": self.info.num_classes}

  def _targets(self, labels: jax.Array) -> jax.Array:
    k = self.info.num_classes
    targets = labels if labels.ndim == 2 else jax.nn.one_hot(labels, k)
    return optax.smooth_labels(targets, self.config.task.label_smoothing)

  def loss(self, params, model_state, batch, rng):
    logits, model_state = self.apply_model(params, model_state,
                                           batch["video"], train=True,
                                           rng=rng)
    labels = batch["label"]
    loss = optax.softmax_cross_entropy(logits, self._targets(labels)).mean()
    hard = labels if labels.ndim == 1 else jnp.argmax(labels, -1)
    top1 = jnp.mean(jnp.argmax(logits, -1) == hard)
    return loss, ({"top1": top1}, model_state)

  def predict(self, params: Any, model_state: Any,
              video: jax.Array) -> jax.Array:
    """Logits [B, K]; a views axis [B, V, ...] is averaged over per video."""
    if video.ndim == 6:
      b, v = video.shape[:2]
      logits, _ = self.apply_model(params, model_state,
                                   video.reshape((b * v,) + video.shape[2:]),
                                   train=False)
      return logits.reshape(b, v, -1).mean(axis=1)
    logits, _ = self.apply_model(params, model_state, video, train=False)
    return logits

  def eval_step(self, state, batch, rng):
    del rng
    logits = self.predict(self.eval_params(state), state.model_state,
                          batch["video"]).astype(jnp.float32)
    labels, mask = batch["label"], batch["mask"]
    k = self.info.num_classes
    ce = optax.softmax_cross_entropy(logits, jax.nn.one_hot(labels, k))
    predictions = jnp.argmax(logits, -1)
    return {
        "count": jnp.sum(mask),
        "loss": jnp.sum(ce * mask),
        "top1": jnp.sum(cls_metrics.topk_correct(logits, labels, 1) * mask),
        "top5": jnp.sum(cls_metrics.topk_correct(logits, labels, 5) * mask),
        "confusion": cls_metrics.confusion_matrix(labels, predictions, k,
                                                  mask),
    }, {"prediction": predictions}

  def finalize_eval(self, sums):
    n = max(float(sums["count"]), 1.0)
    scores = cls_metrics.per_class_scores(sums["confusion"])
    return {
        "top1": float(sums["top1"]) / n,
        "top5": float(sums["top5"]) / n,
        "loss": float(sums["loss"]) / n,
        "macro_f1": float(np.mean(scores["f1"])),
        "num_videos": float(sums["count"]),
    }

  def write_eval_artifacts(self, sums, out_dir):
    scores = cls_metrics.per_class_scores(sums["confusion"])
    names = self.info.class_names
    per_class = {
        name: {k: float(scores[k][i]) for k in ("precision", "recall", "f1",
                                                 "support")}
        for i, name in enumerate(names)}
    with open(os.path.join(out_dir, "per_class.json"), "w") as f:
      json.dump(per_class, f, indent=2)
    _plot_confusion(np.asarray(sums["confusion"]), names,
                    os.path.join(out_dir, "confusion_matrix.png"))
    return {"per_class": per_class}

  def visualize(self, batch, examples):
    real = np.asarray(batch["mask"]) > 0
    return {"predictions": _prediction_strip(
        np.asarray(batch["video"])[real], np.asarray(batch["label"])[real],
        np.asarray(examples["prediction"])[real], self.info.class_names,
        self.config.data.mean, self.config.data.std)}


def _plot_confusion(confusion: np.ndarray, names, path: str) -> None:
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  k = len(names)
  fig, ax = plt.subplots(figsize=(1.0 + 0.55 * k, 0.8 + 0.5 * k))
  row = confusion.sum(axis=1, keepdims=True)
  frac = np.divide(confusion, row, out=np.zeros_like(confusion),
                   where=row > 0)
  ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
  for i in range(k):
    for j in range(k):
      if confusion[i, j]:
        ax.text(j, i, f"{int(confusion[i, j])}", ha="center", va="center",
                fontsize=7, color="white" if frac[i, j] > 0.5 else "black")
  ax.set_xticks(range(k), names, rotation=60, ha="right", fontsize=7)
  ax.set_yticks(range(k), names, fontsize=7)
  ax.set_xlabel("predicted")
  ax.set_ylabel("true")
  ax.set_title("confusion matrix (counts; colour: row fraction)", fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)


def _prediction_strip(video: np.ndarray, labels: np.ndarray,
                      preds: np.ndarray, names, mean, std,
                      max_videos: int = 8, frame_size: int = 96) -> np.ndarray:
  """First, middle and last frame of a few clips, each row captioned with
  its true and predicted class (green when right, red when wrong).

  Drawn with numpy and PIL (milliseconds) rather than a matplotlib figure
  of 3n axes (most of a second, at the end of every run).
  """
  from PIL import Image, ImageDraw  # pylint: disable=g-import-not-at-top
  if video.ndim == 6:
    video = video[:, 0]
  n = min(max_videos, video.shape[0])
  t, h, w = video.shape[1:4]
  frames = np.clip(video[:n] * np.asarray(std) + np.asarray(mean), 0, 1)
  scale = max(1, frame_size // max(h, w))  # nearest-neighbour upscaling
  fh, fw, gap, band = h * scale, w * scale, 4, 14
  width = max(3 * fw + 2 * gap, 240)
  canvas = np.full((n * (band + fh + gap), width, 3), 255, np.uint8)
  for i in range(n):
    top = i * (band + fh + gap) + band
    for j, f in enumerate((0, t // 2, t - 1)):
      tile = np.repeat(np.repeat(frames[i, f], scale, 0), scale, 1)
      left = j * (fw + gap)
      canvas[top:top + fh, left:left + fw] = np.round(tile * 255)
  image = Image.fromarray(canvas)
  draw = ImageDraw.Draw(image)
  for i in range(n):
    ok = labels[i] == preds[i]
    draw.text((2, i * (band + fh + gap) + 1),
              f"true {names[labels[i]]} / pred {names[preds[i]]} "
              f"({'ok' if ok else 'WRONG'})",
              fill=(0, 120, 0) if ok else (200, 0, 0))
  return np.asarray(image)
