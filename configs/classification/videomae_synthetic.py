"""VideoMAE's ViT encoder (tubelets, fixed sin-cos positions),
on the synthetic motion data (Tong et al. 2022).

  python launch.py --config configs/classification/videomae_synthetic.py \
      --workdir /tmp/videomae
Variants (after the colon): tiny (seconds, for tests); S, B, L, H (model sizes;
the default model is the tiny one, sized for a 2-core CPU).
"""

from configs import common

MODEL_VARIANTS = ('S', 'B', 'L', 'H',)


def get_config(arg: str | None = None):
  return common.synthetic_classification(
      "videomae", arg, MODEL_VARIANTS,
      remat=False,  # True: recompute activations, for long clips
      learning_rate=1e-3, warmup_steps=100, weight_decay=0.05)
