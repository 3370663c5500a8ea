"""Trains the FVD feature network, the video GAN and the diffusion model
briefly on the synthetic clips, and writes the generation table to the
README.

  python scripts/generation_table.py --workdir /tmp/vidjax_generation

Each run goes through `launch.py`'s trainer into WORKDIR/<name>; running
again reuses finished runs (the trainer only re-evaluates them). The table
reports, on the synthetic evaluation split (16 px, 8 frames):

- the Fréchet video distance of each generator's samples to the real clips,
  next to the shuffled-frames baseline (the real clips with their frames in
  random order: perfect appearance, no coherent motion) and the distance
  between two halves of the real clips (the sampling-noise floor, computed
  from half as many clips, so biased upwards relative to the others);
- conditional accuracy: the feature network's top-1 on clips generated for
  each class, next to its accuracy on real and shuffled clips.
The README section between the generation-table markers is replaced.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

START = "<!-- generation-table:start -->"
END = "<!-- generation-table:end -->"


def _config(name: str, arg: str):
  import importlib.util  # pylint: disable=g-import-not-at-top
  path = REPO / "configs" / "generation" / f"{name}.py"
  spec = importlib.util.spec_from_file_location(f"cfg_{name}", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(arg)


def _train(config, workdir: str) -> dict:
  from vidjax.train import trainer  # pylint: disable=g-import-not-at-top
  start = time.perf_counter()
  results = trainer.train_and_evaluate(config, workdir)
  results["wall_s"] = time.perf_counter() - start
  print(f"{workdir}: {json.dumps(results['eval'])}", flush=True)
  return results


def real_split(features_dir: str, config, seed: int = 0) -> dict[str, float]:
  """FVD between two halves of the real evaluation clips, and between one
  half and the other half with shuffled frames."""
  # pylint: disable=g-import-not-at-top
  import jax
  from vidjax.data import pipeline
  from vidjax.metrics import generation
  from vidjax.metrics.video_features import FeatureNetwork
  # pylint: enable=g-import-not-at-top
  train, evaluation = pipeline.load_sources(config)
  network = FeatureNetwork.load(features_dir,
                                pipeline.dataset_info(train, evaluation))
  real, shuffled = generation.real_and_shuffled_features(
      network, pipeline.make_eval_dataset(config, evaluation),
      jax.random.key(seed))
  return generation.split_halves_fvd(real, shuffled, seed)


def _row(name, results, wall):
  e = results["eval"]
  return (f"| {name} | {e['fvd']:.2f} | {e['fvd_shuffled']:.2f} | "
          f"{e['fvd_ratio_to_shuffled']:.2f} | {e['cond_top1']:.3f} | "
          f"{e['real_top1']:.3f} | {e['shuffled_top1']:.3f} | "
          f"{results['step']} | {wall / 60:.1f} |")


def table(features, split, runs, args) -> str:
  lines = [
      START,
      "### Generation (synthetic motion clips, 16 px, 8 frames)",
      "",
      "Written by `python scripts/generation_table.py` "
      f"(feature network {args.feature_steps} steps; GAN {args.gan_steps} "
      f"and diffusion {args.diffusion_steps} steps of the `{args.variant}` "
      f"variants at batch {args.batch_size}, {args.sample_steps} DDIM steps; "
      "on a shared 2-core CPU). FVD uses "
      "the project's own R(2+1)D classifier of these clips "
      "(`configs/generation/fvd_features_synthetic.py`, "
      f"top-1 {features['eval']['top1']:.3f} on real clips), not I3D, "
      "whose Kinetics weights cannot be downloaded here: the numbers "
      "compare models with each other and with the baseline, not with "
      "published FVDs. Lower FVD is better; a generator that models motion "
      "must beat the shuffled-frames baseline (ratio < 1). Conditional "
      "accuracy is the classifier's top-1 on clips generated for each "
      f"class (chance {1 / 8:.3f}).",
      "",
      "| model | FVD | FVD shuffled frames | ratio | cond. top-1 | "
      "real top-1 | shuffled top-1 | steps | train min |",
      "|---|---|---|---|---|---|---|---|---|",
  ]
  for name, (results, wall) in runs.items():
    lines.append(_row(name, results, wall))
  for name, _ in RUNS:
    if not any(n.startswith(name.split(" (")[0]) for n in runs):
      lines.append(f"| {name} | not measured | | | | | | | |")
  lines += [
      "",
      f"Real vs real ({int(split['clips_per_half'])} clips per half): FVD "
      f"{split['real_halves']:.2f}; real vs the other half with shuffled "
      f"frames: {split['shuffled_halves']:.2f}.",
      "",
  ]
  lines += [f"- {n}" for n in args.notes]
  lines.append(END)
  return "\n".join(lines)


def write_readme(text: str, readme: pathlib.Path) -> None:
  old = readme.read_text()
  if START in old and END in old:
    new = old[:old.index(START)] + text + old[old.index(END) + len(END):]
  else:
    new = old.rstrip("\n") + "\n\n" + text + "\n"
  readme.write_text(new)


def _table_from_results(args) -> None:
  """The table from finished runs' results.json (and the saved split)."""
  work = pathlib.Path(args.workdir)
  load = lambda d: json.loads((work / d / "results.json").read_text())  # noqa: E731
  features = load("fvd_features")
  runs = {}
  for name, d in RUNS:
    if (work / d / "results.json").exists():
      r = load(d)
      runs[name] = (r, r["train_time_s"])
  split_file = work / "real_split.json"
  if split_file.exists():
    split = json.loads(split_file.read_text())
  else:
    from absl import flags  # pylint: disable=g-import-not-at-top
    flags.FLAGS.mark_as_parsed()
    c = _config("gan_synthetic", f"features={work / 'fvd_features'}")
    split = real_split(str(work / "fvd_features"), c)
    split_file.write_text(json.dumps(split))
  text = table(features, split, runs, args)
  print(text)
  if not args.no_readme:
    write_readme(text, pathlib.Path(args.readme))


