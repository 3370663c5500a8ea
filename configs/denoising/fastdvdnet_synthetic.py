"""FastDVDnet denoising of the synthetic motion clips (non-blind: the noise
level is an input).

  python launch.py --config configs/denoising/fastdvdnet_synthetic.py \
      --workdir /tmp/fastdvdnet
Variants: tiny (tests), paper (widths 32/64/128 as in the paper),
zero_init (each block's output convolution starts at zero: the untrained
model is the identity).

Clips of 5 frames: the window FastDVDnet denoises the centre of (the other
frames are denoised with mirrored context). config.task as in
dncnn_synthetic.py.
"""

from configs import common
from configs.denoising import dncnn_synthetic


def get_config(arg: str | None = None):
  args = common.parse_arg(arg)
  c = dncnn_synthetic.get_config("zero_init" if "zero_init" in args else None)
  c.model.update(name="fastdvdnet", variant="small")
  c.data.update(num_frames=5, stride=1, image_size=48)
  c.train.update(batch_size=16)
  if "paper" in args:
    c.model.variant = "paper"
  if "tiny" in args:
    common.apply_tiny(c)
    c.model.variant = "tiny"
    c.data.num_frames = 5
    c.task.eval_sigmas = (10.0, 50.0)
  return c
