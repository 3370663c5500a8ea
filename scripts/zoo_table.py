"""Trains every model family on the synthetic motion data; writes README's table.

  python scripts/zoo_table.py --steps 200 --out /tmp/zoo [--write_readme]

Each family's config (configs/classification/<family>_synthetic.py, its
default tiny-for-CPU model) runs through the generic trainer for the same
number of steps and batch size on the same clips, then the script records:
  - top-1 accuracy on the test split (8 motion classes, chance 12.5%),
  - parameters,
  - GFLOPs per clip of the inference forward pass, from XLA's cost analysis
    of the compiled function (`jax.jit(...).lower(...).compile()
    .cost_analysis()["flops"]`),
  - CPU training throughput: clips/s over the logged intervals after the
    first (which includes compilation), median.
The table goes to OUT/zoo_table.md and, with --write_readme, between the
`<!-- zoo-table -->` markers of README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# "config:arg" entries run that config's get_config(arg): c3d:bn is C3D with
# a BatchNorm after each convolution, beside the paper's unnormalized C3D.
FAMILIES = ("tsn", "lrcn", "c3d", "c3d:bn", "r3d", "r2plus1d", "i3d",
            "slowfast", "vivit", "timesformer", "videomae")
BEGIN, END = "<!-- zoo-table -->", "<!-- /zoo-table -->"


def load_config(family: str, steps: int, batch: int, frames: int, size: int):
  import importlib.util  # pylint: disable=g-import-not-at-top
  name, _, arg = family.partition(":")
  path = REPO / "configs" / "classification" / f"{name}_synthetic.py"
  spec = importlib.util.spec_from_file_location(f"cfg_{name}", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  c = module.get_config(arg)
  c.data.update(num_frames=frames, image_size=size)
  c.train.update(num_steps=steps, batch_size=batch, num_epochs=0.0,
                 log_every=max(1, steps // 10))
  c.eval.every_steps = 0  # once, at the end
  c.checkpoint.every_steps = 0
  c.logging.progress_bar = False
  c.optimizer.warmup_steps = min(c.optimizer.warmup_steps, steps // 5)
  return c


def gflops_per_clip(config, num_classes: int) -> float:
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  from vidjax import models  # pylint: disable=g-import-not-at-top
  model = models.build(config.model, num_classes=num_classes)
  video = jnp.zeros((1, config.data.num_frames, config.data.image_size,
                     config.data.image_size, 3))
  variables = jax.jit(model.init)(jax.random.key(0), video)
  compiled = jax.jit(lambda v, x: model.apply(v, x, train=False)).lower(
      variables, video).compile()
  cost = compiled.cost_analysis()
  if isinstance(cost, (list, tuple)):
    cost = cost[0]
  return float(cost["flops"]) / 1e9


def run_family(family: str, args) -> dict:
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  from vidjax import models  # pylint: disable=g-import-not-at-top
  from vidjax.train import trainer  # pylint: disable=g-import-not-at-top
  config = load_config(family, args.steps, args.batch, args.frames, args.size)
  if args.cache:
    config.data.synthetic.cache_dir = args.cache
  workdir = os.path.join(args.out, family.replace(":", "_"))
  results_path = os.path.join(workdir, "results.json")
  start = time.perf_counter()
  if os.path.exists(results_path) and json.load(
      open(results_path))["step"] == args.steps:
    results = json.load(open(results_path))  # already trained: reuse
  else:
    results = trainer.Trainer(config, workdir).run()
  if "eval" not in results:  # stopped by SIGTERM: the checkpoint is saved
    raise SystemExit(f"{family} stopped before the end; run the same command "
                     "again to continue from its checkpoint")
  wall = time.perf_counter() - start
  num_classes = len(results["per_class"])
  model = models.build(config.model, num_classes=num_classes)
  shapes = jax.eval_shape(model.init, jax.random.key(0), jnp.zeros(
      (1, args.frames, args.size, args.size, 3)))
  params = sum(x.size for x in jax.tree.leaves(shapes["params"]))
  logged = [json.loads(line) for line in open(os.path.join(workdir,
                                                           "metrics.jsonl"))]
  rates = [m["train/clips_per_sec"] for m in logged
           if "train/clips_per_sec" in m]
  rate = statistics.median(rates[1:] if len(rates) > 1 else rates)
  row = dict(family=family, variant=config.model.variant,
             accuracy=results["eval"]["top1"], params=int(params),
             gflops=gflops_per_clip(config, num_classes),
             clips_per_sec=rate, wall_s=wall, steps=args.steps)
  print(json.dumps(row), flush=True)
  return row


def table(rows, args) -> str:
  lines = [
      f"Synthetic motion data (8 classes that differ only in how shapes "
      f"move; chance 12.5%), {args.frames} frames of {args.size}x{args.size}"
      f" px, {args.steps} steps of batch {args.batch} (AdamW, each config's "
      f"learning rate), default CPU-sized variant of each config; "
      f"measured by `scripts/zoo_table.py` on {platform.machine()} with "
      f"{os.cpu_count()} CPU cores shared with other jobs (throughput is "
      "indicative only).",
      "",
      "| family | variant | test accuracy | params | GFLOPs/clip (inference) "
      "| CPU train clips/s |",
      "|---|---|---|---|---|---|"]
  for r in rows:
    lines.append(f"| {r['family']} | {r['variant']} | {r['accuracy']:.1%} | "
                 f"{r['params'] / 1e6:.2f} M | {r['gflops']:.3f} | "
                 f"{r['clips_per_sec']:.1f} |")
  return "\n".join(lines) + "\n"


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--steps", type=int, default=200)
  parser.add_argument("--batch", type=int, default=16)
  parser.add_argument("--frames", type=int, default=8)
  parser.add_argument("--size", type=int, default=32)
  parser.add_argument("--families", default=",".join(FAMILIES))
  parser.add_argument("--out", default="/tmp/vidjax_zoo")
  parser.add_argument("--cache", default="",
                      help="synthetic data cache (config default if empty)")
  parser.add_argument("--write_readme", action="store_true")
  args = parser.parse_args()
  from absl import flags  # pylint: disable=g-import-not-at-top
  flags.FLAGS(sys.argv[:1])  # Grain workers read absl flags.
  os.makedirs(args.out, exist_ok=True)
  rows_path = os.path.join(args.out, "rows.jsonl")
  done = {}
  if os.path.exists(rows_path):  # resume: keep families already measured
    for line in open(rows_path):
      row = json.loads(line)
      if row["steps"] == args.steps:
        done[row["family"]] = row
  rows = []
  for family in args.families.split(","):
    if family not in done:
      done[family] = run_family(family, args)
      with open(rows_path, "a") as f:
        f.write(json.dumps(done[family]) + "\n")
    rows.append(done[family])
  text = table(rows, args)
  with open(os.path.join(args.out, "zoo_table.md"), "w") as f:
    f.write(text)
  print(text)
  if args.write_readme:
    readme = (REPO / "README.md").read_text()
    if BEGIN not in readme:
      raise SystemExit(f"README.md has no {BEGIN} ... {END} markers")
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    (REPO / "README.md").write_text(f"{head}{BEGIN}\n{text}{END}{tail}")


if __name__ == "__main__":
  main()
