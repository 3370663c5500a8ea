"""Dataset sources: each module turns a dataset on disk into a list of records.

`config.data.source = "ucf101"` means `vidjax.data.sources.ucf101`; every
source module defines `make_source(data_config, split) -> VideoSource`.

Sources: `ucf101`, `hmdb51`, `kinetics`, `something_something_v2`, `csv`
(any collection listed as path,label[,start,end]), `tfds` (records written
by `python -m vidjax.data prepare`) and `synthetic_motion` (generated).

Any of them can be read from folders of pre-extracted frames instead of
video files: with `config.data.frames_root` set, the video
`<root>/<rel>/<name>.<ext>` is read from the JPEG files in
`<frames_root>/<rel>/<name>/` (in name order, at `config.data.frames_fps`).
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import pkgutil
from pathlib import Path
from typing import Any

import ml_collections

VIDEO_SUFFIXES = (".mp4", ".avi", ".webm", ".mkv", ".mov", ".m4v", ".mpg",
                  ".mpeg", ".flv", ".wmv", ".3gp", ".ogv")


@dataclasses.dataclass(frozen=True)
class VideoSource:
  """The videos of one split.

  records: one dict per video with at least `path` (absolute), `label` (int,
    0-based, -1 when unknown) and `video_id` (int, unique in the split);
    optionally `start`/`end` (seconds: clips come from that segment only),
    `frames_fps` (the record is a folder of frames at that rate) and
    source-specific keys (extra labels, TFDS coordinates).
  class_names: index -> human-readable class name.
  root: the folder the records were read from, for messages.
  """

  records: tuple[dict[str, Any], ...]
  class_names: tuple[str, ...]
  root: str

  @property
  def num_classes(self) -> int:
    return len(self.class_names)

  def __len__(self) -> int:
    return len(self.records)


def available() -> list[str]:
  return sorted(m.name for m in pkgutil.iter_modules(__path__)
                if not m.name.startswith("_"))


def check_root(root: str | os.PathLike) -> Path:
  """The data folder, or an error naming it if it is missing or empty."""
  root = Path(root).expanduser()
  if not str(root) or not root.is_dir():
    raise FileNotFoundError(f"data folder {root} does not exist "
                            "(config.data.root)")
  if not any(root.iterdir()):
    raise FileNotFoundError(f"data folder {root} is empty (config.data.root)")
  return root


def find_videos(root: Path) -> dict[str, str]:
  """Every video file under `root`, by file name without its extension."""
  found = {}
  for dirpath, _, names in os.walk(root):
    for name in names:
      stem, ext = os.path.splitext(name)
      if ext.lower() in VIDEO_SUFFIXES:
        found.setdefault(stem, os.path.join(dirpath, name))
  return found


def to_frame_folders(source: VideoSource, frames_root: str | os.PathLike,
                     fps: float) -> VideoSource:
  """Points every record at its folder of extracted frames (see above)."""
  frames_root = Path(frames_root).expanduser()
  if not frames_root.is_dir():
    raise FileNotFoundError(f"frames folder {frames_root} does not exist "
                            "(config.data.frames_root)")
  if fps <= 0:
    raise ValueError(f"config.data.frames_fps must be positive, got {fps}")
  records = []
  for r in source.records:
    rel = os.path.relpath(r["path"], source.root)
    folder = frames_root / os.path.splitext(rel)[0]
    records.append(dict(r, path=str(folder), frames_fps=float(fps)))
  return dataclasses.replace(source, records=tuple(records))


def make_source(data_config: ml_collections.ConfigDict,
                split: str) -> VideoSource:
  """Builds the source named by `data_config.source` for `split`."""
  name = data_config.source
  if name not in available():
    raise ValueError(f"unknown data source {name!r} (config.data.source); "
                     f"available: {', '.join(available())}")
  module = importlib.import_module(f"{__name__}.{name}")
  source = module.make_source(data_config, split)
  if data_config.get("frames_root"):
    source = to_frame_folders(source, data_config.frames_root,
                              data_config.get("frames_fps", 30.0))
  return source


def subsample_per_class(source: VideoSource, per_class: int) -> VideoSource:
  """The first `per_class` videos of each class, in the source's order.

  For few-label experiments; records keep their `video_id`. Unlabeled
  records (label -1) are dropped.
  """
  taken: dict[int, int] = {}
  kept = []
  for r in source.records:
    label = r["label"]
    if label < 0 or taken.get(label, 0) >= per_class:
      continue
    taken[label] = taken.get(label, 0) + 1
    kept.append(r)
  return dataclasses.replace(source, records=tuple(kept))
