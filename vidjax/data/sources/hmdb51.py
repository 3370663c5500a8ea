"""HMDB51 layout: class folders plus the official three-way split files.

The release's `testTrainMulti_7030_splits/` holds one file per class and
fold, `<class>_test_split<N>.txt`, each line a video name and a flag::

    brush_hair_test_split1.txt    April_09_brush_hair_u_nm_np1_ba_goo_0.avi 1

1 = training, 2 = testing, 0 = unused in that fold. The videos live in
`<root>/<class>/<video>.avi`. Class indices follow the sorted class names
(the convention of the reference implementations). `config.data.root` holds
the videos and `config.data.annotations_dir` the split files (default: the
same folder); `config.data.fold` picks the split (1, 2 or 3).
"""

from __future__ import annotations

import re
from pathlib import Path

import ml_collections

from vidjax.data.sources import VideoSource, check_root

SPLITS = {"train": "1", "test": "2"}
_SPLIT_FILE = re.compile(r"^(?P<cls>.+)_test_split(?P<fold>\d+)\.txt$")


def load(root: str | Path, split: str, fold: int = 1,
         annotations_dir: str | Path | None = None) -> VideoSource:
  """Reads split `split` ("train" or "test") of fold `fold` (1, 2 or 3)."""
  root = check_root(root)
  ann = Path(annotations_dir).expanduser() if annotations_dir else root
  if split not in SPLITS:
    raise ValueError(f"split must be one of {tuple(SPLITS)}, got {split!r}")
  files = {}
  for p in ann.glob("*_test_split*.txt"):
    m = _SPLIT_FILE.match(p.name)
    if m and int(m.group("fold")) == fold:
      files[m.group("cls")] = p
  if not files:
    raise FileNotFoundError(
        f"{ann}: no '<class>_test_split{fold}.txt' files "
        "(config.data.annotations_dir)")
  classes = tuple(sorted(files))
  records = []
  for label, cls in enumerate(classes):
    path = files[cls]
    for n, line in enumerate(path.read_text().splitlines(), start=1):
      parts = line.split()
      if not parts:
        continue
      if len(parts) != 2 or parts[1] not in ("0", "1", "2"):
        raise ValueError(f"{path}:{n}: expected '<video>.avi <0|1|2>', "
                         f"got {line!r}")
      if parts[1] == SPLITS[split]:
        records.append(dict(path=str(root / cls / parts[0]), label=label,
                            video_id=len(records)))
  if not records:
    raise ValueError(f"{ann}: no videos flagged {SPLITS[split]} ({split}) "
                     f"in fold {fold}")
  return VideoSource(records=tuple(records), class_names=classes,
                     root=str(root))


def make_source(data_config: ml_collections.ConfigDict,
                split: str) -> VideoSource:
  return load(data_config.root, split, data_config.get("fold", 1),
              data_config.get("annotations_dir") or None)
