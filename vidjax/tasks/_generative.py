"""What the video generation tasks (gan, diffusion) share: the pixel range,
the evaluation protocol (Fréchet video distance, conditional accuracy) and
the sample grids.

config.task (fields every generation task has):
  feature_network: workdir of a classification run whose classifier computes
    the FVD features and judges conditional samples
    (`configs/generation/fvd_features_synthetic.py`); "" skips FVD and
    conditional accuracy (evaluation then reports the task's own losses).

Models work on pixels in [-1, 1]; the pipeline delivers [0, 1]
(config.data.mean = 0, std = 1) and `to_model`/`to_pixels` convert.
Evaluation generates, for each real evaluation clip, one clip of the same
class from a key that depends only on the batch index, so every evaluation
of a checkpoint sees the same samples.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from vidjax.metrics import generation as gen_metrics
from vidjax.metrics.video_features import FeatureNetwork
from vidjax.tasks import base


def to_model(video: jax.Array) -> jax.Array:
  return video * 2.0 - 1.0


def to_pixels(video: jax.Array) -> jax.Array:
  return jnp.clip((video.astype(jnp.float32) + 1.0) / 2.0, 0.0, 1.0)


class GenerativeTask(base.Task):
  """Base of the generation tasks; subclasses implement `sample`."""

  train_keys = ("video", "label")
  eval_keys = ("video", "label", "mask")
  best_mode = "min"

  def __init__(self, config, info, num_train_steps):
    if tuple(config.data.mean) != (0.0, 0.0, 0.0) or \
        tuple(config.data.std) != (1.0, 1.0, 1.0):
      raise ValueError(
          "generation needs pixel values in [0, 1]: set config.data.mean = "
          f"(0, 0, 0) and config.data.std = (1, 1, 1) (got mean="
          f"{tuple(config.data.mean)}, std={tuple(config.data.std)})")
    super().__init__(config, info, num_train_steps)
    self.features: FeatureNetwork | None = None
    path = config.task.get("feature_network", "")
    if path:
      self.features = FeatureNetwork.load(path, info)
      self.features.check_compatible(config.data.num_frames,
                                     config.data.image_size, info.class_names)
    # Best checkpoint by FVD when there is a feature network to compute it.
    self.best_metric = "fvd" if self.features is not None else ""

  # -- what a generation task provides ----------------------------------------

  def sample(self, params: Any, rng: jax.Array, labels: jax.Array,
             **kwargs) -> jax.Array:
    """Clips [B, T, H, W, 3] in [0, 1] for class labels [B]."""
    raise NotImplementedError

  def sample_params(self, state) -> Any:
    """The parameters `sample` uses (the EMA ones where kept)."""
    return self.eval_params(state)

  def eval_loss_sums(self, state, batch, rng) -> dict[str, jax.Array]:
    """Task-specific masked sums (e.g. the training loss on eval clips)."""
    del state, batch, rng
    return {}

  # -- evaluation ------------------------------------------------------------

  def eval_step(self, state, batch, rng):
    real, labels, mask = batch["video"], batch["label"], batch["mask"]
    sample_rng, shuffle_rng, loss_rng = jax.random.split(rng, 3)
    generated = self.sample(self.sample_params(state), sample_rng, labels)
    sums = {"count": jnp.sum(mask)}
    sums.update(self.eval_loss_sums(state, batch, loss_rng))
    if self.features is not None:
      sums.update(gen_metrics.batch_sums(
          self.features, real, generated, labels, mask, shuffle_rng,
          self.info.num_classes))
    return sums, {"generated": generated}

  def finalize_eval(self, sums):
    n = max(float(sums["count"]), 1.0)
    out = {k: float(v) / n for k, v in sums.items()
           if k != "count" and np.ndim(v) == 0 and not k.startswith(
               tuple(f"{s}_" for s in gen_metrics.SETS))}
    if self.features is not None:
      out.update(gen_metrics.finalize(sums))
    out["num_videos"] = float(sums["count"])
    return out

  def write_eval_artifacts(self, sums, out_dir):
    del out_dir
    if self.features is None:
      return {}
    return {"per_class": gen_metrics.per_class_accuracy(
        sums, self.info.class_names)}

  def visualize(self, batch, examples):
    """Rows: real clip, then generated clip of the same class (4 frames)."""
    real = np.asarray(batch["video"])
    generated = np.asarray(examples["generated"])
    keep = np.flatnonzero(np.asarray(batch["mask"]) > 0)[:4]
    t = real.shape[1]
    frames = np.linspace(0, t - 1, min(t, 4)).round().astype(int)
    rows = []
    for i in keep:
      for clip in (real[i], generated[i]):
        rows.append(np.concatenate([clip[f] for f in frames], axis=1))
    if not rows:
      return {}
    image = np.clip(np.concatenate(rows, axis=0), 0, 1)
    return {"real_generated": (image * 255).round().astype(np.uint8)}
