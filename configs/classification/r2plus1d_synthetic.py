"""R(2+1)D on the synthetic motion dataset.

  python launch.py --config configs/classification/r2plus1d_synthetic.py \
      --workdir /tmp/r2plus1d
Variants (after the colon): tiny (seconds, for tests), 18 (the paper's
R(2+1)D-18 width and depth).
"""

from configs import common


def get_config(arg: str | None = None):
  # "variant=NAME" picks any size of vidjax/models/r2plus1d.py; "18" wins.
  return common.synthetic_classification(
      "r2plus1d", arg, ("18",),
      variant=common.parse_arg(arg).get("variant", "tiny"))
