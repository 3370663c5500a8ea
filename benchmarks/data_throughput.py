"""Clips per second of the data pipeline against plain PyAV loops.

  python benchmarks/data_throughput.py [--videos 12] [--clips 48] [--out DIR]

Generates a folder of real H.264 videos (320x240, 25 fps, 5 to 10 s each,
moving content, a keyframe every 2 s as phone and web videos have), then
times, on the same list of 16-frame clips (stride 2, a random start each):

- pipeline, N workers: the full training path of `make_train_dataset`
  (seeking decode + random resized crop to 112 + flip + colour jitter +
  normalize + batching of 8) with Grain worker processes N = 0, 1, 2 and the
  number of CPUs;
- sequential PyAV: the loop people write first: open each file, decode from
  the start up to the clip's last frame, keep the clip's frames, apply the
  same augmentation, one clip after another in one process;
- decode all: decode every frame of the video, then slice the clip (and
  augment it).

It also times clip decoding alone on the 10-second videos (seeking reader vs
decode-all), the comparison the pipeline's design rests on. Prints a table
and the ratios; `--out` writes them as JSON too. Results depend heavily on
what else runs on the machine: run it on an idle one to quote numbers.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import pathlib
import statistics
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import av  # pylint: disable=g-import-not-at-top,wrong-import-position
import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position

from vidjax.data import pipeline  # pylint: disable=g-import-not-at-top,wrong-import-position
from vidjax.data import sampling  # pylint: disable=g-import-not-at-top,wrong-import-position
from vidjax.data.decode import open_video  # pylint: disable=g-import-not-at-top,wrong-import-position
from vidjax.data.sources import VideoSource  # pylint: disable=g-import-not-at-top,wrong-import-position

FPS = 25
NUM_FRAMES, STRIDE, SIZE, BATCH = 16, 2, 112, 8


def write_videos(folder: pathlib.Path, num: int, seed: int = 0) -> list[str]:
  """`num` 320x240 H.264 videos of 5 to 10 s (the first ones 10 s)."""
  rng = np.random.default_rng(seed)
  folder.mkdir(parents=True, exist_ok=True)
  paths = []
  y, x = np.mgrid[0:240, 0:320].astype(np.float32)
  for i in range(num):
    path = folder / f"video_{i:03d}.mp4"
    paths.append(str(path))
    if path.exists():
      continue
    seconds = 10.0 if i < max(1, num // 2) else float(rng.uniform(5, 10))
    container = av.open(str(path) + ".tmp.mp4", mode="w")
    stream = container.add_stream("libx264", rate=FPS)
    stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
    stream.options = {"g": str(2 * FPS), "crf": "23", "preset": "veryfast"}
    fx, fy, phase = rng.uniform(0.01, 0.05, 2).tolist() + [rng.uniform(0, 6)]
    for t in range(int(seconds * FPS)):
      r = 127 + 100 * np.sin(fx * x + 0.2 * t + phase)
      g = 127 + 100 * np.sin(fy * y - 0.15 * t)
      b = 127 + 100 * np.sin(0.02 * (x + y) + 0.1 * t)
      frame = np.stack([r, g, b], -1)
      cx, cy = int(160 + 120 * np.sin(0.05 * t)), int(120 + 80 * np.cos(0.07 * t))
      frame[max(0, cy - 20):cy + 20, max(0, cx - 20):cx + 20] = 255
      noise = rng.integers(-8, 9, frame.shape)
      frame = np.clip(frame + noise, 0, 255).astype(np.uint8)
      container.mux(stream.encode(av.VideoFrame.from_ndarray(frame,
                                                             format="rgb24")))
    container.mux(stream.encode())
    container.close()
    os.replace(str(path) + ".tmp.mp4", path)
  return paths


def clip_plan(paths, num_clips, seed=1):
  """(path, frame indices) of each clip, a random start per clip."""
  rng = np.random.default_rng(seed)
  lengths = {}
  for p in paths:
    with open_video(p) as r:
      lengths[p] = r.info.num_frames
  plan = []
  for i in range(num_clips):
    p = paths[i % len(paths)]
    plan.append((p, sampling.random_clip_indices(lengths[p], NUM_FRAMES,
                                                 STRIDE, rng)))
  return plan


def _augment(opts, frames, rng):
  return pipeline.TrainClip(opts)._augment(frames, rng)  # pylint: disable=protected-access


def decode_sequential(path, indices):
  """Decode from the start up to the clip's last frame."""
  wanted = {int(i) for i in indices}
  last = max(wanted)
  got = {}
  with av.open(path) as c:
    for n, frame in enumerate(c.decode(video=0)):
      if n in wanted:
        got[n] = frame.to_ndarray(format="rgb24")
      if n >= last:
        break
  return np.stack([got[int(i)] for i in indices])


def decode_all_then_slice(path, indices):
  with av.open(path) as c:
    frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
  return np.stack(frames)[np.asarray(indices)]


def decode_seeking(path, indices):
  with open_video(path) as r:
    return r.read(indices)


