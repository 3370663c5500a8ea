"""The generated motion dataset (see `vidjax.data.synthetic`), read as UCF101.

The videos are generated on first use into the cache folder
(`config.data.synthetic.cache_dir`, default $VIDJAX_CACHE or ~/.cache/vidjax)
and then read back from disk like any other UCF101-layout dataset. Records
also carry the generator's per-video attributes (shape, number of objects,
motion axis, 0-based object count) for multi-task training. Split names
join with "+" ("train+unlabeled": the training split and the unlabeled pool,
whose labels are -1).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import ml_collections

from vidjax.data import synthetic
from vidjax.data.sources import VideoSource
from vidjax.data.sources import ucf101


def spec_from_config(data_config: ml_collections.ConfigDict
                     ) -> synthetic.SyntheticSpec:
  fields = {f.name for f in dataclasses.fields(synthetic.SyntheticSpec)}
  given = {k: v for k, v in data_config.synthetic.items() if k in fields}
  return synthetic.SyntheticSpec(**given)


def _unlabeled(root: Path, like: VideoSource) -> VideoSource:
  """The unlabeled pool (label -1), or an error saying how to get one."""
  listing = root / "unlabeledlist01.txt"
  if not listing.is_file():
    raise ValueError(f"{root} has no unlabeled pool; set "
                     "config.data.synthetic.unlabeled_per_class > 0")
  records = tuple(dict(path=str(root / line.strip()), label=-1, video_id=i)
                  for i, line in enumerate(listing.read_text().splitlines())
                  if line.strip())
  return dataclasses.replace(like, records=records)


def make_source(data_config: ml_collections.ConfigDict,
                split: str) -> VideoSource:
  """`split`: "train", "test", "unlabeled" or several joined by "+"."""
  syn = data_config.synthetic
  root = synthetic.ensure_dataset(spec_from_config(data_config),
                                  syn.get("cache_dir") or None,
                                  progress=syn.get("progress", False))
  parts = []
  for name in split.split("+"):
    if name == "unlabeled":
      parts.append(_unlabeled(Path(root), parts[0] if parts else
                              ucf101.load(root, "train", fold=1)))
    else:
      parts.append(ucf101.load(root, name, fold=1))
  attributes = {}
  with open(Path(root) / "annotations.jsonl") as f:
    for line in f:
      a = json.loads(line)
      attributes[str(Path(root) / a["path"])] = a
  records = []
  for part in parts:
    for r in part.records:
      a = attributes[r["path"]]
      # Extra labels for multi-task learning, all 0-based class indices.
      records.append(dict(
          r, video_id=len(records), shape=a["shape_index"],
          num_objects=a["num_objects"], count=a["num_objects"] - 1,
          motion_axis=synthetic.MOTION_DIRECTIONS.index(a["motion_axis"])))
  return dataclasses.replace(parts[0], records=tuple(records))


# Number of classes of each extra label of the records, for multi-task heads.
def label_classes(data_config: ml_collections.ConfigDict) -> dict[str, int]:
  return {"label": len(synthetic.CLASSES), "shape": len(synthetic.SHAPES),
          "count": int(data_config.synthetic.max_objects),
          "motion_axis": len(synthetic.MOTION_DIRECTIONS)}
