"""Something-Something v2 from its official JSON annotation files.

The release has `something-something-v2-labels.json` (template -> class
index as a string), and per split a list of videos::

    labels.json      {"Approaching something with your camera": "0", ...}
    train.json       [{"id": "78687", "label": "holding potato next to ...",
                       "template": "Holding [something] next to [something]",
                       "placeholders": ["potato", "vicks vaporub bottle"]}]
    test.json        [{"id": "1420"}]

A video's class is its template with the brackets removed, looked up in
labels.json; test videos have no label (-1). Videos are
`<root>/<id>.webm`. `config.data.annotations_dir` holds the JSON files
(default: root). Horizontal flipping changes the class of many templates
("pushing something from left to right"): keep it off.
"""

from __future__ import annotations

import json
from pathlib import Path

import ml_collections

from vidjax.data.sources import VideoSource, check_root

PREFIX = "something-something-v2"
SPLIT_FILES = {"train": f"{PREFIX}-train.json",
               "val": f"{PREFIX}-validation.json",
               "validation": f"{PREFIX}-validation.json",
               "test": f"{PREFIX}-test.json"}


def _read_json(path: Path):
  if not path.is_file():
    raise FileNotFoundError(f"{path}: annotation file not found")
  with open(path) as f:
    return json.load(f)


def read_labels(path: Path) -> tuple[str, ...]:
  """labels.json -> class names ordered by index."""
  mapping = _read_json(path)
  by_index = {int(v): k for k, v in mapping.items()}
  if sorted(by_index) != list(range(len(by_index))):
    raise ValueError(f"{path}: class indices must be 0..{len(by_index) - 1}")
  return tuple(by_index[i] for i in range(len(by_index)))


def template_class(template: str) -> str:
  return template.replace("[", "").replace("]", "")


def load(root: str | Path, split: str,
         annotations_dir: str | Path | None = None,
         extension: str = ".webm") -> VideoSource:
  root = check_root(root)
  ann = Path(annotations_dir).expanduser() if annotations_dir else root
  if split not in SPLIT_FILES:
    raise ValueError(f"split must be one of {tuple(SPLIT_FILES)}, got "
                     f"{split!r}")
  classes = read_labels(ann / f"{PREFIX}-labels.json")
  by_name = {c: i for i, c in enumerate(classes)}
  path = ann / SPLIT_FILES[split]
  records = []
  for n, entry in enumerate(_read_json(path)):
    if "id" not in entry:
      raise ValueError(f"{path}: entry {n} has no 'id': {entry}")
    label = -1
    if "template" in entry:
      name = template_class(entry["template"])
      if name not in by_name:
        raise ValueError(f"{path}: entry {n} (id {entry['id']}): template "
                         f"{entry['template']!r} is not in "
                         f"{PREFIX}-labels.json")
      label = by_name[name]
    records.append(dict(path=str(root / f"{entry['id']}{extension}"),
                        label=label, video_id=len(records)))
  if not records:
    raise ValueError(f"{path}: no videos listed")
  return VideoSource(records=tuple(records), class_names=classes,
                     root=str(root))


def make_source(data_config: ml_collections.ConfigDict,
                split: str) -> VideoSource:
  return load(data_config.root, split,
              data_config.get("annotations_dir") or None)
