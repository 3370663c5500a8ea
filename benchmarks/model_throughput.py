"""Training and inference clips/s of each model family; vidjax vs PyTorch.

  # every family at its paper size (GPU; on a CPU use --variant tiny)
  python benchmarks/model_throughput.py --batch 8 --out /tmp/throughput.json
  # ViViT-B and VideoMAE ViT-B in bf16 against Hugging Face PyTorch
  # (torch.compile), with model FLOPs utilization against the card's peak
  python benchmarks/model_throughput.py --compare_hf --families vivit,videomae \
      --dtype bfloat16 --batch 32 --peak_tflops 989

Per family: a jitted training step (forward, backward, AdamW update,
parameters donated) and a jitted inference forward on random clips, timed
after warm-up with `block_until_ready`. Model FLOPs per clip come from XLA's
cost analysis of the compiled inference forward; training FLOPs are taken
as 3x those (forward + backward), the usual MFU convention. MFU = achieved
training FLOP/s / --peak_tflops (H100 SXM dense bf16: 989 TFLOP/s).

With --compare_hf, the same batch and clip go through transformers'
VivitForVideoClassification / VideoMAEForVideoClassification in bf16
autocast, compiled with torch.compile, trained with torch.optim.AdamW; the
ratio vidjax / PyTorch clips/s is reported. Nothing is downloaded: both sides
are randomly initialised.
"""

from __future__ import annotations

import argparse
import functools
import json
import pathlib
import platform
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# family -> (paper variant, frames, image size) as in the papers' K400 runs.
PAPER = {
    "tsn": ("50", 8, 224), "lrcn": ("18", 16, 224), "c3d": ("paper", 16, 112),
    "r3d": ("18", 16, 112), "r2plus1d": ("18", 16, 112),
    "i3d": ("50", 8, 224), "slowfast": ("R50", 32, 224),
    "vivit": ("B", 32, 224), "timesformer": ("B", 8, 224),
    "videomae": ("B", 16, 224),
}
HF_CLASSES = {"vivit": "VivitForVideoClassification",
              "videomae": "VideoMAEForVideoClassification"}
NUM_CLASSES = 400


def _time(fn, warmup: int, iters: int) -> float:
  """Seconds per call of fn() (which blocks until its result is ready)."""
  for _ in range(warmup):
    fn()
  start = time.perf_counter()
  for _ in range(iters):
    fn()
  return (time.perf_counter() - start) / iters


def bench_vidjax(family: str, variant: str, frames: int, size: int,
                 batch: int, dtype: str, warmup: int, iters: int) -> dict:
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  import ml_collections  # pylint: disable=g-import-not-at-top
  import optax  # pylint: disable=g-import-not-at-top
  from vidjax import models  # pylint: disable=g-import-not-at-top
  fields = dict(name=family, variant=variant, dtype=dtype)
  if family == "vivit":
    fields["attention"] = "joint"  # ViViT model 1, as Hugging Face's
  model = models.build(ml_collections.ConfigDict(fields),
                       num_classes=NUM_CLASSES)
  key = jax.random.key(0)
  video = jax.random.uniform(key, (batch, frames, size, size, 3))
  labels = jnp.zeros((batch,), jnp.int32)
  variables = jax.jit(model.init)(key, video[:1])
  params = variables["params"]
  others = {k: v for k, v in variables.items() if k != "params"}
  tx = optax.adamw(1e-4)
  opt_state = tx.init(params)

  def loss_fn(p, others, x, y, rng):
    logits, updates = model.apply({"params": p, **others}, x, train=True,
                                  mutable=list(others),
                                  rngs={"dropout": rng})
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    return loss, updates

  @functools.partial(jax.jit, donate_argnums=(0, 1, 2))
  def train_step(p, o, others, x, y, rng):
    (loss, updates), grads = jax.value_and_grad(loss_fn, has_aux=True)(
        p, others, x, y, rng)
    upd, o = tx.update(grads, o, p)
    return optax.apply_updates(p, upd), o, {**others, **updates}, loss

  infer = jax.jit(lambda v, x: model.apply(v, x, train=False))
  cost = infer.lower(variables, video).compile().cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  flops_per_clip = float(cost["flops"]) / batch

  state = [params, opt_state, others]

  def train_once():
    p, o, oth, loss = train_step(*state, video, labels, key)
    state[:] = [p, o, oth]
    loss.block_until_ready()

  train_s = _time(train_once, warmup, iters)
  infer_s = _time(lambda: infer({"params": state[0], **state[2]},
                                video).block_until_ready(), warmup, iters)
  return dict(family=family, variant=variant, frames=frames, size=size,
              batch=batch, dtype=dtype,
              params=int(sum(x.size for x in jax.tree.leaves(params))),
              gflops_per_clip=flops_per_clip / 1e9,
              train_clips_per_sec=batch / train_s,
              infer_clips_per_sec=batch / infer_s,
              train_tflops_per_sec=3 * flops_per_clip * batch / train_s / 1e12)


