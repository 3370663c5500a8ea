"""VideoMAE pretraining (tube masking, 90%) on the synthetic motion videos.

  python launch.py --config configs/pretraining/videomae_synthetic.py \
      --workdir /tmp/videomae_pretrain

Pretrains on the training split plus the unlabeled pool (labels unused),
reports the masked-pixel loss on the test split and, at the end, a linear
probe and k-NN accuracy of the frozen encoder (results.json,
"representation"). Fine-tune with a videomae classification config whose
`init_from` is this workdir. Variant "tiny" runs two steps, for tests.
"""

import ml_collections

from configs import common


def get_config(arg: str | None = None):
  args = common.parse_arg(arg)
  c = common.base_config()
  c.task = ml_collections.ConfigDict(dict(
      name="masked_video",
      mask_ratio=0.9,  # fraction of tubes hidden
      norm_pix_loss=True,  # per-patch normalized pixel targets
  ))
  c.model.update(name="videomae_pretraining", variant="tiny")
  c.model.dropout_rate = 0.0
  c.data.synthetic.unlabeled_per_class = 64
  c.data.update(num_frames=8, stride=2, image_size=32,
                train_split="train+unlabeled")
  c.data.augment.crop_scale = (0.5, 1.0)
  c.train.update(batch_size=32, num_epochs=0.0, num_steps=2000)
  c.eval.every_steps = 500
  c.eval.representation = common.representation_eval()
  c.optimizer.update(learning_rate=1.5e-3, warmup_steps=100,
                     weight_decay=0.05, b2=0.95)
  c.checkpoint.every_steps = 500
  if "tiny" in args:
    common.apply_tiny(c)
    c.data.synthetic.unlabeled_per_class = 2
    c.eval.representation.probe_steps = 20
  return c
