"""Converts a source into TFDS ArrayRecord clips, in parallel and resumably.

Stage 1 converts each video (decode its segment, resample to the chosen fps
and short side, encode) in worker processes and writes it to
`OUT/_work/<split>/<video_id>.pkl` atomically; a video that cannot be
decoded gets a `.failed` file with the reason instead. An interrupted run
started again with the same options converts only what is missing. Stage 2
writes the ArrayRecord dataset from those files (fast, sequential) with the
TFDS builder in `tfds_records`, then deletes the work folder unless asked to
keep it.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import multiprocessing
import os
import pickle
import shutil
from pathlib import Path
from typing import Any, Callable, Iterable

from vidjax.data import tfds_records
from vidjax.data.decode import DecodeError
from vidjax.data.sources import VideoSource

WORK = "_work"


@dataclasses.dataclass
class PrepareResult:
  dataset_dir: Path
  converted: dict[str, int]  # split -> videos in the dataset
  failures: dict[str, list[tuple[str, str]]]  # split -> [(name, reason)]
  converted_now: int  # videos converted by this call (the rest resumed)


def _key(record: dict[str, Any]) -> str:
  return f"{int(record['video_id']):08d}"


def _name(record: dict[str, Any], source: VideoSource) -> str:
  try:
    return os.path.relpath(record["path"], source.root)
  except ValueError:
    return record["path"]


def _write_atomic(path: Path, data: bytes) -> None:
  tmp = path.with_name(path.name + f".tmp{os.getpid()}")
  tmp.write_bytes(data)
  os.replace(tmp, path)


def convert_one(task) -> tuple[str, str, bool, str]:
  """Converts one video into its work file; returns (split, key, ok, reason)."""
  split, key, record, name, opts, work_dir = task
  out = Path(work_dir) / split / f"{key}.pkl"
  try:
    example = tfds_records.convert_record(record, opts, name)
  except DecodeError as e:
    _write_atomic(out.with_suffix(".failed"),
                  json.dumps({"name": name, "reason": e.reason}).encode())
    return split, key, False, e.reason
  _write_atomic(out, pickle.dumps(example, protocol=pickle.HIGHEST_PROTOCOL))
  return split, key, True, ""


def _check_plan(work: Path, plan: dict[str, Any]) -> None:
  path = work / "plan.json"
  if path.is_file():
    old = json.loads(path.read_text())
    if old != plan:
      raise ValueError(
          f"{work.parent} holds an unfinished conversion with other options "
          f"or videos ({path}): {old} != {plan}. Use another output folder "
          "or delete this one.")
  else:
    work.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, json.dumps(plan, indent=1).encode())


def prepare(sources: dict[str, VideoSource], out_dir: str | os.PathLike,
            opts: tfds_records.PrepareOptions, *, workers: int = 0,
            progress: Callable[[Iterable, int], Iterable] | None = None,
            keep_work: bool = False,
            description: dict[str, Any] | None = None) -> PrepareResult:
  """Converts every video of `sources` (split -> source) into `out_dir`.

  workers: processes converting videos (0: this process).
  progress: wraps the iterator of finished conversions (e.g. tqdm), given
    it and the number of conversions to do.
  description: what the sources are (recorded in metadata.json).
  """
  out_dir = Path(out_dir).expanduser()
  work = out_dir / WORK
  done = sorted(out_dir.glob(f"{tfds_records.NAME}/*/dataset_info.json"))
  if done and not work.exists():
    # Finished earlier (and the work files were deleted).
    meta = tfds_records.read_metadata(done[0].parent)
    return PrepareResult(
        dataset_dir=done[0].parent,
        converted={s: len(v["keys"]) for s, v in meta["splits"].items()},
        failures={s: [tuple(x) for x in v]
                  for s, v in meta["failures"].items()},
        converted_now=0)
  names = {split: [_name(r, s) for r in s.records]
           for split, s in sources.items()}
  _check_plan(work, dict(options=dataclasses.asdict(opts),
                         source=description or {},
                         splits={split: len(s)
                                 for split, s in sources.items()}))
  tasks = []
  for split, source in sources.items():
    (work / split).mkdir(parents=True, exist_ok=True)
    for record, name in zip(source.records, names[split]):
      key = _key(record)
      base = work / split / key
      if not (base.with_suffix(".pkl").exists() or
              base.with_suffix(".failed").exists()):
        tasks.append((split, key, record, name, opts, str(work)))

  if tasks and workers <= 0:
    results = map(convert_one, tasks)
    for _ in (progress(results, len(tasks)) if progress else results):
      pass
  elif tasks:
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers,
                                                mp_context=ctx) as ex:
      futures = [ex.submit(convert_one, t) for t in tasks]
      finished = concurrent.futures.as_completed(futures)
      try:
        for f in (progress(finished, len(tasks)) if progress else finished):
          f.result()
      except BaseException:
        for f in futures:
          f.cancel()
        raise

  splits, failures = {}, {}
  for split, source in sources.items():
    keys, labels, video_names, video_ids, failed = [], [], [], [], []
    for record, name in zip(source.records, names[split]):
      key = _key(record)
      bad = work / split / f"{key}.failed"
      if bad.exists():
        failed.append((name, json.loads(bad.read_text())["reason"]))
        continue
      keys.append(key)
      labels.append(int(record["label"]))
      video_names.append(name)
      video_ids.append(int(record["video_id"]))
    splits[split] = dict(keys=keys, labels=labels, names=video_names,
                         video_ids=video_ids)
    failures[split] = failed
  first = next(iter(sources.values()))
  metadata = dict(class_names=list(first.class_names), splits=splits,
                  failures=failures, options=dataclasses.asdict(opts),
                  source=description or {})
  dataset_dir = tfds_records.write_dataset(out_dir, work, metadata)
  if not keep_work:
    shutil.rmtree(work)
  return PrepareResult(dataset_dir=dataset_dir,
                       converted={s: len(v["keys"]) for s, v in splits.items()},
                       failures=failures, converted_now=len(tasks))
