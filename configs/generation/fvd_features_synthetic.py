"""The FVD feature network: an R(2+1)D classifier of the synthetic clips.

  python launch.py --config configs/generation/fvd_features_synthetic.py \
      --workdir /tmp/fvd_features
Its workdir is config.task.feature_network of the generation configs. The
I3D network of the original FVD cannot be downloaded here; this classifier,
trained on the generators' clips at their resolution, stands in for it, so
the numbers compare models evaluated with the same network, not with
published FVDs.
"""

from configs import common
from configs import generation


def get_config(arg: str | None = None):
  args = common.parse_arg(arg)
  c = common.base_config()
  c.task.label_smoothing = 0.1
  c.model.update(name="r2plus1d", variant="tiny", dropout_rate=0.0)
  generation.apply_generation_data(c)
  # Unlike the generators, the classifier needs random crops: on whole
  # 16 px frames it memorises the training clips' appearance (train top-1
  # 0.98, test 0.15 after 300 steps) instead of learning their motion.
  c.data.augment.update(random_resized_crop=True, crop_scale=(0.4, 1.0))
  c.train.update(batch_size=32, num_epochs=0.0,
                 num_steps=int(args.get("steps", 400)))
  c.eval.every_steps = 0
  c.optimizer.update(learning_rate=3e-3, warmup_steps=20, weight_decay=5e-4)
  c.checkpoint.every_steps = 200
  if "tiny" in args:
    common.apply_tiny(c)
  return c
