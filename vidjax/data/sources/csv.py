"""Any collection described by CSV files: `path,label[,start,end]`.

`<annotations_dir>/<split>.csv` (e.g. `train.csv`, `test.csv`), one video
per line, with an optional header line `path,label,start,end`::

    videos/cat_01.mp4,cat
    videos/dog_07.mp4,dog,12.5,17.5

`path` is relative to `config.data.root` (or absolute). `label` is a class
name or a 0-based index; `start`/`end` (seconds, optional) restrict clips to
part of the video. Class names come from `classes.txt` in the annotation
folder (one per line, in index order) if present, else from the sorted names
in `train.csv` (or "0".."K-1" for integer labels). `label` -1 or empty means
unlabelled.
"""

from __future__ import annotations

import csv
from pathlib import Path

import ml_collections

from vidjax.data.sources import VideoSource, check_root

COLUMNS = ("path", "label", "start", "end")


def read_rows(path: Path) -> list[tuple[int, list[str]]]:
  """(line number, fields) of every non-empty line, header removed."""
  if not path.is_file():
    raise FileNotFoundError(f"{path}: annotation file not found")
  with open(path, newline="") as f:
    rows = [(n, [x.strip() for x in row])
            for n, row in enumerate(csv.reader(f), start=1)
            if row and any(x.strip() for x in row)]
  if rows and rows[0][1][0].lower() == "path":
    rows = rows[1:]
  for n, row in rows:
    if not 2 <= len(row) <= 4 or len(row) == 3:
      raise ValueError(f"{path}:{n}: expected path,label or "
                       f"path,label,start,end; got {row}")
  return rows


def _is_int(s: str) -> bool:
  return s.lstrip("-").isdigit()


def class_names(ann: Path) -> tuple[str, ...]:
  listed = ann / "classes.txt"
  if listed.is_file():
    return tuple(x.strip() for x in listed.read_text().splitlines()
                 if x.strip())
  labels = [r[1] for _, r in read_rows(ann / "train.csv") if r[1]]
  if labels and all(_is_int(x) for x in labels):
    return tuple(str(i) for i in range(max(int(x) for x in labels) + 1))
  return tuple(sorted({x for x in labels if not _is_int(x)}))


def load(root: str | Path, split: str,
         annotations_dir: str | Path | None = None) -> VideoSource:
  root = check_root(root)
  ann = Path(annotations_dir).expanduser() if annotations_dir else root
  path = ann / f"{split}.csv"
  classes = class_names(ann)
  by_name = {c: i for i, c in enumerate(classes)}
  records = []
  for n, row in read_rows(path):
    rel, label_field = row[0], row[1]
    if not label_field or label_field == "-1":
      label = -1
    elif label_field in by_name:
      label = by_name[label_field]
    elif _is_int(label_field) and 0 <= int(label_field) < len(classes):
      label = int(label_field)
    else:
      raise ValueError(f"{path}:{n}: label {label_field!r} is not one of "
                       f"the {len(classes)} classes")
    record = dict(path=str(root / rel), label=label, video_id=len(records))
    if len(row) == 4:
      try:
        start, end = float(row[2]), float(row[3])
      except ValueError as e:
        raise ValueError(f"{path}:{n}: start/end must be seconds ({e})"
                         ) from e
      if not 0 <= start < end:
        raise ValueError(f"{path}:{n}: need 0 <= start < end, got "
                         f"{start}, {end}")
      record.update(start=start, end=end)
    records.append(record)
  if not records:
    raise ValueError(f"{path}: no videos listed")
  return VideoSource(records=tuple(records), class_names=classes,
                     root=str(root))


def make_source(data_config: ml_collections.ConfigDict,
                split: str) -> VideoSource:
  return load(data_config.root, split,
              data_config.get("annotations_dir") or None)
