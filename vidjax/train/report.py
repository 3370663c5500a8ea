"""End-of-run outputs a person reads: curves, a summary table, results.json."""

from __future__ import annotations

import collections
import json
import math
import os
from typing import Any

from vidjax.train.writers import METRICS_FILE

RESULTS_FILE = "results.json"
CURVES_FILE = "curves.png"


def read_metrics(workdir: str) -> dict[str, list[tuple[int, float]]]:
  """name -> [(step, value)] sorted by step; a step logged twice (a resumed
  run repeats the steps after its last checkpoint) keeps its latest value."""
  series: dict[str, dict[int, float]] = collections.defaultdict(dict)
  path = os.path.join(workdir, METRICS_FILE)
  if not os.path.exists(path):
    return {}
  with open(path) as f:
    for line in f:
      record = json.loads(line)
      step = record.pop("step")
      for k, v in record.items():
        series[k][step] = v
  return {k: sorted(v.items()) for k, v in series.items()}


def plot_curves(workdir: str, title: str = "") -> str:
  """Plots training loss, learning rate and every evaluation metric."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  series = read_metrics(workdir)
  panels = [k for k in ("train/loss", "train/learning_rate") if k in series]
  panels += sorted(k for k in series if k.startswith("eval/")
                   and k != "eval/num_videos" and not k.endswith("failures"))
  train_twins = {k: "train/" + k.split("/", 1)[1] for k in panels
                 if k.startswith("eval/")}
  cols = min(3, max(1, len(panels)))
  rows = max(1, math.ceil(len(panels) / cols))
  fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows),
                           squeeze=False)
  for ax, name in zip(axes.flat, panels):
    steps, values = zip(*series[name])
    ax.plot(steps, values, marker="o" if name.startswith("eval/") else None,
            markersize=3, label=name)
    twin = train_twins.get(name)
    if twin in series:
      s, v = zip(*series[twin])
      ax.plot(s, v, alpha=0.6, label=twin)
    ax.set_title(name, fontsize=9)
    ax.set_xlabel("step", fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
  for ax in list(axes.flat)[len(panels):]:
    ax.axis("off")
  if title:
    fig.suptitle(title, fontsize=10)
  # Fixed margins in inches rather than tight_layout, which measured every
  # tick label: 0.43 s instead of 0.7 s for this plot at every run's end.
  width, height = fig.get_size_inches()
  fig.subplots_adjust(left=0.8 / width, right=0.98, bottom=0.45 / height,
                      top=1 - (0.55 if title else 0.3) / height,
                      wspace=0.35, hspace=0.35)
  path = os.path.join(workdir, CURVES_FILE)
  fig.savefig(path, dpi=110)
  plt.close(fig)
  return path


def write_results(workdir: str, results: dict[str, Any]) -> str:
  path = os.path.join(workdir, RESULTS_FILE)
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    json.dump(results, f, indent=2, sort_keys=True)
  os.replace(tmp, path)
  return path


def summary_table(results: dict[str, Any]) -> str:
  """A short human-readable table of the final results."""
  rows = [("task", results["task"]), ("model", results["model"]),
          ("steps", results["step"]),
          ("train time", f"{results['train_time_s']:.0f} s"),
          ("train clips/s", f"{results['train_clips_per_sec']:.1f}"),
          ("videos skipped (decode errors)", results["decode_failures"])]
  for k, v in results["eval"].items():
    rows.append((f"eval {k}", f"{v:.4f}" if isinstance(v, float) else v))
  if results.get("best"):
    b = results["best"]
    rows.append((f"best eval {b['metric']}",
                 f"{b['value']:.4f} at step {b['step']}"))
  width = max(len(str(k)) for k, _ in rows)
  line = "-" * (width + 24)
  body = "\n".join(f"{str(k):<{width}}  {v}" for k, v in rows)
  return f"{line}\n{body}\n{line}\nworkdir: {results['workdir']}"
