"""Samples a trained video generator into a video grid and a GIF.

  python -m vidjax.generate --checkpoint WORKDIR --num 16 --label MoveLeft \
      --output grid.mp4
  python -m vidjax.generate --checkpoint WORKDIR --prompt "shapes move up" \
      --output grid.mp4 --steps 50 --guidance 3

WORKDIR is the folder a `launch.py` run of a generation config (task `gan`
or `diffusion`) trained in; its `config.json` describes the model unless
--config names the config file (with an optional ':variant'). Without
--label or --prompt the clips cycle through the classes. --prompt needs a
text-conditioned diffusion model; words it never saw in training are
reported. The grid is written as an H.264 mp4 and a GIF beside it (same
name, .gif, or --gif), each written to a temporary file first and renamed,
so no half-written output is left behind.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import sys
import tempfile
from typing import Sequence

import numpy as np


def load_config(checkpoint: str, config_arg: str | None):
  """The run's config: --config file[:arg], else WORKDIR/config.json."""
  import ml_collections  # pylint: disable=g-import-not-at-top
  if config_arg:
    path, _, arg = config_arg.partition(":")
    spec = importlib.util.spec_from_file_location("generate_config", path)
    if spec is None:
      raise FileNotFoundError(f"--config {path}: no such config file")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config(arg or None)
  path = os.path.join(checkpoint, "config.json")
  if not os.path.isfile(path):
    raise FileNotFoundError(f"{path} not found: pass the training workdir "
                            "as --checkpoint, or name --config")
  with open(path) as f:
    return ml_collections.ConfigDict(json.load(f))


def video_grid(clips: np.ndarray, columns: int | None = None,
               scale: int = 1, pad: int = 2) -> np.ndarray:
  """uint8 frames [T, H', W', 3] tiling clips [N, T, H, W, 3] in [0, 1].

  Row-major: clip i is in row i // columns, column i % columns; `pad`
  pixels of white between and around the clips; sizes rounded up to even
  numbers (H.264 in yuv420p needs them).
  """
  clips = np.asarray(clips, np.float32)
  n, t, h, w, _ = clips.shape
  columns = columns or math.ceil(math.sqrt(n))
  rows = math.ceil(n / columns)
  if scale > 1:
    clips = clips.repeat(scale, axis=2).repeat(scale, axis=3)
    h, w = h * scale, w * scale
  height = rows * (h + pad) + pad
  width = columns * (w + pad) + pad
  grid = np.ones((t, height + height % 2, width + width % 2, 3), np.float32)
  for i in range(n):
    r, c = divmod(i, columns)
    y, x = pad + r * (h + pad), pad + c * (w + pad)
    grid[:, y:y + h, x:x + w] = clips[i]
  return (np.clip(grid, 0, 1) * 255).round().astype(np.uint8)


