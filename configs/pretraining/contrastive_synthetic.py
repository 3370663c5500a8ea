"""Contrastive (InfoNCE) pretraining of the VideoMAE ViT on synthetic videos.

  python launch.py --config configs/pretraining/contrastive_synthetic.py \
      --workdir /tmp/contrastive_pretrain

Two clips per video (independent times, crops and colour jitter), a
projection head, negatives from the whole global batch. Pretrains on the
training split plus the unlabeled pool; reports linear-probe and k-NN
accuracy of the frozen encoder at the end. Variant "tiny" is for tests.
"""

import ml_collections

from configs import common


def get_config(arg: str | None = None):
  args = common.parse_arg(arg)
  c = common.base_config()
  c.task = ml_collections.ConfigDict(dict(
      name="contrastive",
      temperature=0.1,
      projection_hidden=128,
      projection_dim=64,
  ))
  c.model.update(name="videomae", variant="tiny")
  c.model.dropout_rate = 0.0
  c.data.synthetic.unlabeled_per_class = 64
  c.data.update(num_frames=8, stride=2, image_size=32,
                train_split="train+unlabeled", train_views=2, eval_clips=2)
  c.data.augment.update(crop_scale=(0.3, 1.0), color_jitter=0.4)
  c.train.update(batch_size=32, num_epochs=0.0, num_steps=2000)
  c.eval.every_steps = 500
  c.eval.representation = common.representation_eval()
  c.optimizer.update(learning_rate=1e-3, warmup_steps=100, weight_decay=0.05)
  c.checkpoint.every_steps = 500
  if "tiny" in args:
    common.apply_tiny(c)
    c.data.synthetic.unlabeled_per_class = 2
    c.eval.representation.probe_steps = 20
  return c
