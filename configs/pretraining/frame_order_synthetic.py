"""Frame-order (shuffled or not) pretraining of the VideoMAE ViT.

  python launch.py --config configs/pretraining/frame_order_synthetic.py \
      --workdir /tmp/frame_order_pretrain

The light pretext baseline: a binary "are these frames in order?" head on
the pooled features. Pretrains on the training split plus the unlabeled
pool; reports linear-probe and k-NN accuracy of the frozen encoder at the
end. Variants: "arrow" (reversed instead of shuffled; at chance on this
data, see vidjax/tasks/frame_order.py), "tiny" (tests).
"""

import ml_collections

from configs import common


def get_config(arg: str | None = None):
  args = common.parse_arg(arg)
  c = common.base_config()
  c.task = ml_collections.ConfigDict(dict(
      name="frame_order",
      mode="arrow" if "arrow" in args else "shuffle",
      head_hidden=64,
  ))
  c.model.update(name="videomae", variant="tiny")
  c.model.dropout_rate = 0.0
  c.data.synthetic.unlabeled_per_class = 64
  c.data.update(num_frames=8, stride=2, image_size=32,
                train_split="train+unlabeled")
  c.train.update(batch_size=32, num_epochs=0.0, num_steps=1000)
  c.eval.every_steps = 250
  c.eval.representation = common.representation_eval()
  c.optimizer.update(learning_rate=1e-3, warmup_steps=50, weight_decay=0.05)
  c.checkpoint.every_steps = 250
  if "tiny" in args:
    common.apply_tiny(c)
    c.data.synthetic.unlabeled_per_class = 2
    c.eval.representation.probe_steps = 20
  return c
