"""BasicVSR super-resolution (x4 by default, `:x2` for x2) of the synthetic
motion clips: bidirectional recurrence with learned flow warping.

  python launch.py --config configs/super_resolution/basicvsr_synthetic.py \
      --workdir /tmp/basicvsr_x4
Variants: x2 / x4, paper (30 blocks of 64 features, 6 flow levels), tiny,
bicubic (the skip is bicubic instead of the paper's bilinear upsampling and
the last convolution starts at zero: the untrained model is bicubic).
Clips of 8 frames so propagation has something to carry; Charbonnier loss
as in the paper. config.task as in espcn_synthetic.py.
"""

from configs import common
from configs.super_resolution import espcn_synthetic


def get_config(arg: str | None = None):
  c = espcn_synthetic.sr_config("basicvsr", "small", arg)
  args = common.parse_arg(arg)
  c.task.loss = "charbonnier"
  c.model.skip = "bicubic" if "bicubic" in args else "bilinear"
  c.model.zero_init_last = "bicubic" in args
  if "tiny" in args:
    c.model.variant = "tiny"
  else:
    c.data.num_frames = 8
    c.train.batch_size = 8
    c.eval.batch_size = 8
  if "paper" in args:
    c.model.variant = "paper"
  return c
