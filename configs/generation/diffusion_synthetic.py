"""Video diffusion on the synthetic motion clips (factorized 3D U-Net).

  python launch.py --config configs/generation/diffusion_synthetic.py \
      --workdir /tmp/diffusion --config.task.feature_network=/tmp/fvd_features
Variants: tiny (tests); text (prompt-conditioned instead of class);
eps (epsilon instead of v-prediction); steps=N; features=DIR.
"""

import ml_collections

from configs import common
from configs import generation


def get_config(arg: str | None = None):
  args = common.parse_arg(arg)
  c = common.base_config()
  c.task = ml_collections.ConfigDict(dict(
      name="diffusion", prediction="eps" if "eps" in args else "v",
      num_timesteps=1000, condition="text" if "text" in args else "class",
      cond_drop_prob=0.1, guidance_scale=2.0, sample_steps=25, eta=0.0,
      feature_network=args.get("features", "")))
  c.model.update(name="video_unet", variant="small")
  generation.apply_generation_data(c)
  c.data.update(mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
  c.train.update(batch_size=32, num_epochs=0.0,
                 num_steps=int(args.get("steps", 1000)), ema_decay=0.999)
  c.eval.update(batch_size=32, every_steps=0)
  c.optimizer.update(learning_rate=1e-3, warmup_steps=50, weight_decay=0.0)
  c.checkpoint.update(every_steps=500, keep_best=False)
  if "tiny" in args:
    common.apply_tiny(c)
    c.model.variant = "tiny"
    c.task.sample_steps = 2
  return c
