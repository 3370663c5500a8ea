"""R(2+1)D on the synthetic motion dataset.

  python launch.py --config configs/classification/r2plus1d_synthetic.py \
      --workdir /tmp/r2plus1d
Variants (after the colon): tiny (seconds, for tests), 18 (the paper's
R(2+1)D-18 width and depth).
"""

from configs import common


def get_config(arg: str | None = None):
  args = common.parse_arg(arg)
  c = common.base_config()
  c.task.label_smoothing = 0.1
  c.model.update(name="r2plus1d", variant=args.get("variant", "tiny"))
  c.model.dropout_rate = 0.0
  c.data.update(num_frames=8, stride=2, image_size=32)
  c.train.update(batch_size=32, num_epochs=0.0, num_steps=500)
  c.eval.every_steps = 125
  c.optimizer.update(learning_rate=3e-3, warmup_steps=40, weight_decay=5e-4)
  c.checkpoint.every_steps = 125
  if "18" in args:
    c.model.variant = "18"
  if "tiny" in args:
    common.apply_tiny(c)
  return c
