"""LRCN (per-frame ResNet into an LSTM),
on the synthetic motion data (Donahue et al. 2015).

  python launch.py --config configs/classification/lrcn_synthetic.py \
      --workdir /tmp/lrcn
Variants (after the colon): tiny (seconds, for tests); 18, 50 (model sizes;
the default model is the tiny one, sized for a 2-core CPU).
"""

from configs import common

MODEL_VARIANTS = ('18', '50',)


def get_config(arg: str | None = None):
  return common.synthetic_classification(
      "lrcn", arg, MODEL_VARIANTS,
      pooling="last")  # or "mean" over the LSTM states
