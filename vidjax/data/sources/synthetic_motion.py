"""The generated motion dataset (see `vidjax.data.synthetic`), read as UCF101.

The videos are generated on first use into the cache folder
(`config.data.synthetic.cache_dir`, default $VIDJAX_CACHE or ~/.cache/vidjax)
and then read back from disk like any other UCF101-layout dataset. Records
also carry the generator's per-video attributes (shape, number of objects,
motion axis) for multi-task training.
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


def make_source(data_config: ml_collections.ConfigDict,
                split: str) -> VideoSource:
  syn = data_config.synthetic
  root = synthetic.ensure_dataset(spec_from_config(data_config),
                                  syn.get("cache_dir") or None,
                                  progress=syn.get("progress", False))
  source = ucf101.load(root, split, fold=1)
  attributes = {}
  with open(Path(root) / "annotations.jsonl") as f:
    for line in f:
      a = json.loads(line)
      attributes[str(Path(root) / a["path"])] = a
  records = tuple(
      dict(r, shape=attributes[r["path"]]["shape_index"],
           num_objects=attributes[r["path"]]["num_objects"])
      for r in source.records)
  return dataclasses.replace(source, records=records)
