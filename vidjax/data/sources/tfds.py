"""Videos prepared as TFDS ArrayRecord files by `python -m vidjax.data prepare`.

`config.data.root` is the prepare command's output folder (or the dataset
folder inside it that holds dataset_info.json); splits are those prepared
(e.g. "train", "test"). Class names, labels and the original names come
from the dataset's metadata.json, so building the records reads no video
data; examples are read by index in the Grain workers (`tfds.data_source`).
"""

from __future__ import annotations

import ml_collections

from vidjax.data import tfds_records
from vidjax.data.sources import VideoSource


def load(root: str, split: str) -> VideoSource:
  dataset_dir = tfds_records.find_dataset_dir(root)
  meta = tfds_records.read_metadata(dataset_dir)
  if split not in meta["splits"]:
    raise ValueError(f"{dataset_dir}: split {split!r} was not prepared; "
                     f"available: {sorted(meta['splits'])}")
  info = meta["splits"][split]
  records = tuple(
      dict(path=f"{dataset_dir}[{split}][{i}] {name}",
           tfds_dir=str(dataset_dir), tfds_split=split, tfds_index=i,
           label=int(label), video_id=i)
      for i, (label, name) in enumerate(zip(info["labels"], info["names"])))
  if not records:
    raise ValueError(f"{dataset_dir}: split {split!r} has no videos")
  return VideoSource(records=records,
                     class_names=tuple(meta["class_names"]),
                     root=str(dataset_dir))


def make_source(data_config: ml_collections.ConfigDict,
                split: str) -> VideoSource:
  return load(data_config.root, split)
