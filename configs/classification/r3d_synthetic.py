"""R3D-18 / MC3-18 (3D ResNets, torchvision layout),
on the synthetic motion data (Tran et al. 2018).

  python launch.py --config configs/classification/r3d_synthetic.py \
      --workdir /tmp/r3d
Variants (after the colon): tiny (seconds, for tests); 18, mc3_18, 34 (model sizes;
the default model is the tiny one, sized for a 2-core CPU).
"""

from configs import common

MODEL_VARIANTS = ('18', 'mc3_18', '34',)


def get_config(arg: str | None = None):
  return common.synthetic_classification(
      "r3d", arg, MODEL_VARIANTS)
