"""TimeSformer (divided space-time attention),
on the synthetic motion data (Bertasius et al. 2021).

  python launch.py --config configs/classification/timesformer_synthetic.py \
      --workdir /tmp/timesformer
Variants (after the colon): tiny (seconds, for tests); small, B, L (model sizes;
the default model is the tiny one, sized for a 2-core CPU).
"""

from configs import common

MODEL_VARIANTS = ('small', 'B', 'L',)


def get_config(arg: str | None = None):
  return common.synthetic_classification(
      "timesformer", arg, MODEL_VARIANTS,
      remat=False,  # True: recompute activations, for long clips
      learning_rate=1e-3, warmup_steps=100, weight_decay=0.05)
