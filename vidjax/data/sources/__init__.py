"""Dataset sources: each module turns a dataset on disk into a list of records.

`config.data.source = "ucf101"` means `vidjax.data.sources.ucf101`; every
source module defines `make_source(data_config, split) -> VideoSource`.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from typing import Any

import ml_collections


@dataclasses.dataclass(frozen=True)
class VideoSource:
  """The videos of one split.

  records: one dict per video with at least `path` (absolute), `label` (int,
    0-based, -1 when unknown) and `video_id` (int, unique in the split).
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


def make_source(data_config: ml_collections.ConfigDict,
                split: str) -> VideoSource:
  """Builds the source named by `data_config.source` for `split`."""
  name = data_config.source
  if name not in available():
    raise ValueError(f"unknown data source {name!r} (config.data.source); "
                     f"available: {', '.join(available())}")
  module = importlib.import_module(f"{__name__}.{name}")
  return module.make_source(data_config, split)


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
