"""Dataset tools: `python -m vidjax.data {prepare,check} --help`."""

from __future__ import annotations

import argparse
import ast
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any, Sequence

_EPILOG = """\
examples:
  # UCF101 fold 1 as JPEG frames at 256 px short side, 4 processes:
  python -m vidjax.data prepare --source ucf101 --root ~/data/UCF-101 \\
      --annotations_dir ~/data/ucfTrainTestlist --out ~/data/ucf101_tfds \\
      --short_side 256 --workers 4
  # Kinetics-400 (untrimmed downloads) as 10 fps H.264 clips:
  python -m vidjax.data prepare --source kinetics --root ~/k400/videos \\
      --annotations_dir ~/k400/annotations --splits train,val \\
      --fps 10 --format video --out ~/k400_tfds
  # The data of a config, with a field changed:
  python -m vidjax.data prepare --config configs/quickstart.py \\
      --set data.synthetic.clips_per_class=8 --out /tmp/qs_tfds
  # Then train from the records:
  python launch.py --config ... --config.data.source=tfds \\
      --config.data.root=~/data/ucf101_tfds

  # Which files of a folder would the pipeline skip, and why:
  python -m vidjax.data check ~/data/UCF-101
  # Every video a config reads (both splits), as it reads them:
  python -m vidjax.data check configs/quickstart.py
"""


def _parse_value(text: str) -> Any:
  try:
    return ast.literal_eval(text)
  except (ValueError, SyntaxError):
    return text


def load_config(spec: str, overrides: Sequence[str] = ()):
  """get_config(arg) of `path.py[:arg]`, with `key.path=value` overrides."""
  path, _, arg = spec.partition(":")
  if not path.endswith(".py") or not os.path.isfile(path):
    raise FileNotFoundError(f"{path}: no such config file")
  repo = str(Path(path).resolve().parents[0])
  # Config files import `configs.common`: make the repository importable.
  for parent in Path(path).resolve().parents:
    if (parent / "configs" / "common.py").is_file():
      repo = str(parent)
      break
  if repo not in sys.path:
    sys.path.insert(0, repo)
  module_spec = importlib.util.spec_from_file_location(
      f"_vidjax_config_{Path(path).stem}", path)
  module = importlib.util.module_from_spec(module_spec)
  module_spec.loader.exec_module(module)
  config = module.get_config(arg or None)
  for item in overrides:
    key, sep, value = item.partition("=")
    if not sep:
      raise ValueError(f"--set {item!r}: expected key.path=value")
    node = config
    *parents, leaf = key.strip().split(".")
    for p in parents:
      node = node[p]
    if leaf not in node:
      raise KeyError(f"--set {item!r}: the config has no field {key!r}")
    node[leaf] = _parse_value(value.strip())
  return config


def _data_config(args) -> Any:
  """config.data from --config (+ --set) or from --source/--root flags."""
  if args.config:
    data = load_config(args.config, args.set).data
  else:
    if not args.source or not args.root:
      raise SystemExit("give --config, or --source and --root")
    import ml_collections  # pylint: disable=g-import-not-at-top
    data = ml_collections.ConfigDict(dict(
        source="", root="", annotations_dir="", fold=1,
        kinetics_layout="auto", frames_root="", frames_fps=30.0,
        train_split="train", eval_split="test"))
  for flag in ("source", "root", "annotations_dir", "fold",
               "kinetics_layout", "frames_root", "frames_fps"):
    value = getattr(args, flag, None)
    if value not in (None, ""):
      data[flag] = os.path.expanduser(value) if isinstance(value, str) else (
          value)
  return data


def _progress(enabled: bool, desc: str):
  if not enabled:
    return None
  import tqdm  # pylint: disable=g-import-not-at-top

  def wrap(iterable, total=None):
    return tqdm.tqdm(iterable, total=total, desc=desc, unit="video",
                     dynamic_ncols=True, file=sys.stderr)
  return wrap


