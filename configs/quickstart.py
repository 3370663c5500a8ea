"""The main job: synthetic motion videos -> R(2+1)D -> >= 90% test top-1.

  python launch.py --config configs/quickstart.py --workdir /tmp/vidjax_quickstart

Generates the motion dataset on first use (H.264 videos in the UCF101
layout), reads it back through the Grain/PyAV decoding pipeline, trains the
small R(2+1)D on every device, checkpoints, evaluates and writes results.json,
curves.png and a confusion matrix to the workdir. About 10 minutes on a
2-core CPU (see README). Variant "tiny" runs two steps, for tests.
"""

from configs import common
from configs.classification import r2plus1d_synthetic


def get_config(arg: str | None = None):
  c = r2plus1d_synthetic.get_config()
  if "tiny" in common.parse_arg(arg):
    common.apply_tiny(c)
  return c
