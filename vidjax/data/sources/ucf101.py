"""UCF101 layout: class folders plus classInd.txt and train/test lists.

The official lists look like::

    classInd.txt       1 ApplyEyeMakeup
    trainlist01.txt    ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1
    testlist01.txt     ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi

Labels in the lists are 1-based; test lines carry none, so the class comes
from the folder part of the path. `config.data.root` holds the videos and
`config.data.annotations_dir` the lists (default: the same folder), as in the
release's `UCF-101/` and `ucfTrainTestlist/`.
"""

from __future__ import annotations

from pathlib import Path

import ml_collections

from vidjax.data.sources import VideoSource, check_root

SPLITS = ("train", "test")


def _read_lines(path: Path) -> list[str]:
  if not path.is_file():
    raise FileNotFoundError(f"{path}: annotation file not found")
  return [line.strip() for line in path.read_text().splitlines()
          if line.strip()]


def read_class_index(path: Path) -> tuple[str, ...]:
  """classInd.txt -> class names ordered by their 1-based index."""
  names = {}
  for n, line in enumerate(_read_lines(path), start=1):
    parts = line.split()
    if len(parts) != 2 or not parts[0].isdigit():
      raise ValueError(f"{path}:{n}: expected '<index> <ClassName>', "
                       f"got {line!r}")
    names[int(parts[0])] = parts[1]
  if sorted(names) != list(range(1, len(names) + 1)):
    raise ValueError(f"{path}: class indices must be 1..{len(names)}")
  return tuple(names[i] for i in range(1, len(names) + 1))


def load(root: str | Path, split: str, fold: int = 1,
         annotations_dir: str | Path | None = None) -> VideoSource:
  """Reads split `split` ("train" or "test") of fold `fold` (1, 2 or 3)."""
  root = check_root(root)
  ann = Path(annotations_dir).expanduser() if annotations_dir else root
  if split not in SPLITS:
    raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
  classes = read_class_index(ann / "classInd.txt")
  by_name = {c: i for i, c in enumerate(classes)}
  list_path = ann / f"{split}list{fold:02d}.txt"
  records = []
  for n, line in enumerate(_read_lines(list_path), start=1):
    parts = line.split()
    rel = parts[0]
    folder = rel.split("/")[0]
    if folder not in by_name:
      raise ValueError(f"{list_path}:{n}: class folder {folder!r} is not in "
                       f"{ann / 'classInd.txt'}")
    label = by_name[folder]
    if len(parts) > 1 and int(parts[1]) - 1 != label:
      raise ValueError(f"{list_path}:{n}: label {parts[1]} disagrees with "
                       f"folder {folder!r} (class {label + 1})")
    records.append(dict(path=str(root / rel), label=label,
                        video_id=len(records)))
  if not records:
    raise ValueError(f"{list_path}: no videos listed")
  return VideoSource(records=tuple(records), class_names=classes,
                     root=str(root))


def make_source(data_config: ml_collections.ConfigDict,
                split: str) -> VideoSource:
  return load(data_config.root, split, data_config.get("fold", 1),
              data_config.get("annotations_dir") or None)
