"""EDSR super-resolution (x4 by default, `:x2` for x2) of the synthetic
motion clips, per frame.

  python launch.py --config configs/super_resolution/edsr_synthetic.py:x2 \
      --workdir /tmp/edsr_x2
Variants: x2 / x4, baseline (16 blocks of 64 features), residual (add the
bicubic upsampling to the output; the untrained model is bicubic), tiny
(tests).
config.task as in espcn_synthetic.py.
"""

from configs import common
from configs.super_resolution import espcn_synthetic


def get_config(arg: str | None = None):
  c = espcn_synthetic.sr_config("edsr", "small", arg)
  args = common.parse_arg(arg)
  c.model.residual = "residual" in args
  if "baseline" in args:
    c.model.variant = "baseline"
  if "tiny" in args:
    c.model.variant = "tiny"
  return c
