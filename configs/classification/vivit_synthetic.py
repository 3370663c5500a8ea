"""ViViT (factorised encoder, the paper's model 2) on the synthetic motion data.

  python launch.py --config configs/classification/vivit_synthetic.py \
      --workdir /tmp/vivit
Variants: tiny (tests), joint (model 1: joint space-time attention), B.
"""

from configs import common


def get_config(arg: str | None = None):
  args = common.parse_arg(arg)
  c = common.base_config()
  c.task.label_smoothing = 0.1
  c.model.update(name="vivit", variant="tiny")
  c.model.attention = "joint" if "joint" in args else "factorized_encoder"
  c.model.remat = False
  c.model.remat_policy = "nothing_saveable"  # see models/layers.py
  c.model.dropout_rate = 0.0
  c.data.update(num_frames=8, stride=2, image_size=32)
  c.train.update(batch_size=32, num_epochs=0.0, num_steps=1000)
  c.eval.every_steps = 250
  c.optimizer.update(learning_rate=1e-3, warmup_steps=100, weight_decay=0.05)
  c.checkpoint.every_steps = 250
  if "B" in args:
    c.model.variant = "B"
  if "tiny" in args:
    common.apply_tiny(c)
  return c
