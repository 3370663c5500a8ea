"""Image pretraining of the VideoMAE ViT on single frames, for inflation.

  python launch.py --config configs/pretraining/image_synthetic.py \
      --workdir /tmp/image_pretrain

The stand-in for an ImageNet-pretrained network, which cannot be downloaded
here: the same ViT (tiny) with 1 x 4 x 4 patches, trained on single frames
of the synthetic videos (training split + unlabeled pool) to classify what
one frame shows, the object's shape and the number of objects (the
generator's own labels; the action class is left out, since no single frame
shows it). A fine-tuning run with `init_from` set to this workdir inflates
the patch kernel to the video model's 2 x 4 x 4 tubelets (repeated over
time, divided by 2; vidjax.train.pretrained) and loads the transformer by
name; positions are fixed sin-cos, so nothing else changes. Variant: "tiny"
(tests).
"""

import ml_collections

from configs import common
from vidjax.data import synthetic


def get_config(arg: str | None = None):
  args = common.parse_arg(arg)
  c = common.base_config()
  c.task = ml_collections.ConfigDict(dict(
      name="multitask",
      heads=dict(shape=len(synthetic.SHAPES), count=3),
      main="shape",
      weighting="fixed",
      weights=dict(shape=1.0, count=1.0),
      gradnorm_alpha=1.5,
  ))
  c.model.update(name="videomae", variant="tiny", patch_size=(1, 4, 4))
  c.model.dropout_rate = 0.0
  c.data.synthetic.unlabeled_per_class = 64
  c.data.update(num_frames=1, stride=1, image_size=32,
                train_split="train+unlabeled", label_keys=("shape", "count"))
  c.train.update(batch_size=32, num_epochs=0.0, num_steps=1000)
  c.eval.every_steps = 250
  c.optimizer.update(learning_rate=1e-3, warmup_steps=50, weight_decay=0.05)
  c.checkpoint.every_steps = 250
  if "tiny" in args:
    common.apply_tiny(c)
    c.data.update(num_frames=1, stride=1)
    c.data.synthetic.unlabeled_per_class = 2
  return c
