"""Video super-resolution x2 / x4 from a fixed, documented degradation.

config.task:
  scale: 2 or 4 (the model's `scale` is set from it).
  loss: "l1" (EDSR), "charbonnier" (BasicVSR, eps 1e-3) or "l2".
  crop_border: pixels removed at each border before metrics (-1: the scale,
    the usual convention).

The low-resolution input is made on device from the high-resolution clip
(`batch["video"]`, [B, T, H, W, 3] in [0, 1]) by
`vidjax.ops.resize.degrade`: bicubic downsampling with antialias=True,
clipped and rounded to 8 bits. Training, evaluation and the `enhance`
command all use it, and H and W must be multiples of the scale. Use
`config.data.augment.random_resized_crop = False` with frames stored at
`image_size` so training crops are not resampled before the degradation.

Reports per-video means over frames of PSNR and SSIM (Wang et al.) on RGB
and on Y (BT.601 luma) for the model (`psnr`, `psnr_y`, `ssim`, `ssim_y`)
and for bicubic upsampling of the same input (`*_bicubic`; JAX's bicubic,
Keys a = -0.5), and `psnr_gain` / `psnr_y_gain` over bicubic.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from vidjax.metrics import image_quality as iq
from vidjax.ops import resize
from vidjax.tasks import _enhancement

LOSSES = ("l1", "charbonnier", "l2")
SCALES = (2, 3, 4)


class Task(_enhancement.EnhancementTask):
  best_metric = "psnr"
  best_mode = "max"

  def __init__(self, config, info, num_train_steps):
    _enhancement.require_unit_range(config, "super_resolution")
    _enhancement.check_choice(config.task.loss, LOSSES, "config.task.loss")
    _enhancement.check_choice(config.task.scale, SCALES, "config.task.scale")
    if config.data.image_size % config.task.scale:
      raise ValueError(f"config.data.image_size={config.data.image_size} is "
                       f"not a multiple of config.task.scale="
                       f"{config.task.scale}")
    super().__init__(config, info, num_train_steps)
    self.output_scale = config.task.scale

  def model_kwargs(self):
    return {"scale": self.config.task.scale}

  @property
  def crop(self) -> int:
    c = self.config.task.crop_border
    return self.config.task.scale if c < 0 else c

  def degrade(self, hr: jax.Array) -> jax.Array:
    return resize.degrade(hr, self.config.task.scale)

  def model_inputs(self, video):
    return (self.degrade(video),)

  def loss(self, params, model_state, batch, rng):
    hr = batch["video"]
    out, model_state = self.run_model(params, model_state,
                                      (self.degrade(hr),), train=True,
                                      rng=rng)
    err = out.astype(jnp.float32) - hr
    kind = self.config.task.loss
    if kind == "l1":
      loss = jnp.mean(jnp.abs(err))
    elif kind == "charbonnier":
      loss = jnp.mean(jnp.sqrt(err * err + 1e-6))
    else:
      loss = jnp.mean(err * err)
    psnr = iq.video_mean(iq.psnr_frames(_enhancement.clip01(out), hr)).mean()
    return loss, ({"psnr": psnr}, model_state)

  def eval_step(self, state, batch, rng):
    del rng
    hr, mask = batch["video"], batch["mask"]
    lr = self.degrade(hr)
    out, _ = self.run_model(self.eval_params(state), state.model_state,
                            (lr,), train=False)
    out = _enhancement.clip01(out)
    bicubic = _enhancement.clip01(resize.upsample(lr, self.config.task.scale))
    sums = {"count": jnp.sum(mask)}
    for suffix, pred in (("", out), ("_bicubic", bicubic)):
      for name, value in iq.quality_report(pred, hr, self.crop).items():
        sums[name + suffix] = jnp.sum(value * mask)
    t = hr.shape[1] // 2
    return sums, {"lr": lr[:, t], "bicubic": bicubic[:, t],
                  "output": out[:, t]}

  def finalize_eval(self, sums):
    n = max(float(sums["count"]), 1.0)
    out = {k: float(v) / n for k, v in sums.items() if k != "count"}
    out["psnr_gain"] = out["psnr"] - out["psnr_bicubic"]
    out["psnr_y_gain"] = out["psnr_y"] - out["psnr_y_bicubic"]
    out["num_videos"] = float(sums["count"])
    return out

  def visualize(self, batch, examples):
    video = batch["video"]
    hr = video[:, video.shape[1] // 2]
    return {"lr_bicubic_output_hr": _enhancement.side_by_side(
        [examples["lr"], examples["bicubic"], examples["output"], hr],
        batch["mask"])}

  def enhance(self, params, model_state, video):
    """Upscales [B, T, h, w, 3] in [0, 1] by the scale."""
    out, _ = self.run_model(params, model_state, (video,), train=False)
    return _enhancement.clip01(out)

  def simulate(self, video, rng):
    del rng
    return self.degrade(video)
