"""C3D (eight 3x3x3 convolutions),
on the synthetic motion data (Tran et al. 2015).

  python launch.py --config configs/classification/c3d_synthetic.py \
      --workdir /tmp/c3d
Variants (after the colon): tiny (seconds, for tests); small, paper (model sizes;
the default model is the tiny one, sized for a 2-core CPU).
"""

from configs import common

MODEL_VARIANTS = ('small', 'paper',)


def get_config(arg: str | None = None):
  return common.synthetic_classification(
      "c3d", arg, MODEL_VARIANTS, dropout_rate=0.5)