RUNS = (("GAN (hinge + R1, EMA)", "gan_synthetic"),
        ("diffusion (v-pred, DDIM, CFG 2)", "diffusion_synthetic"))


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--workdir", default="/tmp/vidjax_generation")
  parser.add_argument("--feature-steps", type=int, default=300)
  parser.add_argument("--gan-steps", type=int, default=600)
  parser.add_argument("--diffusion-steps", type=int, default=600)
  parser.add_argument("--variant", default="small",
                      help="model variant of the GAN and the U-Net")
  parser.add_argument("--batch-size", type=int, default=32)
  parser.add_argument("--sample-steps", type=int, default=25,
                      help="DDIM steps of the diffusion model's samples")
  parser.add_argument("--note", dest="notes", action="append", default=[],
                      help="a line to add under the table (diagnosis)")
  parser.add_argument("--readme", default=str(REPO / "README.md"))
  parser.add_argument("--no-readme", action="store_true")
  parser.add_argument("--from-results", action="store_true",
                      help="only rebuild the table from the results.json "
                      "of finished runs in --workdir (no training)")
  args = parser.parse_args()
  if args.from_results:
    _table_from_results(args)
    return
  from absl import flags  # pylint: disable=g-import-not-at-top
  flags.FLAGS.mark_as_parsed()  # grain workers read absl flags

  work = pathlib.Path(args.workdir)
  features_dir = str(work / "fvd_features")
  c = _config("fvd_features_synthetic", f"steps={args.feature_steps}")
  c.logging.progress_bar = False
  t0 = time.perf_counter()
  features = _train(c, features_dir)
  features_wall = time.perf_counter() - t0

  runs = {}
  for name, config_name, arg, steps in (
      ("GAN (hinge + R1, EMA)", "gan_synthetic", "", args.gan_steps),
      (f"diffusion (v-pred, DDIM {args.sample_steps}, CFG 2)",
       "diffusion_synthetic", "", args.diffusion_steps)):
    c = _config(config_name,
                f"steps={steps},features={features_dir}{arg}")
    c.model.variant = args.variant
    if config_name == "diffusion_synthetic":
      c.task.sample_steps = args.sample_steps
    c.train.batch_size = args.batch_size
    c.logging.progress_bar = False
    t0 = time.perf_counter()
    results = _train(c, str(work / config_name))
    runs[name] = (results, time.perf_counter() - t0)

  split = real_split(features_dir, c)
  (work / "real_split.json").write_text(json.dumps(split))
  text = table(features, split, runs, args)
  print(text)
  summary = {"features": features["eval"], "features_wall_s": features_wall,
             "real_split": split,
             "runs": {k: {"eval": r["eval"], "wall_s": w}
                      for k, (r, w) in runs.items()}}
  (work / "generation_table.json").write_text(json.dumps(summary, indent=2))
  if not args.no_readme:
    write_readme(text, pathlib.Path(args.readme))


if __name__ == "__main__":
  main()
