"""ESPCN super-resolution (x4 by default, `:x2` for x2) of the synthetic
motion clips.

  python launch.py --config configs/super_resolution/espcn_synthetic.py:x2 \
      --workdir /tmp/espcn_x2
Variants (comma-separated): x2 / x4, residual (add the bicubic upsampling to
the output), tiny (tests).

config.task (see vidjax/tasks/super_resolution.py):
  scale: 2 or 4; the model's scale follows it.
  loss: "l1", "charbonnier" or "l2".
  crop_border: pixels ignored at each border by the metrics (-1: scale).
Frames are used at their stored size (no resized crops), so the only
resampling is the documented degradation.
"""

import ml_collections

from configs import common


def sr_config(model: str, variant: str, arg: str | None):
  """The shared super-resolution set-up; `arg` picks x2/x4 and tiny."""
  args = common.parse_arg(arg)
  c = common.base_config()
  scale = 2 if "x2" in args else 4
  c.task = ml_collections.ConfigDict(dict(
      name="super_resolution", scale=scale, loss="l1", crop_border=-1))
  c.model.update(name=model, variant=variant)
  c.data.update(num_frames=4, stride=1, image_size=48,
                mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
  c.data.augment.update(random_resized_crop=False, color_jitter=0.0,
                        horizontal_flip=True)
  c.train.update(batch_size=16, num_epochs=0.0, num_steps=600)
  c.eval.update(batch_size=16, every_steps=200)
  c.optimizer.update(learning_rate=1e-3, warmup_steps=20, weight_decay=0.0)
  c.checkpoint.every_steps = 200
  if "tiny" in args:
    common.apply_tiny(c)
    c.model.variant = "tiny"
    c.task.crop_border = 0  # 16-pixel frames: keep all for the 11x11 SSIM
  return c


def get_config(arg: str | None = None):
  c = sr_config("espcn", "paper", arg)
  c.model.residual = "residual" in common.parse_arg(arg)
  if "tiny" in common.parse_arg(arg):
    c.model.variant = "tiny"
  return c
