"""TSN (2D ResNet per frame, average consensus),
on the synthetic motion data (Wang et al. 2016).

  python launch.py --config configs/classification/tsn_synthetic.py \
      --workdir /tmp/tsn
Variants (after the colon): tiny (seconds, for tests); 18, 50 (model sizes;
the default model is the tiny one, sized for a 2-core CPU).
"""

from configs import common

MODEL_VARIANTS = ('18', '50',)


def get_config(arg: str | None = None):
  args = common.parse_arg(arg)
  c = common.base_config()
  c.task.label_smoothing = 0.1
  c.model.update(name="tsn", variant="tiny")
  c.model.dropout_rate = 0.0
  c.data.update(num_frames=8, stride=2, image_size=32)
  c.train.update(batch_size=32, num_epochs=0.0, num_steps=500)
  c.eval.every_steps = 125
  c.optimizer.update(learning_rate=3e-3, warmup_steps=40, weight_decay=5e-4)
  c.checkpoint.every_steps = 125
  for variant in MODEL_VARIANTS:
    if variant in args:
      c.model.variant = variant
  if "tiny" in args:
    common.apply_tiny(c)
  return c
