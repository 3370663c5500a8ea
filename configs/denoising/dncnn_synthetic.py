"""DnCNN denoising of the synthetic motion clips (Gaussian noise, blind).

  python launch.py --config configs/denoising/dncnn_synthetic.py \
      --workdir /tmp/dncnn
Variants: tiny (tests), paper (17 layers, 64 features), zero_init (the
last convolution starts at zero: the untrained model is the identity).

config.task (see vidjax/tasks/denoising.py):
  sigma_range: training sigmas (0-255 scale), one drawn per clip.
  eval_sigmas: evaluation sigmas, reported one by one (DAVIS protocol).
  loss: "l2" or "l1".
"""

import ml_collections

from configs import common

DAVIS_SIGMAS = (10.0, 20.0, 30.0, 40.0, 50.0)


def get_config(arg: str | None = None):
  args = common.parse_arg(arg)
  c = common.base_config()
  c.task = ml_collections.ConfigDict(dict(
      name="denoising", sigma_range=(5.0, 55.0), eval_sigmas=DAVIS_SIGMAS,
      loss="l2"))
  c.model.update(name="dncnn", variant="small",
                 zero_init_last="zero_init" in args)
  c.data.update(num_frames=4, stride=1, image_size=48,
                mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
  c.data.augment.update(crop_scale=(0.25, 1.0), color_jitter=0.0,
                        horizontal_flip=True)
  c.train.update(batch_size=16, num_epochs=0.0, num_steps=600)
  c.eval.update(batch_size=16, every_steps=200)
  c.optimizer.update(learning_rate=1e-3, warmup_steps=20, weight_decay=0.0)
  c.checkpoint.every_steps = 200
  if "paper" in args:
    c.model.variant = "paper"
  if "tiny" in args:
    common.apply_tiny(c)
    c.model.variant = "tiny"
    c.task.eval_sigmas = (10.0, 50.0)
  return c
