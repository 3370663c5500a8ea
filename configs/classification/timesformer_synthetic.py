"""TimeSformer (divided space-time attention),
on the synthetic motion data (Bertasius et al. 2021).

  python launch.py --config configs/classification/timesformer_synthetic.py \
      --workdir /tmp/timesformer
Variants (after the colon): tiny (seconds, for tests); small, B, L (model sizes;
the default model is the tiny one, sized for a 2-core CPU).
"""

from configs import common

MODEL_VARIANTS = ('small', 'B', 'L',)


def get_config(arg: str | None = None):
  args = common.parse_arg(arg)
  c = common.base_config()
  c.task.label_smoothing = 0.1
  c.model.update(name="timesformer", variant="tiny")
  c.model.remat = False  # True: recompute activations, for long clips
  c.model.dropout_rate = 0.0
  c.data.update(num_frames=8, stride=2, image_size=32)
  c.train.update(batch_size=32, num_epochs=0.0, num_steps=500)
  c.eval.every_steps = 125
  c.optimizer.update(learning_rate=1e-3, warmup_steps=100, weight_decay=0.05)
  c.checkpoint.every_steps = 125
  for variant in MODEL_VARIANTS:
    if variant in args:
      c.model.variant = variant
  if "tiny" in args:
    common.apply_tiny(c)
  return c