def _atomic_write(path: str, write) -> None:
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  suffix = os.path.splitext(path)[1]
  fd, tmp = tempfile.mkstemp(prefix=".partial-", suffix=suffix,
                             dir=directory)
  os.close(fd)
  try:
    write(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it owner-only
    os.replace(tmp, path)
  except BaseException:
    if os.path.exists(tmp):
      os.remove(tmp)
    raise


def write_mp4(path: str, frames: np.ndarray, fps: int) -> None:
  from vidjax.data import synthetic  # pylint: disable=g-import-not-at-top
  _atomic_write(path, lambda p: synthetic.write_video(p, frames, fps))


def write_gif(path: str, frames: np.ndarray, fps: int) -> None:
  from PIL import Image  # pylint: disable=g-import-not-at-top
  images = [Image.fromarray(f) for f in frames]
  _atomic_write(path, lambda p: images[0].save(
      p, format="GIF", save_all=True, append_images=images[1:],
      duration=max(1, round(1000 / fps)), loop=0))


def _parse_label(text: str, class_names: Sequence[str]) -> int:
  if text in class_names:
    return list(class_names).index(text)
  if text.isdigit() and int(text) < len(class_names):
    return int(text)
  raise ValueError(f"--label {text!r} is not a class; choose one of "
                   f"{', '.join(class_names)} (or an index)")


def generate(checkpoint: str, *, num: int = 16, label: str | None = None,
             prompt: str | None = None, config_arg: str | None = None,
             steps: int | None = None, guidance: float | None = None,
             seed: int = 0) -> tuple[np.ndarray, dict]:
  """Clips [num, T, H, W, 3] in [0, 1] and a description of what was asked."""
  # pylint: disable=g-import-not-at-top
  import jax
  import jax.numpy as jnp
  from vidjax import tasks
  from vidjax.data import pipeline
  from vidjax.train import checkpoint as checkpoint_lib
  from vidjax.train.state import TrainState
  # pylint: enable=g-import-not-at-top
  checkpoint = os.path.abspath(os.path.expanduser(checkpoint))
  config = load_config(checkpoint, config_arg)
  if config.task.name not in ("gan", "diffusion"):
    raise ValueError(f"{checkpoint} trained task {config.task.name!r}; "
                     "vidjax.generate samples 'gan' or 'diffusion' runs")
  with config.unlocked():
    config.task.feature_network = ""  # sampling needs no FVD network
  info = pipeline.dataset_info(*pipeline.load_sources(config))
  task = tasks.get_task_class(config.task.name)(config, info, 1)
  step, saved = checkpoint_lib.load_state(
      os.path.join(checkpoint, "checkpoints"))
  state = TrainState(step=saved["step"], params=saved["params"],
                     opt_state=None, model_state=saved.get("model_state"),
                     ema_params=saved.get("ema_params") or None)

  names = info.class_names
  tokens = None
  if prompt is not None:
    if config.task.get("condition") != "text":
      raise ValueError("--prompt needs a text-conditioned diffusion model "
                       "(configs/generation/diffusion_synthetic.py:text); "
                       "this one is conditioned on "
                       f"{config.task.get('condition', 'class labels')!r}")
    unknown = task.tokenizer.unknown_words(prompt)
    if unknown:
      print(f"warning: words not in the training prompts: {unknown}; "
            f"known words: {' '.join(task.tokenizer.vocabulary[2:])}",
            file=sys.stderr)
    tokens = jnp.asarray(np.tile(task.tokenizer.encode(prompt), (num, 1)))
  if label is not None:
    labels = np.full((num,), _parse_label(label, names), np.int32)
  else:
    labels = np.arange(num, dtype=np.int32) % len(names)
  kwargs = {}
  if config.task.name == "diffusion":
    kwargs = dict(tokens=tokens, steps=steps, guidance_scale=guidance)
  elif steps is not None or guidance is not None or prompt is not None:
    raise ValueError("--steps, --guidance and --prompt apply to diffusion "
                     "models; this is a GAN")
  sample = jax.jit(lambda p, key, l: task.sample(p, key, l, **kwargs))
  clips = sample(task.sample_params(state), jax.random.key(seed),
                 jnp.asarray(labels))
  about = {"task": config.task.name, "step": int(step),
           "labels": [names[i] for i in labels] if prompt is None else None,
           "prompt": prompt}
  return np.asarray(jax.device_get(clips)), about


def main(argv: Sequence[str] | None = None) -> int:
  parser = argparse.ArgumentParser(
      prog="python -m vidjax.generate", description=__doc__.split("\n")[0],
      formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--checkpoint", required=True,
                      help="workdir of a gan or diffusion training run")
  parser.add_argument("--config", default=None,
                      help="config file[:variant] (default: the workdir's "
                      "config.json)")
  parser.add_argument("--num", type=int, default=16, help="clips to make")
  group = parser.add_mutually_exclusive_group()
  group.add_argument("--label", default=None,
                     help="class name or index for every clip")
  group.add_argument("--prompt", default=None,
                     help="text prompt (text-conditioned diffusion)")
  parser.add_argument("--output", required=True, help="the grid's .mp4")
  parser.add_argument("--gif", default=None,
                      help="the grid's GIF (default: --output with .gif)")
  parser.add_argument("--steps", type=int, default=None,
                      help="DDIM steps (diffusion; default: the config's)")
  parser.add_argument("--guidance", type=float, default=None,
                      help="classifier-free guidance scale (diffusion)")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--fps", type=int, default=8)
  parser.add_argument("--scale", type=int, default=4,
                      help="pixel repetition of each clip in the grid")
  args = parser.parse_args(argv)
  if args.num < 1:
    parser.error("--num must be at least 1")
  try:
    clips, about = generate(args.checkpoint, num=args.num, label=args.label,
                            prompt=args.prompt, config_arg=args.config,
                            steps=args.steps, guidance=args.guidance,
                            seed=args.seed)
  except (ValueError, FileNotFoundError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  frames = video_grid(clips, scale=args.scale)
  gif = args.gif or os.path.splitext(args.output)[0] + ".gif"
  write_mp4(args.output, frames, args.fps)
  write_gif(gif, frames, args.fps)
  print(f"wrote {args.output} and {gif}: {len(clips)} clips of "
        f"{clips.shape[1]} frames from {about['task']} step {about['step']}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
