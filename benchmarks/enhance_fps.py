"""Frames per second of each enhancement model, as `vidjax.enhance` runs it.

  python benchmarks/enhance_fps.py                      # 540p, float32, CPU
  python benchmarks/enhance_fps.py --resolution 1080p --dtype bfloat16  # GPU

Each model is its config's default variant (the one `launch.py` trains),
with random weights (speed does not depend on their values), called through
its task's `enhance` under `jax.jit` on one window of `--frames` frames of
the output resolution (super-resolution: its input is the output size
divided by the scale), padded to a multiple of 8 pixels as the command does.
The first call (compilation) is not timed; fps = frames / the fastest of
`--repeats` timed calls. Prints a markdown table with the machine (device,
CPU model and count, load average, which matters on a shared machine) and
appends it to `--results` if given.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import pathlib
import platform
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# pylint: disable=g-import-not-at-top,wrong-import-position
import jax
import jax.numpy as jnp
import numpy as np

from vidjax import tasks
from vidjax.data.pipeline import DatasetInfo

RESOLUTIONS = {"540p": (540, 960), "720p": (720, 1280), "1080p": (1080, 1920)}
# label, config file, variant argument
MODELS = [
    ("DnCNN", "configs/denoising/dncnn_synthetic.py", ""),
    ("FastDVDnet", "configs/denoising/fastdvdnet_synthetic.py", ""),
    ("ESPCN x2", "configs/super_resolution/espcn_synthetic.py", "x2"),
    ("ESPCN x4", "configs/super_resolution/espcn_synthetic.py", "x4"),
    ("EDSR x2", "configs/super_resolution/edsr_synthetic.py", "x2"),
    ("EDSR x4", "configs/super_resolution/edsr_synthetic.py", "x4"),
    ("BasicVSR x4", "configs/super_resolution/basicvsr_synthetic.py", "x4"),
    ("Style network", "configs/style_transfer/style_net_synthetic.py", ""),
]
PAD = 8


def _load(rel: str, arg: str):
  spec = importlib.util.spec_from_file_location("cfg_bench", REPO / rel)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(arg)


def machine() -> str:
  device = jax.devices()[0]
  cpu = platform.processor() or platform.machine()
  try:
    with open("/proc/cpuinfo") as f:
      names = [l.split(":", 1)[1].strip() for l in f
               if l.startswith("model name")]
    cpu = names[0] if names else cpu
  except OSError:
    pass
  load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
  return (f"{device.platform.upper()} {device.device_kind}; host CPU {cpu}, "
          f"{os.cpu_count()} logical cores, load average {load:.1f} at the "
          f"start; jax {jax.__version__}")


def benchmark(rel: str, arg: str, out_hw: tuple[int, int], frames: int,
              dtype: str, repeats: int) -> dict:
  config = _load(rel, arg)
  config.model.dtype = dtype
  info = DatasetInfo(num_classes=0, class_names=(), num_train=1,
                     num_eval=1, root="")
  task = tasks.get_task_class(config.task.name)(config, info, 1)
  scale = task.output_scale
  h, w = out_hw[0] // scale, out_hw[1] // scale
  h, w = h + (-h % PAD), w + (-w % PAD)
  d = config.data
  spec = {"video": jnp.zeros((1, d.num_frames, d.image_size, d.image_size,
                              3))}
  state = jax.jit(task.init_state)(jax.random.key(0), spec)
  params = task.eval_params(state)
  options = {"sigma": 25.0} if config.task.name == "denoising" else {}
  fn = jax.jit(lambda p, s, v: task.enhance(p, s, v, **options))
  video = jax.random.uniform(jax.random.key(1), (1, frames, h, w, 3))
  start = time.perf_counter()
  jax.block_until_ready(fn(params, state.model_state, video))
  compile_s = time.perf_counter() - start
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    jax.block_until_ready(fn(params, state.model_state, video))
    times.append(time.perf_counter() - start)
  return {"variant": config.model.variant, "input": f"{w}x{h}",
          "fps": frames / min(times), "compile_s": compile_s,
          "times": times}


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--resolution", default="540p",
                      choices=sorted(RESOLUTIONS))
  parser.add_argument("--dtype", default="float32",
                      choices=("float32", "bfloat16"))
  parser.add_argument("--frames", type=int, default=4,
                      help="frames per window (BasicVSR and FastDVDnet use "
                      "temporal context; 4 for all keeps it comparable)")
  parser.add_argument("--repeats", type=int, default=2)
  parser.add_argument("--only", default="", help="models whose label "
                      "contains this")
  parser.add_argument("--results", default="",
                      help="markdown file to append the table to")
  args = parser.parse_args()
  out_hw = RESOLUTIONS[args.resolution]
  header = machine()
  print(header, flush=True)
  rows = []
  for label, rel, arg in MODELS:
    if args.only and args.only not in label:
      continue
    r = benchmark(rel, arg, out_hw, args.frames, args.dtype, args.repeats)
    print(f"{label}: {r['fps']:.3f} fps (variant {r['variant']}, input "
          f"{r['input']}, compile {r['compile_s']:.1f} s, calls "
          f"{', '.join(f'{t:.2f}' for t in r['times'])} s)", flush=True)
    rows.append((label, r))
  table = [f"{args.resolution} output ({out_hw[1]}x{out_hw[0]}), "
           f"{args.dtype}, windows of {args.frames} frames, fastest of "
           f"{args.repeats} calls after compilation. Machine: {header}.", "",
           "| model | variant | input | frames/s | ms/frame |",
           "|---|---|---|---|---|"]
  for label, r in rows:
    table.append(f"| {label} | {r['variant']} | {r['input']} | "
                 f"{r['fps']:.3g} | {1000 / r['fps']:.0f} |")
  text = "\n".join(table) + "\n"
  print(text)
  if args.results:
    with open(args.results, "a") as f:
      f.write("\n" + text)


if __name__ == "__main__":
  main()
