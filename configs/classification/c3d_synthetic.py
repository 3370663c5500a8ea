"""C3D (eight 3x3x3 convolutions),
on the synthetic motion data (Tran et al. 2015).

  python launch.py --config configs/classification/c3d_synthetic.py \
      --workdir /tmp/c3d
Variants (after the colon): tiny (seconds, for tests); small, paper (model sizes;
the default model is the tiny one, sized for a 2-core CPU); bn (a BatchNorm
after each convolution, the C3D-BN of later re-implementations).
"""

from configs import common

MODEL_VARIANTS = ('small', 'paper',)


def get_config(arg: str | None = None):
  # bn: the paper's network does not train from scratch at this budget on
  # the 32-px clips (README, model zoo); with BatchNorm it does.
  bn = "bn" in common.parse_arg(arg)
  return common.synthetic_classification(
      "c3d", arg, MODEL_VARIANTS, dropout_rate=0.5,
      norm="batch" if bn else "")  # "": the paper's C3D, no normalization
