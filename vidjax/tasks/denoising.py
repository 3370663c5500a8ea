"""Video denoising: recover a clean clip from one with Gaussian noise added.

config.task:
  sigma_range: (low, high) noise standard deviation on the 0-255 scale; each
    training clip draws its own sigma uniformly from it.
  eval_sigmas: the sigmas (0-255 scale) evaluation reports, one pass each:
    10, 20, 30, 40, 50 as in the DAVIS protocol of FastDVDnet.
  loss: "l2" (mean squared error) or "l1".

Models are called as `model(noisy, sigma, train=...)` with sigma on the 0-1
scale, one per clip; blind models (DnCNN) ignore it, FastDVDnet turns it into
its noise map. Noise is added without clipping (as in the DAVIS protocol);
"noisy" metrics measure the noisy input clipped to [0, 1], the trivial
baseline. Evaluation noise is drawn from a fixed key, the same at every
evaluation.

Reports, for each sigma s: `psnr_s{s}` and `ssim_s{s}` of the output,
`psnr_noisy_s{s}`, and `psnr_gain_s{s}` (output minus noisy input); and
their means over the sigmas (`psnr`, `psnr_noisy`, `psnr_gain`, `ssim`).
PSNR and SSIM (Wang et al.'s Gaussian window) are per frame on RGB and
averaged over the frames of a video, then over videos.

The pipeline must deliver pixels in [0, 1] (config.data.mean = 0, std = 1).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from vidjax.metrics import image_quality as iq
from vidjax.tasks import _enhancement

LOSSES = ("l2", "l1")


def add_noise(clean: jax.Array, rng: jax.Array, sigma: jax.Array) -> jax.Array:
  """clean + sigma * N(0, 1); sigma (0-1 scale) broadcasts per clip."""
  sigma = jnp.reshape(sigma, jnp.shape(sigma) + (1,) * (clean.ndim -
                                                        jnp.ndim(sigma)))
  return clean + sigma * jax.random.normal(rng, clean.shape, clean.dtype)


class Task(_enhancement.EnhancementTask):
  best_metric = "psnr"
  best_mode = "max"

  def __init__(self, config, info, num_train_steps):
    _enhancement.require_unit_range(config, "denoising")
    _enhancement.check_choice(config.task.loss, LOSSES, "config.task.loss")
    if not config.task.eval_sigmas:
      raise ValueError("config.task.eval_sigmas is empty")
    super().__init__(config, info, num_train_steps)

  def model_inputs(self, video):
    return video, jnp.full((video.shape[0],), 25.0 / 255.0)

  def loss(self, params, model_state, batch, rng):
    clean = batch["video"]
    sigma_rng, noise_rng, dropout_rng = jax.random.split(rng, 3)
    lo, hi = self.config.task.sigma_range
    sigma = jax.random.uniform(sigma_rng, (clean.shape[0],), minval=lo,
                               maxval=hi) / 255.0
    noisy = add_noise(clean, noise_rng, sigma)
    out, model_state = self.run_model(params, model_state, (noisy, sigma),
                                      train=True, rng=dropout_rng)
    err = out.astype(jnp.float32) - clean
    loss = jnp.mean(err * err) if self.config.task.loss == "l2" \
        else jnp.mean(jnp.abs(err))
    psnr = iq.video_mean(iq.psnr_frames(_enhancement.clip01(out),
                                        clean)).mean()
    return loss, ({"psnr": psnr}, model_state)

  def eval_step(self, state, batch, rng):
    clean, mask = batch["video"], batch["mask"]
    params = self.eval_params(state)
    sums = {"count": jnp.sum(mask)}
    sigmas = tuple(self.config.task.eval_sigmas)
    show = sigmas[len(sigmas) // 2]
    examples = {}
    for i, s in enumerate(sigmas):
      sigma = jnp.full((clean.shape[0],), s / 255.0)
      noisy = add_noise(clean, jax.random.fold_in(rng, i), sigma)
      out, _ = self.run_model(params, state.model_state, (noisy, sigma),
                              train=False)
      out = _enhancement.clip01(out)
      noisy = _enhancement.clip01(noisy)
      key = f"s{s:g}"
      sums[f"psnr_{key}"] = jnp.sum(
          iq.video_mean(iq.psnr_frames(out, clean)) * mask)
      sums[f"psnr_noisy_{key}"] = jnp.sum(
          iq.video_mean(iq.psnr_frames(noisy, clean)) * mask)
      sums[f"ssim_{key}"] = jnp.sum(iq.video_mean(
          iq.ssim_frames(out, clean, **iq.SSIM_GAUSSIAN)) * mask)
      if s == show:
        t = clean.shape[1] // 2
        examples = {"noisy": noisy[:, t], "denoised": out[:, t]}
    return sums, examples

  def finalize_eval(self, sums):
    n = max(float(sums["count"]), 1.0)
    out = {}
    for s in self.config.task.eval_sigmas:
      key = f"s{s:g}"
      for name in ("psnr", "psnr_noisy", "ssim"):
        out[f"{name}_{key}"] = float(sums[f"{name}_{key}"]) / n
      out[f"psnr_gain_{key}"] = out[f"psnr_{key}"] - out[f"psnr_noisy_{key}"]
    for name in ("psnr", "psnr_noisy", "psnr_gain", "ssim"):
      values = [out[f"{name}_s{s:g}"] for s in self.config.task.eval_sigmas]
      out[name] = sum(values) / len(values)
    out["num_videos"] = float(sums["count"])
    return out

  def visualize(self, batch, examples):
    video = batch["video"]
    clean = video[:, video.shape[1] // 2]
    return {"noisy_denoised_clean": _enhancement.side_by_side(
        [examples["noisy"], examples["denoised"], clean], batch["mask"])}

  # -- the enhance command ---------------------------------------------------

  def enhance(self, params, model_state, video, *, sigma: float):
    """Denoises [B, T, H, W, 3] in [0, 1]; sigma on the 0-255 scale."""
    level = jnp.full((video.shape[0],), sigma / 255.0)
    out, _ = self.run_model(params, model_state, (video, level), train=False)
    return _enhancement.clip01(out)

  def enhance_options(self, flags):
    if flags.get("sigma") is None:
      raise ValueError("denoising needs --sigma, the noise level of the "
                       "input on the 0-255 scale (FastDVDnet reads it; "
                       "DnCNN ignores it)")
    return {"sigma": float(flags["sigma"])}

  def simulate(self, video, rng, *, sigma: float):
    return add_noise(video, rng, jnp.full((video.shape[0],), sigma / 255.0))