def time_loop(plan, decode_fn, opts=None):
  rng = np.random.default_rng(0)
  t0 = time.perf_counter()
  for path, idx in plan:
    frames = decode_fn(path, idx)
    if opts is not None:
      _augment(opts, frames, rng)
  return len(plan) / (time.perf_counter() - t0)


def make_config(num_workers):
  sys.path.insert(0, str(REPO))
  from configs import quickstart  # pylint: disable=g-import-not-at-top
  config = quickstart.get_config()
  d = config.data
  d.num_frames, d.stride, d.image_size = NUM_FRAMES, STRIDE, SIZE
  d.augment.random_resized_crop = True
  d.augment.crop_scale = (0.3, 1.0)
  d.augment.horizontal_flip = True
  d.augment.color_jitter = 0.4
  d.num_workers = num_workers
  config.train.batch_size = BATCH
  return config


def time_pipeline(paths, num_clips, num_workers, warmup_batches=2):
  config = make_config(num_workers)
  source = VideoSource(
      records=tuple(dict(path=p, label=i % 4, video_id=i)
                    for i, p in enumerate(paths)),
      class_names=("a", "b", "c", "d"), root=str(pathlib.Path(paths[0]).parent))
  it = iter(pipeline.make_train_dataset(config, source))
  # Workers start and fill their buffers during warm-up: not counted.
  for _ in range(warmup_batches):
    next(it)
  batches = max(1, num_clips // BATCH)
  t0 = time.perf_counter()
  for batch in itertools.islice(it, batches):
    assert batch["video"].shape == (BATCH, NUM_FRAMES, SIZE, SIZE, 3)
  rate = batches * BATCH / (time.perf_counter() - t0)
  del it
  return rate


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--videos", type=int, default=12)
  parser.add_argument("--clips", type=int, default=48,
                      help="clips per measurement")
  parser.add_argument("--repeats", type=int, default=2,
                      help="repeats per measurement (the best is kept)")
  parser.add_argument("--data", default="",
                      help="folder for the generated videos (kept)")
  parser.add_argument("--workers", default="",
                      help="comma-separated worker counts (default 0,1,2,"
                      "#CPUs)")
  parser.add_argument("--out", default="", help="write results JSON here")
  args = parser.parse_args(argv)
  if not flags.FLAGS.is_parsed():
    flags.FLAGS.mark_as_parsed()

  data = pathlib.Path(args.data or tempfile.mkdtemp(prefix="vidjax_bench_"))
  t0 = time.perf_counter()
  paths = write_videos(data, args.videos)
  print(f"{len(paths)} videos 320x240 at {FPS} fps in {data} "
        f"({time.perf_counter() - t0:.0f} s to write); "
        f"{os.cpu_count()} CPUs, load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
  plan = clip_plan(paths, args.clips)
  opts = pipeline.ClipOptions.from_config(make_config(0).data)
  best = lambda f: max(f() for _ in range(args.repeats))  # noqa: E731

  results = {}
  results["sequential PyAV loop"] = best(
      lambda: time_loop(plan, decode_sequential, opts))
  results["decode all, then slice"] = best(
      lambda: time_loop(plan, decode_all_then_slice, opts))
  counts = ([int(x) for x in args.workers.split(",")] if args.workers else
            sorted({0, 1, 2, os.cpu_count() or 1}))
  for n in counts:
    results[f"pipeline, {n} workers"] = best(
        lambda n=n: time_pipeline(paths, args.clips, n))

  # Clip decoding alone, 10-second videos only.
  ten = [p for p in paths[:max(1, len(paths) // 2)]]
  plan10 = clip_plan(ten, args.clips // 2, seed=2)
  decode_only = {
      "seeking reader (decode only)": best(
          lambda: time_loop(plan10, decode_seeking)),
      "decode all (decode only)": best(
          lambda: time_loop(plan10, decode_all_then_slice)),
  }

  base = results["sequential PyAV loop"]
  print(f"\n16-frame clips (stride {STRIDE}) -> {SIZE}px, augmented, "
        f"batches of {BATCH}; clips/s (best of {args.repeats})")
  print(f"{'':34s}{'clips/s':>9s}{'vs sequential':>15s}")
  for name, rate in results.items():
    print(f"{name:34s}{rate:9.1f}{rate / base:14.2f}x")
  print("\nclip decoding alone, 10-second videos")
  for name, rate in decode_only.items():
    print(f"{name:34s}{rate:9.1f}")
  seek_ratio = (decode_only["seeking reader (decode only)"] /
                decode_only["decode all (decode only)"])
  print(f"seeking vs decode-all: {seek_ratio:.2f}x")
  print(f"load average after: "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
  if args.out:
    pathlib.Path(args.out).write_text(json.dumps(dict(
        pipeline=results, decode_only=decode_only, seek_ratio=seek_ratio,
        cpus=os.cpu_count(), videos=len(paths), clips=args.clips), indent=1))
  return 0


if __name__ == "__main__":
  sys.exit(main())