def _add_source_flags(p: argparse.ArgumentParser) -> None:
  g = p.add_argument_group(
      "which videos", "A config file, or a source named by flags (flags "
      "override the config's data fields).")
  g.add_argument("--config", help="config file, optionally path.py:variant "
                 "(its config.data is used)")
  g.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                 help="override a config field, e.g. data.root=/data/x "
                 "(repeatable)")
  g.add_argument("--source", help="source module: ucf101, hmdb51, kinetics, "
                 "something_something_v2, csv, tfds, synthetic_motion")
  g.add_argument("--root", help="dataset folder (videos)")
  g.add_argument("--annotations_dir", help="folder of the split/label files "
                 "(default: --root)")
  g.add_argument("--fold", type=int, help="UCF101/HMDB51 split (1-3)")
  g.add_argument("--kinetics_layout", choices=("trimmed", "untrimmed", "auto"))
  g.add_argument("--frames_root", help="read pre-extracted JPEG frames from "
                 "here instead of video files")
  g.add_argument("--frames_fps", type=float,
                 help="rate of the extracted frames (default 30)")


def build_parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(
      prog="python -m vidjax.data",
      description="vidjax dataset tools: convert a dataset into TFDS "
      "ArrayRecord clips (prepare) or find the videos that cannot be read "
      "(check).",
      epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
  sub = parser.add_subparsers(dest="command", required=True)

  p = sub.add_parser(
      "prepare", formatter_class=argparse.RawDescriptionHelpFormatter,
      help="convert a source into TFDS ArrayRecord files",
      description="Convert every video of a source's splits into TFDS "
      "ArrayRecord files readable without TensorFlow (config.data.source="
      "'tfds', config.data.root=OUT). Each video becomes one example: its "
      "start/end segment, resampled to --fps and --short_side, stored as "
      "JPEG frames or an H.264 clip, with label, name and optionally audio. "
      "Runs over --workers processes with a progress bar; run the same "
      "command again to resume after an interruption. Videos that cannot be "
      "decoded are left out and listed (with reasons) in metadata.json and "
      "at the end.", epilog=_EPILOG)
  _add_source_flags(p)
  p.add_argument("--out", required=True, help="output folder")
  p.add_argument("--splits", default="",
                 help="comma-separated splits (default: the config's "
                 "train_split and eval_split, or train,test)")
  p.add_argument("--short_side", type=int, default=256,
                 help="resize frames to this short side; 0 keeps the size "
                 "(default 256)")
  p.add_argument("--fps", type=float, default=0.0,
                 help="frames per second to store, sampled by timestamp; 0 "
                 "keeps every frame (default 0)")
  p.add_argument("--format", choices=("jpeg", "video"), default="jpeg",
                 help="jpeg: one JPEG per frame (fast random access); video: "
                 "an H.264 clip with a keyframe every second (smaller)")
  p.add_argument("--jpeg_quality", type=int, default=90)
  p.add_argument("--crf", type=int, default=20,
                 help="H.264 quality for --format video (lower: better)")
  p.add_argument("--audio_rate", type=int, default=0,
                 help="also store the audio track, mono at this rate in Hz "
                 "(default 0: no audio)")
  p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                 help="converting processes; 0 converts in this process "
                 "(default: the number of CPUs)")
  p.add_argument("--keep_work", action="store_true",
                 help="keep OUT/_work (the per-video files) after writing")
  p.add_argument("--no_progress", action="store_true")

  c = sub.add_parser(
      "check", formatter_class=argparse.RawDescriptionHelpFormatter,
      help="report the videos that cannot be read, and why",
      description="Scan a dataset and print, for each video that fails, why "
      "(missing, empty, unreadable, no video stream, zero frames, "
      "truncated, too short for a clip, segment outside the video), then "
      "totals. Exit status 1 if anything failed. TARGET is a folder (every "
      "video file below it, and folders of extracted frames), a prepared "
      "TFDS folder, or a config file (path.py[:variant]): then the videos "
      "of its train and eval splits are checked as the pipeline reads them "
      "(segments, clip length with pad_mode='none'). The checks are the "
      "pipeline's own: what fails here is what training skips and counts.",
      epilog=_EPILOG)
  c.add_argument("target", help="folder, prepared TFDS folder, or config "
                 "file")
  c.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                 help="override a config field (with a config TARGET)")
  c.add_argument("--min_frames", type=int, default=1,
                 help="folders: fail videos with fewer frames (default 1)")
  c.add_argument("--frames_fps", type=float, default=30.0,
                 help="folders: rate of frame folders (default 30)")
  c.add_argument("--full", action="store_true",
                 help="decode every frame (slow) instead of the first and "
                 "last ones a clip can use")
  c.add_argument("--workers", type=int, default=0,
                 help="checking processes (default 0: this process)")
  c.add_argument("--no_progress", action="store_true")
  return parser


