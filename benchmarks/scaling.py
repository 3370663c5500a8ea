"""Step time and clips/s of the generic trainer on 1, 2, 4, 8 devices.

  python benchmarks/scaling.py                 # 8 simulated CPU devices
  python benchmarks/scaling.py --real          # the machine's accelerators
  python benchmarks/scaling.py --strategies data,fsdp --steps 40

Each point is a separate `launch.py` run of the same config and global batch
with `--config.train.num_devices=N`; the first logging interval (compilation)
is dropped and the rest averaged. On simulated CPU devices the numbers check
the sharded path and show its overhead: all "devices" share the same cores,
so no speed-up is expected there. With --real on a GPU/TPU machine the same
table measures scaling.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parent.parent


def run_point(args, devices: int, strategy: str, workdir: str) -> dict:
  env = dict(os.environ)
  if not args.real:
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") +
                        f" --xla_force_host_platform_device_count={args.max}")
    env["JAX_PLATFORMS"] = "cpu"
  cmd = [sys.executable, str(REPO / "launch.py"),
         f"--config={REPO / 'configs' / args.config}",
         f"--workdir={workdir}",
         f"--config.train.num_devices={devices}",
         f"--config.train.sharding={strategy}",
         f"--config.train.num_steps={args.steps}",
         f"--config.train.batch_size={args.batch_size}",
         f"--config.eval.batch_size={args.batch_size}",
         f"--config.train.log_every={args.log_every}",
         "--config.checkpoint.every_steps=0",
         "--config.checkpoint.async_save=false",
         "--config.logging.progress_bar=false",
         *args.override]
  out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                       text=True)
  if out.returncode:
    sys.exit(f"run with {devices} device(s) failed:\n{out.stderr[-3000:]}")
  logged = [json.loads(line) for line in
            open(os.path.join(workdir, "metrics.jsonl"))]
  intervals = [m for m in logged if "train/step_time_s" in m][1:]
  if not intervals:
    sys.exit("too few steps: raise --steps above 2 x --log_every")
  mean = lambda k: sum(m[k] for m in intervals) / len(intervals)  # noqa: E731
  return {"devices": devices, "strategy": strategy,
          "step_time_s": mean("train/step_time_s"),
          "clips_per_sec": mean("train/clips_per_sec"),
          "data_wait": mean("train/data_wait_fraction"),
          "save_block_s": mean("train/save_block_s")}


def checkpoint_overhead(args) -> None:
  every = max(1, args.log_every // 2)
  cases = {"no checkpoints": ["--config.checkpoint.every_steps=0"],
           "sync save": [f"--config.checkpoint.every_steps={every}",
                         "--config.checkpoint.async_save=false"],
           "async save": [f"--config.checkpoint.every_steps={every}",
                          "--config.checkpoint.async_save=true"]}
  rows = {}
  base = list(args.override)
  with tempfile.TemporaryDirectory() as tmp:
    for name, flags in cases.items():
      # Later flags win: these replace run_point's every_steps/async_save.
      args.override = base + flags
      rows[name] = run_point(args, args.max if not args.real else -1, "data",
                             os.path.join(tmp, name.replace(" ", "_")))
      print(f"  measured {name}", file=sys.stderr, flush=True)
  print(f"\n{args.config}, a save every {every} steps\n")
  print("| checkpointing | step time (s) | vs none | loop held per save (s) |")
  print("|---|---:|---:|---:|")
  none = rows["no checkpoints"]["step_time_s"]
  saves_per_interval = args.log_every / every
  for name, row in rows.items():
    held = (f"{row['save_block_s'] / saves_per_interval:.3f}"
            if name != "no checkpoints" else "-")
    print(f"| {name} | {row['step_time_s']:.3f} | "
          f"{row['step_time_s'] / none:.2f}x | {held} |")


def main():
  parser = argparse.ArgumentParser(description=__doc__,
                                   formatter_class=argparse.RawTextHelpFormatter)
  parser.add_argument("--config", default="quickstart.py:tiny",
                      help="config under configs/ (with :variant)")
  parser.add_argument("--real", action="store_true",
                      help="use the machine's real devices")
  parser.add_argument("--max", type=int, default=8,
                      help="largest device count (simulated devices made)")
  parser.add_argument("--steps", type=int, default=30)
  parser.add_argument("--log_every", type=int, default=10)
  parser.add_argument("--batch_size", type=int, default=16)
  parser.add_argument("--strategies", default="data",
                      help="comma-separated config.train.sharding values")
  parser.add_argument("--checkpoints", action="store_true",
                      help="instead: step time on all devices with no "
                      "checkpoints, synchronous and asynchronous saves "
                      "every --log_every/2 steps")
  parser.add_argument("--out", default="", help="write the rows as JSON")
  parser.add_argument("override", nargs="*",
                      help="extra --config.x=y flags, after --")
  args = parser.parse_args()
  if args.checkpoints:
    return checkpoint_overhead(args)
  counts = [n for n in (1, 2, 4, 8, 16, 32, 64) if n <= args.max]
  rows = []
  with tempfile.TemporaryDirectory() as tmp:
    for strategy in args.strategies.split(","):
      for n in counts:
        row = run_point(args, n, strategy, os.path.join(tmp, f"{strategy}{n}"))
        rows.append(row)
        print(f"  measured {strategy} x{n}: {row['step_time_s']:.3f} s/step",
              file=sys.stderr, flush=True)
  print(f"\n{args.config}, global batch {args.batch_size}, "
        f"{'real' if args.real else 'simulated CPU'} devices\n")
  print("| strategy | devices | step time (s) | clips/s | vs 1 device | "
        "data wait |")
  print("|---|---:|---:|---:|---:|---:|")
  for row in rows:
    one = next(r for r in rows if r["strategy"] == row["strategy"] and
               r["devices"] == 1)
    print(f"| {row['strategy']} | {row['devices']} | {row['step_time_s']:.3f}"
          f" | {row['clips_per_sec']:.1f} | "
          f"{row['clips_per_sec'] / one['clips_per_sec']:.2f}x | "
          f"{100 * row['data_wait']:.0f}% |")
  if args.out:
    pathlib.Path(args.out).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
  main()
