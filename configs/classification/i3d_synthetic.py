"""I3D ResNet-50 (an image ResNet inflated in time),
on the synthetic motion data (Carreira & Zisserman 2017).

  python launch.py --config configs/classification/i3d_synthetic.py \
      --workdir /tmp/i3d
Variants (after the colon): tiny (seconds, for tests); 50 (model sizes;
the default model is the tiny one, sized for a 2-core CPU).
"""

from configs import common

MODEL_VARIANTS = ('50',)


def get_config(arg: str | None = None):
  return common.synthetic_classification(
      "i3d", arg, MODEL_VARIANTS, dropout_rate=0.5)
