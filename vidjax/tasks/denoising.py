"""Video denoising: recover a clean clip from one with Gaussian noise added.

config.task:
  sigma_range: (low, high) noise standard deviation on the 0-255 scale; each
    training clip draws its own sigma uniformly from it (blind denoising).
  eval_sigma: the fixed sigma (0-255 scale) used at evaluation.
  loss: "l2" (mean squared error) or "l1".

The pipeline must deliver pixels in [0, 1] (config.data.mean = 0, std = 1).
Noise is drawn on device from the step's key, so evaluation noise is the
same at every evaluation. Reports PSNR of the output and of the noisy input,
and their difference (the gain).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from vidjax.metrics import image_quality
from vidjax.tasks import base

LOSSES = ("l2", "l1")


class Task(base.Task):
  train_keys = ("video",)
  eval_keys = ("video", "mask")
  best_metric = "psnr"
  best_mode = "max"

  def __init__(self, config, info, num_train_steps):
    if tuple(config.data.mean) != (0.0, 0.0, 0.0) or \
        tuple(config.data.std) != (1.0, 1.0, 1.0):
      raise ValueError(
          "denoising needs pixel values in [0, 1]: set config.data.mean = "
          f"(0, 0, 0) and config.data.std = (1, 1, 1) (got mean="
          f"{tuple(config.data.mean)}, std={tuple(config.data.std)})")
    if config.task.loss not in LOSSES:
      raise ValueError(f"config.task.loss must be one of {LOSSES}, got "
                       f"{config.task.loss!r}")
    super().__init__(config, info, num_train_steps)

  def add_noise(self, clean: jax.Array, rng: jax.Array,
                sigma: jax.Array) -> jax.Array:
    """clean + sigma * N(0, 1); sigma broadcasts per clip, 0-1 scale."""
    return clean + sigma * jax.random.normal(rng, clean.shape, clean.dtype)

  def loss(self, params, model_state, batch, rng):
    clean = batch["video"]
    sigma_rng, noise_rng, dropout_rng = jax.random.split(rng, 3)
    lo, hi = self.config.task.sigma_range
    sigma = jax.random.uniform(sigma_rng, (clean.shape[0],) +
                               (1,) * (clean.ndim - 1), minval=lo,
                               maxval=hi) / 255.0
    noisy = self.add_noise(clean, noise_rng, sigma)
    out, model_state = self.apply_model(params, model_state, noisy,
                                        train=True, rng=dropout_rng)
    err = out.astype(jnp.float32) - clean
    loss = jnp.mean(err * err) if self.config.task.loss == "l2" \
        else jnp.mean(jnp.abs(err))
    psnr = image_quality.psnr(jnp.clip(out, 0, 1), clean).mean()
    return loss, ({"psnr": psnr}, model_state)

  def eval_step(self, state, batch, rng):
    clean = batch["video"]
    sigma = self.config.task.eval_sigma / 255.0
    noisy = self.add_noise(clean, rng, jnp.float32(sigma))
    out, _ = self.apply_model(self.eval_params(state), state.model_state,
                              noisy, train=False)
    out = jnp.clip(out.astype(jnp.float32), 0.0, 1.0)
    mask = batch["mask"]
    t = clean.shape[1] // 2
    sums = {
        "count": jnp.sum(mask),
        "psnr": jnp.sum(image_quality.psnr(out, clean) * mask),
        "psnr_noisy": jnp.sum(
            image_quality.psnr(jnp.clip(noisy, 0, 1), clean) * mask),
    }
    return sums, {"noisy": jnp.clip(noisy[:, t], 0, 1), "denoised": out[:, t]}

  def finalize_eval(self, sums):
    n = max(float(sums["count"]), 1.0)
    psnr, noisy = float(sums["psnr"]) / n, float(sums["psnr_noisy"]) / n
    return {"psnr": psnr, "psnr_noisy": noisy, "psnr_gain": psnr - noisy,
            "num_videos": float(sums["count"])}

  def visualize(self, batch, examples):
    clean = np.asarray(batch["video"])[:, batch["video"].shape[1] // 2]
    views = (examples["noisy"], examples["denoised"], clean)
    real = np.flatnonzero(np.asarray(batch["mask"]) > 0)[:4]
    rows = [np.concatenate([np.asarray(v[i]) for v in views], axis=1)
            for i in real]
    image = np.clip(np.concatenate(rows, axis=0), 0, 1)
    return {"noisy_denoised_clean": (image * 255).round().astype(np.uint8)}
