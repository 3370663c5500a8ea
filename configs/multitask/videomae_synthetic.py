"""Multi-task classification on the synthetic videos: action class, shape,
object count and motion axis from one shared VideoMAE ViT.

  python launch.py --config configs/multitask/videomae_synthetic.py \
      --workdir /tmp/multitask

Variants: "uncertainty" (Kendall et al. learned weights, the default),
"fixed", "gradnorm"; "tiny" (tests).
"""

import ml_collections

from configs import common
from vidjax.data import synthetic


def get_config(arg: str | None = None):
  args = common.parse_arg(arg)
  c = common.base_config()
  weighting = next((w for w in ("fixed", "gradnorm") if w in args),
                   "uncertainty")
  c.task = ml_collections.ConfigDict(dict(
      name="multitask",
      heads=dict(label=len(synthetic.CLASSES), shape=len(synthetic.SHAPES),
                 count=3, motion_axis=len(synthetic.MOTION_DIRECTIONS)),
      main="label",
      weighting=weighting,
      weights=dict(label=1.0, shape=1.0, count=1.0, motion_axis=1.0),
      gradnorm_alpha=1.5,
  ))
  c.model.update(name="videomae", variant="tiny")
  c.model.dropout_rate = 0.0
  c.data.update(num_frames=8, stride=2, image_size=32,
                label_keys=("shape", "count", "motion_axis"))
  c.train.update(batch_size=32, num_epochs=0.0, num_steps=1000)
  c.eval.every_steps = 250
  c.optimizer.update(learning_rate=1e-3, warmup_steps=50, weight_decay=0.05)
  c.checkpoint.every_steps = 250
  if "tiny" in args:
    common.apply_tiny(c)
  return c
