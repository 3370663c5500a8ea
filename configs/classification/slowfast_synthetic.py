"""SlowFast-R50 (slow and fast pathways, lateral connections),
on the synthetic motion data (Feichtenhofer et al. 2019).

  python launch.py --config configs/classification/slowfast_synthetic.py \
      --workdir /tmp/slowfast
Variants (after the colon): tiny (seconds, for tests); R50 (model sizes;
the default model is the tiny one, sized for a 2-core CPU).
"""

from configs import common

MODEL_VARIANTS = ('R50',)


def get_config(arg: str | None = None):
  return common.synthetic_classification(
      "slowfast", arg, MODEL_VARIANTS, dropout_rate=0.5)
