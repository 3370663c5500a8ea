"""Video GAN on the synthetic motion clips (class-conditional, hinge + R1).

  python launch.py --config configs/generation/gan_synthetic.py \
      --workdir /tmp/gan --config.task.feature_network=/tmp/fvd_features
Variants: tiny (tests); steps=N; features=DIR (the FVD feature network).
"""

import ml_collections

from configs import common
from configs import generation


def get_config(arg: str | None = None):
  args = common.parse_arg(arg)
  c = common.base_config()
  c.task = ml_collections.ConfigDict(dict(
      name="gan", loss="hinge", r1_gamma=1.0, conditional=True,
      frame_disc_weight=1.0, disc_learning_rate=4e-4,
      feature_network=args.get("features", "")))
  c.model.update(name="video_gan", variant="small")
  generation.apply_generation_data(c)
  c.data.update(mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
  c.train.update(batch_size=32, num_epochs=0.0,
                 num_steps=int(args.get("steps", 1000)), ema_decay=0.999)
  c.eval.update(batch_size=32, every_steps=0)
  c.optimizer.update(learning_rate=1e-4, warmup_steps=0, schedule="constant",
                     b1=0.0, b2=0.99, weight_decay=0.0, grad_clip_norm=0.0)
  c.checkpoint.update(every_steps=500, keep_best=False)
  if "tiny" in args:
    common.apply_tiny(c)
    c.model.variant = "tiny"
  return c
