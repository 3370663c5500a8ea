"""TSN (2D ResNet per frame, average consensus),
on the synthetic motion data (Wang et al. 2016).

  python launch.py --config configs/classification/tsn_synthetic.py \
      --workdir /tmp/tsn
Variants (after the colon): tiny (seconds, for tests); 18, 50 (model sizes;
the default model is the tiny one, sized for a 2-core CPU).
"""

from configs import common

MODEL_VARIANTS = ('18', '50',)


def get_config(arg: str | None = None):
  return common.synthetic_classification(
      "tsn", arg, MODEL_VARIANTS)
