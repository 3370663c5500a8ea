"""Finds the videos of a dataset that the pipeline would skip, and says why.

`python -m vidjax.data check DIR_OR_CONFIG` runs `check_record` on every
video: the same opening, probing and segment/clip-length checks as the
training pipeline (`pipeline.open_grid`), then a decode of the first and last
frames a clip can use (or, with `full=True`, of every frame). A failure is
one of the `KINDS` below with the decoder's reason.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import multiprocessing
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from vidjax.data import decode
from vidjax.data import pipeline
from vidjax.data.decode import DecodeError
from vidjax.data.sources import VIDEO_SUFFIXES, VideoSource

# (kind, substring of DecodeError reasons), first match wins.
KINDS = (
    ("missing", "no such file"),
    ("missing", "no such frame folder"),
    ("empty", "empty file"),
    ("no video stream", "no video stream"),
    ("unreadable", "unreadable"),
    ("zero frames", "zero frames"),
    ("too short", "fewer frames than a clip needs"),
    ("truncated", "truncated"),
    ("bad segment", "outside the video"),
    ("decoding failed", "decoding failed"),
)


def kind_of(reason: str) -> str:
  for kind, needle in KINDS:
    if needle in reason:
      return kind
  return "other"


@dataclasses.dataclass(frozen=True)
class CheckResult:
  path: str
  ok: bool
  reason: str = ""
  num_frames: int = 0  # frames (grid positions) usable for clips

  @property
  def kind(self) -> str:
    return "ok" if self.ok else kind_of(self.reason)


def check_record(record: dict[str, Any], opts: pipeline.ClipOptions,
                 full: bool = False) -> CheckResult:
  """Checks one source record like the pipeline would read it."""
  path = record["path"]
  try:
    reader, grid = pipeline.open_grid(record, opts)
    with reader:
      if full and isinstance(reader, decode.VideoReader):
        decoded = reader.count_frames()
        claimed = reader.info.num_frames
        if decoded == 0:
          raise DecodeError(path, "zero frames decoded")
        # Containers without a frame count estimate it from the duration,
        # which may be off by one.
        if decoded < claimed - 1:
          raise DecodeError(path, f"truncated: {decoded} of the {claimed} "
                            "frames the stream claims decode")
      grid.read(reader, [0, grid.num - 1])
  except DecodeError as e:
    return CheckResult(path=e.path or path, ok=False, reason=e.reason)
  return CheckResult(path=path, ok=True, num_frames=grid.num)


def _check_task(args) -> CheckResult:
  record, opts, full = args
  return check_record(record, opts, full)


def check_records(records: Sequence[dict[str, Any]],
                  opts: pipeline.ClipOptions, *, full: bool = False,
                  workers: int = 0,
                  progress: Callable[[Iterable], Iterable] | None = None
                  ) -> list[CheckResult]:
  """Checks every record, in `workers` processes (0: in this one).

  Results are in the order of `records`.
  """
  tasks = [(r, opts, full) for r in records]
  wrap = progress or (lambda it: it)
  if workers <= 0:
    return [r for r in wrap(map(_check_task, tasks))]
  ctx = multiprocessing.get_context("spawn")
  with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx) as ex:
    return list(wrap(ex.map(_check_task, tasks, chunksize=4)))


def folder_records(folder: str | os.PathLike,
                   frames_fps: float = 30.0) -> list[dict[str, Any]]:
  """Every video file under `folder`, and every folder of frame images that
  holds no videos (as frame-folder records)."""
  folder = Path(folder).expanduser()
  if not folder.is_dir():
    raise FileNotFoundError(f"{folder}: no such folder")
  records = []
  for dirpath, dirnames, names in os.walk(folder):
    dirnames.sort()
    videos = sorted(n for n in names
                    if os.path.splitext(n)[1].lower() in VIDEO_SUFFIXES)
    for n in videos:
      records.append(dict(path=os.path.join(dirpath, n), label=-1,
                          video_id=len(records)))
    images = [n for n in names if n.lower().endswith(decode.FRAME_SUFFIXES)]
    if images and not videos:
      records.append(dict(path=dirpath, label=-1, video_id=len(records),
                          frames_fps=float(frames_fps)))
  return records


def source_records(sources: Iterable[VideoSource]) -> list[dict[str, Any]]:
  """The records of several splits, each video once."""
  seen, out = set(), []
  for source in sources:
    for r in source.records:
      key = (r["path"], r.get("start"), r.get("end"))
      if key not in seen:
        seen.add(key)
        out.append(r)
  return out


def summarize(results: Sequence[CheckResult]) -> tuple[list[str], int]:
  """Lines to print (one per failure, then totals) and the failure count."""
  lines = [f"FAIL {r.path}: {r.reason}" for r in results if not r.ok]
  failed = sum(not r.ok for r in results)
  lines.append(f"checked {len(results)} videos: {len(results) - failed} ok, "
               f"{failed} failed")
  counts = collections.Counter(r.kind for r in results if not r.ok)
  for kind, n in sorted(counts.items()):
    lines.append(f"  {kind}: {n}")
  return lines, failed
