"""Feed-forward style transfer of the synthetic motion clips, with a
temporal consistency loss (`:no_temporal` trains without it).

  python launch.py --config configs/style_transfer/style_net_synthetic.py \
      --workdir /tmp/style
Variants: no_temporal, waves (the other procedural style), paper (Johnson et
al.'s widths), tiny (tests).

config.task (see vidjax/tasks/style_transfer.py):
  style: "mosaic" or "waves", the procedural style image; style_size its side.
  feature_widths: the fixed random VGG-style feature network's stage widths;
    feature_seed its (and the style image's) seed.
  content_layer: the stage whose features the content loss compares.
  content_weight, style_weight, tv_weight, temporal_weight: loss weights
    (temporal_weight 0 disables the temporal loss).
  max_shift, max_rotation_deg: the known random motion of the temporal loss
    and of the evaluation's warping error.
"""

import ml_collections

from configs import common


def get_config(arg: str | None = None):
  args = common.parse_arg(arg)
  c = common.base_config()
  c.task = ml_collections.ConfigDict(dict(
      name="style_transfer", style="mosaic", style_size=64,
      feature_widths=(32, 64, 128), feature_seed=0, content_layer=1,
      content_weight=1.0, style_weight=4.0, tv_weight=0.02,
      temporal_weight=0.0 if "no_temporal" in args else 20.0,
      max_shift=3.0, max_rotation_deg=4.0))
  c.model.update(name="style_net", variant="small")
  c.data.update(num_frames=2, stride=4, image_size=48,
                mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
  c.data.augment.update(crop_scale=(0.3, 1.0), color_jitter=0.0,
                        horizontal_flip=True)
  c.train.update(batch_size=8, num_epochs=0.0, num_steps=400)
  c.eval.update(batch_size=16, every_steps=200)
  c.optimizer.update(learning_rate=2e-3, warmup_steps=20, weight_decay=0.0)
  c.checkpoint.every_steps = 200
  if "waves" in args:
    c.task.style = "waves"
  if "paper" in args:
    c.model.variant = "paper"
  if "tiny" in args:
    common.apply_tiny(c)
    c.model.variant = "tiny"
    c.data.num_frames = 2
    c.task.update(feature_widths=(8, 8, 8), style_size=16)
  return c