def _default_splits(args, data) -> list[str]:
  if args.splits:
    return [s.strip() for s in args.splits.split(",") if s.strip()]
  return list(dict.fromkeys([data.get("train_split", "train"),
                             data.get("eval_split", "test")]))


def run_prepare(args) -> int:
  from vidjax.data import prepare as prepare_lib  # pylint: disable=g-import-not-at-top
  from vidjax.data import tfds_records  # pylint: disable=g-import-not-at-top
  from vidjax.data.sources import make_source  # pylint: disable=g-import-not-at-top
  data = _data_config(args)
  splits = _default_splits(args, data)
  sources = {split: make_source(data, split) for split in splits}
  opts = tfds_records.PrepareOptions(
      short_side=args.short_side, fps=args.fps, format=args.format,
      jpeg_quality=args.jpeg_quality, crf=args.crf,
      audio_rate=args.audio_rate)
  description = {k: data.get(k) for k in (
      "source", "root", "annotations_dir", "fold", "kinetics_layout",
      "frames_root") if data.get(k) not in (None, "")}
  result = prepare_lib.prepare(
      sources, args.out, opts, workers=args.workers,
      progress=_progress(not args.no_progress, "converting"),
      keep_work=args.keep_work, description=description)
  for split, failed in result.failures.items():
    for name, reason in failed:
      print(f"FAIL {split} {name}: {reason}")
  for split, n in result.converted.items():
    print(f"{split}: {n} videos, {len(result.failures.get(split, []))} "
          "failed")
  print(f"dataset: {result.dataset_dir}")
  print(f"train from it with --config.data.source=tfds "
        f"--config.data.root={Path(args.out).expanduser()}")
  return 0


def run_check(args) -> int:
  from vidjax.data import check as check_lib  # pylint: disable=g-import-not-at-top
  from vidjax.data import pipeline  # pylint: disable=g-import-not-at-top
  from vidjax.data import tfds_records  # pylint: disable=g-import-not-at-top
  from vidjax.data.sources import make_source  # pylint: disable=g-import-not-at-top
  from vidjax.data.sources import tfds as tfds_source  # pylint: disable=g-import-not-at-top
  target = args.target
  opts = pipeline.ClipOptions(
      num_frames=max(1, args.min_frames), stride=1,
      pad_mode="none" if args.min_frames > 1 else "loop", image_size=1,
      mean=(0.0,), std=(1.0,))
  if target.partition(":")[0].endswith(".py"):
    config = load_config(target, args.set)
    data = config.data
    opts = pipeline.ClipOptions.from_config(data)
    splits = list(dict.fromkeys([data.train_split, data.eval_split]))
    records = check_lib.source_records(make_source(data, s) for s in splits)
  elif not os.path.isdir(os.path.expanduser(target)):
    print(f"{target}: no such folder or config file", file=sys.stderr)
    return 2
  else:
    try:
      dataset_dir = tfds_records.find_dataset_dir(target)
    except FileNotFoundError:
      dataset_dir = None
    if dataset_dir is not None:
      meta = tfds_records.read_metadata(dataset_dir)
      records = check_lib.source_records(
          tfds_source.load(str(dataset_dir), s) for s in meta["splits"])
    else:
      records = check_lib.folder_records(target, args.frames_fps)
  if not records:
    print(f"{target}: no videos found", file=sys.stderr)
    return 1
  results = check_lib.check_records(
      records, opts, full=args.full, workers=args.workers,
      progress=_progress(not args.no_progress and sys.stderr.isatty(),
                         "checking"))
  lines, failed = check_lib.summarize(results)
  print("\n".join(lines))
  return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
  args = build_parser().parse_args(argv)
  from absl import logging  # pylint: disable=g-import-not-at-top
  import logging as std_logging  # pylint: disable=g-import-not-at-top
  # Quiet while it runs; restored after, for callers in the same process
  # (the absl logger's own level too: unset, it defers to the root logger).
  previous = logging.get_verbosity()
  absl_level = std_logging.getLogger("absl").level
  logging.set_verbosity(logging.WARNING)
  try:
    if args.command == "prepare":
      return run_prepare(args)
    return run_check(args)
  finally:
    logging.set_verbosity(previous)
    std_logging.getLogger("absl").setLevel(absl_level)


if __name__ == "__main__":
  sys.exit(main())
