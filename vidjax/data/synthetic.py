"""Procedural motion dataset written as real H.264 videos in the UCF101 layout.

Every class shows the same population of random shapes, colours and
backgrounds; classes differ only in how the shapes move (left, right, up, down,
clockwise, anticlockwise, growing, shrinking). Positions wrap around the frame
and sizes sweep the same range in both directions, so the distribution of any
single frame is the same for every class: a model that ignores time cannot do
much better than chance, and accuracy on this data measures temporal modelling.

The folder it writes looks like a UCF101 release::

    root/
      classInd.txt                      "1 MoveLeft"
      trainlist01.txt                   "MoveLeft/v_MoveLeft_g03_c01.mp4 1"
      testlist01.txt                    "MoveLeft/v_MoveLeft_g01_c01.mp4"
      unlabeledlist01.txt               the unlabeled pool, if any
      annotations.jsonl                 per-video attributes (shape, count, ...)
      spec.json                         the generation parameters
      MoveLeft/v_MoveLeft_g01_c01.mp4
      ...
      unlabeled/v_MoveLeft_u001.mp4     (spec.unlabeled_per_class > 0)

As in UCF101, clips are grouped (``gNN``) and the first groups form the test
split. Generation is deterministic from ``spec.seed``.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Sequence

import av
import numpy as np
from absl import logging
from PIL import Image, ImageDraw

CLASSES = (
    "MoveLeft",
    "MoveRight",
    "MoveUp",
    "MoveDown",
    "RotateClockwise",
    "RotateAnticlockwise",
    "Grow",
    "Shrink",
)
SHAPES = ("triangle", "square", "ell", "arrow")
MOTION_DIRECTIONS = ("horizontal", "vertical", "rotation", "scale")

UNLABELED_DIR = "unlabeled"  # the pool's folder; group 0 in annotations
# Bump when rendering changes, so cached datasets from older code are not used.
GENERATOR_VERSION = 1
_SUPERSAMPLE = 4  # draw at 4x and downsample: sub-pixel motion stays visible
_DONE_MARKER = ".complete"


@dataclasses.dataclass(frozen=True)
class SyntheticSpec:
  """Parameters that fully determine a generated dataset."""

  clips_per_class: int = 64
  num_groups: int = 8  # clips are split into groups; see test_groups
  test_groups: int = 2  # groups 1..test_groups form the test split
  num_frames: int = 32
  fps: int = 16
  size: int = 48  # frames are size x size pixels
  max_objects: int = 3
  # Motion and size ranges, as fractions of the frame size (per frame).
  object_radius: tuple[float, float] = (0.09, 0.14)
  growth: tuple[float, float] = (2.0, 2.5)  # total scale change, grow/shrink
  speed: tuple[float, float] = (0.03, 0.045)  # translation per frame
  angular_speed_deg: tuple[float, float] = (11.0, 16.0)  # rotation per frame
  seed: int = 0
  codec: str = "libx264"
  crf: int = 18
  # Extra clips per class in an unlabeled pool (unlabeled/, listed in
  # unlabeledlist01.txt) for self-supervised pretraining. Drawn from their
  # own seeds: the labeled clips are the same with or without the pool.
  unlabeled_per_class: int = 0

  def fingerprint(self) -> str:
    fields = dataclasses.asdict(self)  # tuples become lists
    if not self.unlabeled_per_class:
      # Datasets without a pool keep the fingerprint (and cache) they had
      # before the pool existed.
      del fields["unlabeled_per_class"]
    blob = json.dumps(dict(fields, generator_version=GENERATOR_VERSION),
                      sort_keys=True).encode()
    return hashlib.sha1(blob).hexdigest()[:10]


def _polygon(kind: str, cx: float, cy: float, radius: float,
             angle: float) -> list[tuple[float, float]]:
  """Vertices of a shape centred at (cx, cy); `angle` in radians, y down."""
  if kind == "arrow":
    # A chevron-like arrow: clearly oriented, so rotation is visible.
    pts = [(1.0, 0.0), (-0.6, 0.7), (-0.25, 0.0), (-0.6, -0.7)]
  elif kind == "ell":
    # An L: no rotational symmetry, so no rotation speed is ambiguous.
    pts = [(-0.7, -0.9), (-0.1, -0.9), (-0.1, 0.3), (0.8, 0.3), (0.8, 0.9),
           (-0.7, 0.9)]
  else:
    n = {"triangle": 3, "square": 4}[kind]
    pts = [(math.cos(2 * math.pi * k / n), math.sin(2 * math.pi * k / n))
           for k in range(n)]
  c, s = math.cos(angle), math.sin(angle)
  return [(cx + radius * (x * c - y * s), cy + radius * (x * s + y * c))
          for x, y in pts]


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
  """A static smooth colour gradient with a faint texture, uint8 [H, W, 3]."""
  yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / max(size - 1, 1)
  c0, c1 = rng.uniform(0, 255, size=(2, 3)).astype(np.float32) * 0.6
  theta = rng.uniform(0, 2 * np.pi)
  t = (np.cos(theta) * xx + np.sin(theta) * yy + 1.0) / 2.0
  bg = c0 * (1 - t[..., None]) + c1 * t[..., None]
  # Low-frequency texture: a coarse random grid upsampled smoothly.
  coarse = rng.normal(0.0, 12.0, size=(6, 6, 3)).astype(np.float32)
  texture = np.asarray(
      Image.fromarray(coarse[..., 0]).resize((size, size), Image.BICUBIC))
  bg = bg + texture[..., None]
  return np.clip(bg, 0, 255).astype(np.uint8)


@dataclasses.dataclass(frozen=True)
class ClipParams:
  """Random attributes of one clip; independent of its class."""

  shape: str
  num_objects: int
  colours: tuple[tuple[int, int, int], ...]
  centres: tuple[tuple[float, float], ...]  # in [0, 1)
  angles: tuple[float, ...]
  radius: tuple[float, ...]  # in pixels, at the smallest scale
  size_phase: tuple[float, ...]  # where in [r, r * growth] a still size sits
  speed: float  # pixels per frame (translation)
  angular_speed: float  # radians per frame (rotation)
  growth: float  # total scale factor over the clip (grow/shrink)


def sample_clip_params(rng: np.random.Generator, spec: SyntheticSpec
                       ) -> ClipParams:
  n = int(rng.integers(1, spec.max_objects + 1))
  return ClipParams(
      shape=SHAPES[int(rng.integers(len(SHAPES)))],
      num_objects=n,
      colours=tuple(tuple(int(v) for v in rng.integers(0, 256, 3))
                    for _ in range(n)),
      centres=tuple((float(rng.uniform()), float(rng.uniform()))
                    for _ in range(n)),
      angles=tuple(float(rng.uniform(0, 2 * np.pi)) for _ in range(n)),
      radius=tuple(float(rng.uniform(*spec.object_radius) * spec.size)
                   for _ in range(n)),
      size_phase=tuple(float(rng.uniform()) for _ in range(n)),
      speed=float(rng.uniform(*spec.speed) * spec.size),
      angular_speed=float(np.deg2rad(rng.uniform(*spec.angular_speed_deg))),
      growth=float(rng.uniform(*spec.growth)),
  )


def render_clip(class_name: str, params: ClipParams, background: np.ndarray,
                num_frames: int) -> np.ndarray:
  """Renders uint8 frames [T, H, W, 3] of `params` moving as `class_name`."""
  size = background.shape[0]
  big = size * _SUPERSAMPLE
  bg = Image.fromarray(background).resize((big, big), Image.BILINEAR)
  frames = []
  for t in range(num_frames):
    u = t / max(num_frames - 1, 1)  # progress through the clip in [0, 1]
    img = bg.copy()
    draw = ImageDraw.Draw(img)
    for k in range(params.num_objects):
      cx, cy = (params.centres[k][0] * size, params.centres[k][1] * size)
      angle, radius = params.angles[k], params.radius[k]
      dist = params.speed * t
      if class_name == "MoveLeft":
        cx -= dist
      elif class_name == "MoveRight":
        cx += dist
      elif class_name == "MoveUp":
        cy -= dist
      elif class_name == "MoveDown":
        cy += dist
      elif class_name == "RotateClockwise":  # y points down: +angle is CW
        angle += params.angular_speed * t
      elif class_name == "RotateAnticlockwise":
        angle -= params.angular_speed * t
      elif class_name == "Grow":
        radius *= params.growth ** u
      elif class_name == "Shrink":
        radius *= params.growth ** (1.0 - u)
      elif class_name not in CLASSES:
        raise ValueError(f"unknown class {class_name!r}; known: {CLASSES}")
      if class_name not in ("Grow", "Shrink"):
        # Other classes hold their size somewhere inside the same range, so
        # the size of an object in one frame says nothing about its class.
        radius *= params.growth ** params.size_phase[k]
      cx, cy = cx % size, cy % size
      # Draw the object at every wrapped position that can touch the frame.
      for ox in (-size, 0, size):
        for oy in (-size, 0, size):
          px, py = cx + ox, cy + oy
          reach = radius * 2.7
          if -reach < px < size + reach and -reach < py < size + reach:
            pts = _polygon(params.shape, px * _SUPERSAMPLE, py * _SUPERSAMPLE,
                           radius * _SUPERSAMPLE, angle)
            draw.polygon(pts, fill=params.colours[k])
    frames.append(np.asarray(img.resize((size, size), Image.BOX)))
  return np.stack(frames)


def write_video(path: str | os.PathLike, frames: np.ndarray, fps: int,
                codec: str = "libx264", crf: int = 18,
                pix_fmt: str = "yuv420p", options: dict | None = None) -> None:
  """Encodes uint8 frames [T, H, W, 3] to a video file with PyAV."""
  frames = np.asarray(frames)
  if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
    raise ValueError(f"frames must be uint8 [T, H, W, 3], got "
                     f"{frames.dtype} {frames.shape}")
  with av.open(str(path), mode="w") as container:
    stream = container.add_stream(codec, rate=fps)
    stream.width, stream.height = frames.shape[2], frames.shape[1]
    stream.pix_fmt = pix_fmt
    opts = {}
    if codec in ("libx264", "libx265"):
      opts = {"crf": str(crf), "preset": "fast"}
    opts.update(options or {})
    stream.options = opts
    for frame in frames:
      container.mux(stream.encode(av.VideoFrame.from_ndarray(frame,
                                                             format="rgb24")))
    container.mux(stream.encode())


def _clip_name(class_name: str, group: int, clip: int) -> str:
  return f"{class_name}/v_{class_name}_g{group:02d}_c{clip:02d}.mp4"


def _plan(spec: SyntheticSpec) -> list[dict]:
  """Deterministic list of (class, group, clip, seed) entries to render."""
  per_group = math.ceil(spec.clips_per_class / spec.num_groups)
  root_seq = np.random.SeedSequence(spec.seed)
  child_seeds = root_seq.spawn(len(CLASSES) * spec.clips_per_class)
  plan = []
  for c, class_name in enumerate(CLASSES):
    for i in range(spec.clips_per_class):
      group, clip = i // per_group + 1, i % per_group + 1
      plan.append(dict(class_index=c, class_name=class_name, group=group,
                       clip=clip, path=_clip_name(class_name, group, clip),
                       seed=child_seeds[c * spec.clips_per_class + i]))
  # The unlabeled pool: its own seed sequence, so the labeled clips above do
  # not depend on its size.
  pool_seeds = np.random.SeedSequence([spec.seed, 1]).spawn(
      len(CLASSES) * spec.unlabeled_per_class)
  for c, class_name in enumerate(CLASSES):
    for i in range(spec.unlabeled_per_class):
      plan.append(dict(class_index=c, class_name=class_name, group=0,
                       clip=i + 1,
                       path=f"{UNLABELED_DIR}/v_{class_name}_u{i + 1:03d}.mp4",
                       seed=pool_seeds[c * spec.unlabeled_per_class + i]))
  return plan


def _render_and_write(entry: dict, spec: SyntheticSpec, root: str) -> dict:
  rng = np.random.default_rng(entry["seed"])
  params = sample_clip_params(rng, spec)
  background = _background(rng, spec.size)
  frames = render_clip(entry["class_name"], params, background,
                       spec.num_frames)
  write_video(Path(root) / entry["path"], frames, spec.fps, spec.codec,
              spec.crf)
  return dict(path=entry["path"], label=entry["class_index"],
              class_name=entry["class_name"], group=entry["group"],
              shape=params.shape, shape_index=SHAPES.index(params.shape),
              num_objects=params.num_objects,
              motion_axis=MOTION_DIRECTIONS[entry["class_index"] // 2])


def generate(root: str | os.PathLike, spec: SyntheticSpec = SyntheticSpec(),
             num_workers: int | None = None, progress: bool = False) -> Path:
  """Writes the dataset described by `spec` into `root` and returns it.

  Writes into a temporary folder beside `root` and renames it at the end, so an
  interrupted generation never leaves a half-written dataset behind, and
  concurrent callers (several hosts sharing a disk) agree on one copy.
  """
  root = Path(root).expanduser()
  if (root / _DONE_MARKER).exists():
    return root
  root.parent.mkdir(parents=True, exist_ok=True)
  tmp = Path(tempfile.mkdtemp(prefix=root.name + ".tmp-", dir=root.parent))
  try:
    plan = _plan(spec)
    for class_name in CLASSES:
      (tmp / class_name).mkdir()
    if spec.unlabeled_per_class:
      (tmp / UNLABELED_DIR).mkdir()
    workers = num_workers or min(4, os.cpu_count() or 1)
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
      results = pool.map(lambda e: _render_and_write(e, spec, str(tmp)), plan)
      if progress:
        import tqdm  # pylint: disable=g-import-not-at-top
        results = tqdm.tqdm(results, total=len(plan),
                            desc="generating synthetic videos", unit="clip")
      records = list(results)
    _write_annotations(tmp, spec, records)
    (tmp / _DONE_MARKER).write_text(spec.fingerprint())
    try:
      tmp.rename(root)
    except OSError:
      if not (root / _DONE_MARKER).exists():
        raise
      # Another process finished first; its copy is identical.
      shutil.rmtree(tmp, ignore_errors=True)
  except BaseException:
    shutil.rmtree(tmp, ignore_errors=True)
    raise
  logging.info("Generated %d synthetic videos in %s", len(plan), root)
  return root


def _write_annotations(root: Path, spec: SyntheticSpec,
                       records: Sequence[dict]) -> None:
  (root / "classInd.txt").write_text(
      "".join(f"{i + 1} {name}\n" for i, name in enumerate(CLASSES)))
  train = [r for r in records if r["group"] > spec.test_groups]
  test = [r for r in records if 0 < r["group"] <= spec.test_groups]
  pool = [r for r in records if r["group"] == 0]
  if pool:
    (root / "unlabeledlist01.txt").write_text(
        "".join(f"{r['path']}\n" for r in pool))
  # UCF101 conventions: train lines carry a 1-based label, test lines do not.
  (root / "trainlist01.txt").write_text(
      "".join(f"{r['path']} {r['label'] + 1}\n" for r in train))
  (root / "testlist01.txt").write_text("".join(f"{r['path']}\n" for r in test))
  with open(root / "annotations.jsonl", "w") as f:
    for r in records:
      f.write(json.dumps(r) + "\n")
  (root / "spec.json").write_text(
      json.dumps(dataclasses.asdict(spec), indent=2, sort_keys=True))


def default_cache_dir() -> Path:
  """Where generated data lives: $VIDJAX_CACHE or ~/.cache/vidjax."""
  return Path(os.environ.get("VIDJAX_CACHE", "~/.cache/vidjax")).expanduser()


def ensure_dataset(spec: SyntheticSpec = SyntheticSpec(),
                   cache_dir: str | os.PathLike | None = None,
                   progress: bool = False) -> Path:
  """Returns the folder holding `spec`'s dataset, generating it if needed."""
  cache = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
  return generate(cache / f"synthetic_motion-{spec.fingerprint()}", spec,
                  progress=progress)
