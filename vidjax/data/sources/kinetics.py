"""Kinetics (400/600/700) from the official CSV annotation files.

The release's `train.csv`, `validate.csv` and `test.csv` have the columns::

    label,youtube_id,time_start,time_end,split[,is_cc]
    abseiling,0347ZoDXyP0,14,24,train

(Kinetics-700's `test.csv` has no label column: labels are then -1.) Videos
come either trimmed to the 10-second annotated segment, named
`<youtube_id>_<time_start:06d>_<time_end:06d>.mp4` (the naming of the
official downloader), or untrimmed as `<youtube_id>.<ext>`, in which case the
records carry `start`/`end` seconds and clips are sampled inside them. Files
may sit in any sub-folders of `config.data.root` (`train/<label>/...` or
flat); they are found by name. Missing videos (YouTube takedowns) are
skipped and counted in the log: every copy of Kinetics lacks some.

Class indices follow the sorted labels of `train.csv` (the standard
Kinetics class order). `config.data.annotations_dir` holds the CSV files
(default: root); `config.data.kinetics_layout` is "trimmed", "untrimmed" or
"auto" (whichever file exists, trimmed first).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import ml_collections
from absl import logging

from vidjax.data.sources import VideoSource, check_root, find_videos

SPLIT_FILES = {"train": "train.csv", "val": "validate.csv",
               "validate": "validate.csv", "test": "test.csv"}
LAYOUTS = ("trimmed", "untrimmed", "auto")


def trimmed_name(youtube_id: str, start: int, end: int) -> str:
  return f"{youtube_id}_{start:06d}_{end:06d}"


def read_csv(path: Path) -> list[dict[str, str]]:
  if not path.is_file():
    raise FileNotFoundError(f"{path}: annotation file not found")
  with open(path, newline="") as f:
    reader = csv.DictReader(f)
    need = {"youtube_id", "time_start", "time_end"}
    if reader.fieldnames is None or not need <= set(reader.fieldnames):
      raise ValueError(f"{path}: expected a header with "
                       "label,youtube_id,time_start,time_end,split; got "
                       f"{reader.fieldnames}")
    return list(reader)


def class_names(ann: Path) -> tuple[str, ...]:
  rows = read_csv(ann / SPLIT_FILES["train"])
  return tuple(sorted({r["label"] for r in rows}))


def load(root: str | Path, split: str,
         annotations_dir: str | Path | None = None,
         layout: str = "auto") -> VideoSource:
  root = check_root(root)
  ann = Path(annotations_dir).expanduser() if annotations_dir else root
  if split not in SPLIT_FILES:
    raise ValueError(f"split must be one of {tuple(SPLIT_FILES)}, got "
                     f"{split!r}")
  if layout not in LAYOUTS:
    raise ValueError(f"kinetics_layout must be one of {LAYOUTS}, got "
                     f"{layout!r}")
  classes = class_names(ann)
  by_name = {c: i for i, c in enumerate(classes)}
  csv_path = ann / SPLIT_FILES[split]
  files = find_videos(root)
  records, missing = [], 0
  for n, row in enumerate(read_csv(csv_path), start=2):
    try:
      start, end = int(float(row["time_start"])), int(float(row["time_end"]))
    except ValueError as e:
      raise ValueError(f"{csv_path}:{n}: bad time_start/time_end "
                       f"({e})") from e
    label = -1
    if row.get("label"):
      if row["label"] not in by_name:
        raise ValueError(f"{csv_path}:{n}: label {row['label']!r} is not a "
                         f"class of {ann / SPLIT_FILES['train']}")
      label = by_name[row["label"]]
    yid = row["youtube_id"]
    path, segment = None, None
    if layout in ("trimmed", "auto"):
      path = files.get(trimmed_name(yid, start, end))
    if path is None and layout in ("untrimmed", "auto"):
      path = files.get(yid)
      segment = (float(start), float(end))
    if path is None:
      missing += 1
      continue
    record = dict(path=path, label=label, video_id=len(records))
    if segment is not None:
      record.update(start=segment[0], end=segment[1])
    records.append(record)
  if missing:
    logging.warning("%s: %d of %d videos of %s are missing under %s "
                    "(skipped)", csv_path, missing, missing + len(records),
                    split, root)
  if not records:
    raise ValueError(f"{csv_path}: none of the listed videos is under "
                     f"{root} (layout {layout!r}; expected names like "
                     f"'{trimmed_name('YOUTUBE_ID', 14, 24)}.mp4' or "
                     "'YOUTUBE_ID.mp4')")
  return VideoSource(records=tuple(records), class_names=classes,
                     root=str(root))


def make_source(data_config: ml_collections.ConfigDict,
                split: str) -> VideoSource:
  return load(data_config.root, split,
              data_config.get("annotations_dir") or None,
              data_config.get("kinetics_layout", "auto"))