def bench_hf(family: str, frames: int, size: int, batch: int, dtype: str,
             warmup: int, iters: int) -> dict:
  """The Hugging Face PyTorch model of `family` at ViT-B size."""
  import torch  # pylint: disable=g-import-not-at-top
  import transformers  # pylint: disable=g-import-not-at-top
  device = "cuda" if torch.cuda.is_available() else "cpu"
  common = dict(image_size=size, num_frames=frames, hidden_size=768,
                num_hidden_layers=12, num_attention_heads=12,
                intermediate_size=3072, num_labels=NUM_CLASSES)
  if family == "vivit":
    config = transformers.VivitConfig(tubelet_size=[2, 16, 16], **common)
  else:
    config = transformers.VideoMAEConfig(patch_size=16, tubelet_size=2,
                                         **common)
  model = getattr(transformers, HF_CLASSES[family])(config).to(device)
  model.train()
  compiled = torch.compile(model)
  optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=
                                device == "cuda")
  x = torch.rand(batch, frames, 3, size, size, device=device)
  y = torch.zeros(batch, dtype=torch.long, device=device)
  amp = dict(device_type=device, dtype=torch.bfloat16,
             enabled=dtype == "bfloat16")

  def sync():
    if device == "cuda":
      torch.cuda.synchronize()

  def train_once():
    with torch.autocast(**amp):
      loss = torch.nn.functional.cross_entropy(
          compiled(pixel_values=x).logits, y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    sync()

  def infer_once():
    with torch.no_grad(), torch.autocast(**amp):
      compiled(pixel_values=x)
    sync()

  train_s = _time(train_once, warmup, iters)
  model.eval()
  infer_s = _time(infer_once, warmup, iters)
  return dict(train_clips_per_sec=batch / train_s,
              infer_clips_per_sec=batch / infer_s, device=device,
              torch=torch.__version__)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--families", default=",".join(PAPER))
  parser.add_argument("--variant", default="",
                      help="override every family's variant (tiny on CPU)")
  parser.add_argument("--frames", type=int, default=0,
                      help="override the clip length")
  parser.add_argument("--size", type=int, default=0,
                      help="override the image size")
  parser.add_argument("--batch", type=int, default=8)
  parser.add_argument("--dtype", default="bfloat16",
                      choices=("float32", "bfloat16"))
  parser.add_argument("--warmup", type=int, default=3)
  parser.add_argument("--iters", type=int, default=10)
  parser.add_argument("--compare_hf", action="store_true")
  parser.add_argument("--peak_tflops", type=float, default=0.0,
                      help="the device's dense peak for MFU (H100 SXM "
                      "bf16: 989)")
  parser.add_argument("--out", default="")
  args = parser.parse_args()
  import jax  # pylint: disable=g-import-not-at-top
  machine = dict(backend=jax.default_backend(),
                 device=str(jax.devices()[0].device_kind),
                 host=platform.node(), jax=jax.__version__)
  print(json.dumps(machine), flush=True)
  rows = []
  for family in args.families.split(","):
    variant, frames, size = PAPER[family]
    variant = args.variant or variant
    frames, size = args.frames or frames, args.size or size
    row = bench_vidjax(family, variant, frames, size, args.batch, args.dtype,
                       args.warmup, args.iters)
    if args.peak_tflops:
      row["mfu"] = row["train_tflops_per_sec"] / args.peak_tflops
    if args.compare_hf and family in HF_CLASSES:
      hf = bench_hf(family, frames, size, args.batch, args.dtype,
                    args.warmup, args.iters)
      row["hf"] = hf
      row["train_ratio_vs_hf"] = (row["train_clips_per_sec"] /
                                  hf["train_clips_per_sec"])
      row["infer_ratio_vs_hf"] = (row["infer_clips_per_sec"] /
                                  hf["infer_clips_per_sec"])
    rows.append(row)
    print(json.dumps(row), flush=True)
  if args.out:
    with open(args.out, "w") as f:
      json.dump(dict(machine=machine, args=vars(args), rows=rows), f,
                indent=2)


if __name__ == "__main__":
  main()
