"""Few-label transfer table: random init vs self-supervised pretraining.

  python scripts/ssl_table.py --out /tmp/vidjax_ssl_table [--readme README.md]

On the synthetic motion videos (with an unlabeled pool), this script runs
  1. pretraining of the same VideoMAE ViT encoder (tiny) with masked video
     autoencoding, contrastive InfoNCE and frame-order prediction, on the
     training split + unlabeled pool, action labels unused; and image
     pretraining of its 1-frame version on single frames (object shape and
     count, configs/pretraining/image_synthetic.py), inflated to tubelets;
  2. for random init and each pretrained encoder: the frozen-feature linear
     probe and k-NN accuracy (vidjax.train.representation.evaluate_frozen)
     with `--labels_per_class` labeled training videos per class, and a
     full fine-tune on those same few labels;
  3. multi-task (action + shape + count + motion axis, uncertainty
     weighting) vs single-task (action only) training from random init, on
     the same few labels and budget.
It writes results.json and table.md under --out and, with --readme,
replaces the README section between the SSL_TABLE markers. Every number
comes from the runs it performs; runs already finished in --out are reused.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from absl import app  # noqa: E402  pylint: disable=g-import-not-at-top
from absl import flags  # noqa: E402
from absl import logging  # noqa: E402

_OUT = flags.DEFINE_string("out", "/tmp/vidjax_ssl_table", "output folder")
_README = flags.DEFINE_string("readme", "", "README to update (optional)")
_LABELS = flags.DEFINE_integer("labels_per_class", 10,
                               "labeled training videos per class")
_PRETRAIN_STEPS = flags.DEFINE_integer("pretrain_steps", 300,
                                       "steps of each pretraining run")
_FINETUNE_STEPS = flags.DEFINE_integer("finetune_steps", 150,
                                       "steps of each fine-tuning run")
_TINY = flags.DEFINE_bool("tiny", False, "a seconds-long smoke run")
_SKIP = flags.DEFINE_list(
    "skip", [], "pretraining runs to leave out (videomae, contrastive, "
    "frame_order, image): reported as not run")

BEGIN = "<!-- SSL_TABLE:BEGIN -->"
END = "<!-- SSL_TABLE:END -->"


def _load(path: Path, arg: str = ""):
  import importlib.util  # pylint: disable=g-import-not-at-top
  spec = importlib.util.spec_from_file_location(f"cfg_{path.stem}", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(arg)


def _shared(c, tiny: bool) -> None:
  """The data and budget every run of the table shares."""
  if tiny:
    from configs import common  # pylint: disable=g-import-not-at-top
    common.apply_tiny(c)
    c.data.synthetic.unlabeled_per_class = 2
  else:
    c.data.synthetic.update(clips_per_class=32, size=32,
                            unlabeled_per_class=48, progress=False)
    c.data.update(num_frames=8, stride=2, image_size=32, num_workers=0)
    c.eval.update(batch_size=32, every_steps=0)
    c.checkpoint.every_steps = 0
  c.logging.progress_bar = False
  c.logging.tensorboard = False


def pretrain_config(name: str, steps: int, tiny: bool):
  c = _load(REPO / "configs" / "pretraining" / f"{name}_synthetic.py")
  _shared(c, tiny)
  c.train.num_steps = steps
  c.train.log_every = max(1, steps // 10)
  c.optimizer.warmup_steps = max(1, steps // 10)
  if "representation" in c.eval:  # not the image network's (see below)
    c.eval.representation.per_class = _LABELS.value
  return c


def image_config(steps: int, tiny: bool):
  """Image pretraining: same budget, single frames instead of clips."""
  c = pretrain_config("image", steps, tiny)
  c.data.update(num_frames=1, stride=1)
  return c


def finetune_config(steps: int, tiny: bool, multitask: bool = False,
                    init_from: str = ""):
  if multitask:
    c = _load(REPO / "configs" / "multitask" / "videomae_synthetic.py",
              "uncertainty")
  else:
    c = _load(REPO / "configs" / "classification" / "videomae_synthetic.py")
  _shared(c, tiny)
  c.data.train_per_class = _LABELS.value if not tiny else 0
  c.train.update(num_steps=steps, num_epochs=0.0,
                 batch_size=8 if tiny else 16, log_every=max(1, steps // 10))
  c.optimizer.warmup_steps = max(1, steps // 10)
  # The pretraining workdir: its encoder (`backbone`, and `fc_norm` where
  # the pretext model has one) is loaded by name, the head is new.
  c.init_from = init_from
  return c


def _train(config, workdir: Path) -> dict:
  from vidjax.train import trainer  # pylint: disable=g-import-not-at-top
  done = workdir / "results.json"
  if done.exists():
    return json.loads(done.read_text())
  t0 = time.time()
  results = trainer.train_and_evaluate(config, str(workdir))
  results["wall_s"] = time.time() - t0
  done.write_text(json.dumps(results, indent=2, default=str))
  return results


def random_init_representation(tiny: bool) -> dict:
  """Frozen-feature accuracy of the untrained encoder (same seed)."""
  import jax  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  from vidjax.data import pipeline  # pylint: disable=g-import-not-at-top
  from vidjax.tasks import frame_order  # pylint: disable=g-import-not-at-top
  from vidjax.train import representation  # pylint: disable=g-import-not-at-top
  config = pretrain_config("frame_order", 1, tiny)
  train, test = pipeline.load_sources(config)
  task = frame_order.Task(config, pipeline.dataset_info(train, test), 1)
  example = pipeline.example_element(config, train)
  state = task.init_state(jax.random.key(config.seed),
                          {"video": np.asarray(example["video"])[None]})
  return representation.evaluate_frozen(config, task.features, state.params,
                                        state.model_state)


def inflated_representation(image_dir: Path, tiny: bool) -> dict:
  """Frozen-feature accuracy of the video encoder (8-frame clips) inflated
  from the image-pretrained one, before any video training: the same
  evaluation as the pretext runs' and random init's."""
  import jax  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  from vidjax.data import pipeline  # pylint: disable=g-import-not-at-top
  from vidjax.tasks import frame_order  # pylint: disable=g-import-not-at-top
  from vidjax.train import representation  # pylint: disable=g-import-not-at-top
  config = pretrain_config("frame_order", 1, tiny)
  config.init_from = str(image_dir)
  train, test = pipeline.load_sources(config)
  task = frame_order.Task(config, pipeline.dataset_info(train, test), 1)
  example = pipeline.example_element(config, train)
  spec = {"video": np.asarray(example["video"])[None]}
  state = task.init_state(jax.random.key(config.seed), spec)
  state = task.load_pretrained(state, spec)
  return representation.evaluate_frozen(config, task.features, state.params,
                                        state.model_state)


def main(argv):
  del argv
  out = Path(_OUT.value)
  out.mkdir(parents=True, exist_ok=True)
  os.environ.setdefault("VIDJAX_CACHE", str(out / "cache"))
  tiny = _TINY.value
  p_steps = 2 if tiny else _PRETRAIN_STEPS.value
  f_steps = 2 if tiny else _FINETUNE_STEPS.value
  rows = {}
  runs = []  # every training run's results, for the total time
  t_start = time.time()

  cached = out / "random_init_probe.json"
  if cached.exists():
    rep = json.loads(cached.read_text())
  else:
    rep = random_init_representation(tiny)
    cached.write_text(json.dumps(rep))
  ft = _train(finetune_config(f_steps, tiny), out / "finetune_random")
  runs.append(ft)
  rows["random init"] = dict(probe=rep, finetune=ft["eval"]["top1"],
                             pretrain_s=0.0, finetune_s=ft["wall_s"])
  for name, label in (("videomae", "VideoMAE (masked video)"),
                      ("contrastive", "contrastive (InfoNCE)"),
                      ("frame_order", "frame order (shuffle)")):
    if name in _SKIP.value:
      rows[label] = None
      continue
    pre = _train(pretrain_config(name, p_steps, tiny), out / f"pre_{name}")
    ft = _train(finetune_config(f_steps, tiny,
                                init_from=str(out / f"pre_{name}")),
                out / f"finetune_{name}")
    runs += [pre, ft]
    rows[label] = dict(probe=pre["representation"],
                       finetune=ft["eval"]["top1"], pretrain_s=pre["wall_s"],
                       finetune_s=ft["wall_s"],
                       pretext=pre["eval"])
  label = "inflated image network (frame shape + count)"
  if "image" in _SKIP.value:
    rows[label] = None
  else:
    pre = _train(image_config(p_steps, tiny), out / "pre_image")
    cached = out / "inflated_probe.json"
    if cached.exists():
      rep = json.loads(cached.read_text())
    else:
      rep = inflated_representation(out / "pre_image", tiny)
      cached.write_text(json.dumps(rep))
    ft = _train(finetune_config(f_steps, tiny,
                                init_from=str(out / "pre_image")),
                out / "finetune_image")
    runs += [pre, ft]
    rows[label] = dict(probe=rep, finetune=ft["eval"]["top1"],
                       pretrain_s=pre["wall_s"], finetune_s=ft["wall_s"],
                       pretext=pre["eval"])
  mt = _train(finetune_config(f_steps, tiny, multitask=True),
              out / "multitask")
  runs.append(mt)
  multitask = dict(top1=mt["eval"]["top1"], wall_s=mt["wall_s"],
                   per_task={k: v for k, v in mt["eval"].items()
                             if k.startswith("top1_")})
  budget = dict(
      labels_per_class=_LABELS.value, pretrain_steps=p_steps,
      pretrain_batch=pretrain_config("videomae", 1, tiny).train.batch_size,
      finetune_steps=f_steps,
      finetune_batch=finetune_config(1, tiny).train.batch_size,
      clip="8 frames (stride 2), 32x32 px" if not tiny else "tiny",
      model="VideoMAE ViT tiny (width 64, 2 blocks, tubelets 2x4x4)",
      # The runs' own times, also when finished runs are reused.
      total_wall_s=sum(r["wall_s"] for r in runs) + (time.time() - t_start
                                                     if not runs else 0.0))
  command = (f"python scripts/ssl_table.py --pretrain_steps {p_steps} "
             f"--finetune_steps {f_steps} --labels_per_class "
             f"{_LABELS.value}"
             + (f" --skip {','.join(_SKIP.value)}" if _SKIP.value else ""))
  results = dict(rows=rows, multitask=multitask, budget=budget,
                 command=command)
  (out / "results.json").write_text(json.dumps(results, indent=2,
                                               default=str))
  table = render(results)
  (out / "table.md").write_text(table)
  print(table)
  if _README.value:
    readme = Path(_README.value)
    text = readme.read_text()
    if BEGIN in text and END in text:
      head, rest = text.split(BEGIN, 1)
      text = head + BEGIN + "\n" + table + END + rest.split(END, 1)[1]
    else:
      text += f"\n{BEGIN}\n{table}{END}\n"
    readme.write_text(text)


def pretext_summary(metrics: dict | None) -> str:
  """How far the pretext task got, against its trivial solution."""
  if not metrics:
    return "-"
  if "positive_top1" in metrics:
    return (f"finds the other clip of its video {metrics['positive_top1']:.2f}"
            " of the time (chance < 0.01)")
  if "top1_shape" in metrics and "top1_count" in metrics:
    from vidjax.data import synthetic  # pylint: disable=g-import-not-at-top
    return (f"single frames: shape top-1 {metrics['top1_shape']:.2f} "
            f"(chance {1 / len(synthetic.SHAPES):.2f}), count "
            f"{metrics['top1_count']:.2f} (chance 0.33)")
  if "accuracy" in metrics:
    return f"ordered vs shuffled accuracy {metrics['accuracy']:.2f} (chance 0.5)"
  # Targets are standardized per patch and channel with the unbiased
  # variance over its n pixels: predicting the patch mean scores (n-1)/n.
  from vidjax.models import videomae  # pylint: disable=g-import-not-at-top
  n = math.prod(videomae.VARIANTS["tiny"]["patch_size"])
  return (f"masked-pixel MSE {metrics['loss']:.3f} (patch-mean predictor: "
          f"{(n - 1) / n:.3f})")


def render(results: dict) -> str:
  b = results["budget"]
  lines = [
      f"Synthetic motion data, {b['labels_per_class']} labeled videos per "
      "class (80 in all), test split of 64 videos; one seed, so differences "
      "of a few points are noise. Encoder: "
      f"{b['model']}; clips {b['clip']}. Pretraining: {b['pretrain_steps']} "
      f"steps of batch {b['pretrain_batch']} on the training split + "
      "unlabeled pool (576 videos, action labels unused; the image network "
      "sees single frames of them with the generator's shape and count "
      "labels, and is inflated to tubelets). Fine-tuning: "
      f"{b['finetune_steps']} steps of batch {b['finetune_batch']}, all "
      "weights trained. Total wall time "
      f"{b['total_wall_s'] / 60:.0f} min of training runs on a shared "
      "2-core CPU (`" + results.get("command", "") + "`).",
      "",
      "| encoder init | pretext result (test split) | linear probe top-1 | "
      "k-NN top-1 | fine-tune top-1 |",
      "|---|---|---|---|---|",
  ]
  for name, r in results["rows"].items():
    if r is None:
      lines.append(f"| {name} | not run within this budget | | | |")
      continue
    lines.append(f"| {name} | {pretext_summary(r.get('pretext'))} | "
                 f"{r['probe']['linear_top1']:.3f} | "
                 f"{r['probe']['knn_top1']:.3f} | {r['finetune']:.3f} |")
  mt = results["multitask"]
  single = results["rows"]["random init"]["finetune"]
  per = ", ".join(f"{k[5:]} {v:.3f}" for k, v in sorted(mt["per_task"].items()))
  lines += [
      "",
      "| training (random init, same labels and budget) | action top-1 |",
      "|---|---|",
      f"| single-task (action) | {single:.3f} |",
      f"| multi-task, uncertainty weighting ({per}) | {mt['top1']:.3f} |",
      "",
  ]
  return "\n".join(lines) + "\n"


if __name__ == "__main__":
  app.run(main)
