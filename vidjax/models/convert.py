"""Converts PyTorch checkpoints into vidjax parameters (nothing is downloaded).

  python -m vidjax.models.convert --from hf --model videomae \
      --src /path/to/hf_model_dir --dst /tmp/videomae_vidjax
  python -m vidjax.models.convert --from torchvision --model r2plus1d_18 \
      --src r2plus1d_18-91a641e6.pth --dst /tmp/r2plus1d_vidjax

Sources:
  hf: a Hugging Face transformers folder (config.json plus model.safetensors
    or pytorch_model.bin) of VideoMAE, ViViT or TimeSformer, for video
    classification or the bare model (`--model videomae|vivit|timesformer`).
    Pre-training checkpoints (VideoMAEForPreTraining) give the encoder.
  torchvision: a state_dict file (.pth/.pt/.bin or .safetensors) of
    r3d_18, mc3_18, r2plus1d_18 (video) or resnet18/50 (ImageNet; into
    TSN's backbone, from which I3D inflates). torchvision's s3d, swin3d_* and
    mvit_v2_* have no family in vidjax and are refused with that reason.

`--dst` receives an Orbax checkpoint of {"params", "batch_stats"?} under
`variables/` and `vidjax_model.json`: the vidjax model config (name and
fields) the weights belong to, and the clip size and class count they were
trained with. Name `--dst` in `config.init_from` to start training from it;
`config.model` must describe the same architecture (the converter prints the
fields to use).

Every converter checks that each vidjax parameter receives exactly one
source tensor of the right shape and that no source tensor is left over,
so a renamed or missing weight is an error, not a silent random init.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any, Callable

import numpy as np

META_FILE = "vidjax_model.json"
VARIABLES_DIR = "variables"

HF_MODELS = ("videomae", "vivit", "timesformer")
TORCHVISION_VIDEO = {"r3d_18": ("r3d", "18"), "mc3_18": ("r3d", "mc3_18"),
                     "r2plus1d_18": ("r2plus1d", "18")}
TORCHVISION_IMAGE = {"resnet18": "18", "resnet50": "50"}
TORCHVISION_MISSING = ("s3d", "swin3d_t", "swin3d_s", "swin3d_b", "mvit_v1_b",
                       "mvit_v2_s")

Flat = dict[tuple[str, ...], np.ndarray]


# -- reading -------------------------------------------------------------------

def load_state_dict(path: str) -> dict[str, np.ndarray]:
  """A PyTorch state_dict from .safetensors or a torch.save file, as numpy."""
  if os.path.isdir(path):
    for name in ("model.safetensors", "pytorch_model.bin"):
      if os.path.exists(os.path.join(path, name)):
        return load_state_dict(os.path.join(path, name))
    raise FileNotFoundError(f"{path} holds neither model.safetensors nor "
                            "pytorch_model.bin")
  if path.endswith(".safetensors"):
    from safetensors.numpy import load_file  # pylint: disable=g-import-not-at-top
    return dict(load_file(path))
  try:
    import torch  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise ImportError(f"reading {path} needs torch (pip install torch); "
                      ".safetensors files do not") from e
  obj = torch.load(path, map_location="cpu", weights_only=True)
  for key in ("state_dict", "model", "model_state"):
    if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
      obj = obj[key]
  return {k: v.detach().float().numpy() for k, v in obj.items()
          if hasattr(v, "detach")}


def load_hf_config(path: str) -> dict[str, Any]:
  folder = path if os.path.isdir(path) else os.path.dirname(path)
  config_path = os.path.join(folder, "config.json")
  if not os.path.exists(config_path):
    raise FileNotFoundError(f"no config.json beside {path}: a Hugging Face "
                            "model folder is expected")
  with open(config_path) as f:
    return json.load(f)


# -- tensor layouts ------------------------------------------------------------

def conv_nd(w: np.ndarray) -> np.ndarray:
  """torch [O, I, *k] -> flax [*k, I, O]; a 2D kernel gains a time axis of 1."""
  if w.ndim == 4:
    w = w[:, :, None]
  return np.transpose(w, (2, 3, 4, 1, 0))


def conv2d(w: np.ndarray) -> np.ndarray:
  """torch [O, I, kh, kw] (or [O, I, 1, kh, kw]) -> flax [kh, kw, I, O]."""
  if w.ndim == 5:
    w = w[:, :, 0]
  return np.transpose(w, (2, 3, 1, 0))


def linear(w: np.ndarray) -> np.ndarray:
  return np.transpose(w)


class _Mapper:
  """Collects flax leaves from named torch tensors, tracking what was used."""

  def __init__(self, state_dict: dict[str, np.ndarray]):
    self.sd = {k: np.asarray(v, np.float32) for k, v in state_dict.items()
               if not k.endswith("num_batches_tracked")}
    self.used: set[str] = set()
    self.out: Flat = {}

  def take(self, key: str) -> np.ndarray:
    if key not in self.sd:
      raise KeyError(f"the checkpoint has no tensor {key!r}")
    self.used.add(key)
    return self.sd[key]

  def has(self, key: str) -> bool:
    return key in self.sd

  def put(self, path: str, value: np.ndarray, collection: str = "params"):
    self.out[(collection,) + tuple(path.split("/"))] = value

  def linear(self, src: str, dst: str, bias: bool = True) -> None:
    self.put(f"{dst}/kernel", linear(self.take(f"{src}.weight")))
    if bias:
      self.put(f"{dst}/bias", self.take(f"{src}.bias"))

  def norm(self, src: str, dst: str) -> None:
    self.put(f"{dst}/scale", self.take(f"{src}.weight"))
    self.put(f"{dst}/bias", self.take(f"{src}.bias"))

  def batch_norm(self, src: str, dst: str) -> None:
    self.norm(src, dst)
    self.put(f"{dst}/mean", self.take(f"{src}.running_mean"), "batch_stats")
    self.put(f"{dst}/var", self.take(f"{src}.running_var"), "batch_stats")

  def attention(self, q: tuple[np.ndarray, np.ndarray | None],
                k: tuple[np.ndarray, np.ndarray | None],
                v: tuple[np.ndarray, np.ndarray | None],
                out: tuple[np.ndarray, np.ndarray], dst: str,
                num_heads: int) -> None:
    """torch [D, D] projections -> DenseGeneral kernels [D, H, d]/[H, d, D]."""
    d = q[0].shape[1]
    hd = d // num_heads
    for name, (w, b) in (("query", q), ("key", k), ("value", v)):
      self.put(f"{dst}/{name}/kernel", linear(w).reshape(d, num_heads, hd))
      if b is not None:
        self.put(f"{dst}/{name}/bias", b.reshape(num_heads, hd))
    self.put(f"{dst}/out/kernel", linear(out[0]).reshape(num_heads, hd, d))
    self.put(f"{dst}/out/bias", out[1])

  def leftover(self) -> list[str]:
    return sorted(set(self.sd) - self.used)


# -- Hugging Face ----------------------------------------------------------------

def _strip_prefix(sd: dict[str, np.ndarray], prefix: str):
  return {(k[len(prefix):] if k.startswith(prefix) else k): v
          for k, v in sd.items()}


def _check(cond: bool, message: str) -> None:
  if not cond:
    raise ValueError(message)


def _hf_vivit(sd, cfg):
  _check(cfg.get("hidden_act", "gelu_fast") in
         ("gelu_fast", "gelu_new", "gelu_pytorch_tanh"),
         f"vidjax's ViViT uses tanh-approximated GELU; this checkpoint uses "
         f"{cfg.get('hidden_act')!r}")
  _check(cfg.get("qkv_bias", True), "ViViT without qkv biases")
  _check(abs(cfg.get("layer_norm_eps", 1e-6) - 1e-6) < 1e-12,
         "ViViT with LayerNorm epsilon other than 1e-6")
  # Older checkpoints (and the hub's) use ViT's names; map them to the
  # current ones first.
  renames = [(r"^vivit\.encoder\.layer\.", "vivit.layers."),
             (r"attention\.attention\.query", "attention.q_proj"),
             (r"attention\.attention\.key", "attention.k_proj"),
             (r"attention\.attention\.value", "attention.v_proj"),
             (r"attention\.output\.dense", "attention.o_proj"),
             (r"\.intermediate\.dense", ".mlp.fc1"),
             (r"\.output\.dense", ".mlp.fc2")]
  renamed = {}
  for key, value in sd.items():
    for pattern, repl in renames:
      key = re.sub(pattern, repl, key)
    renamed[key] = value
  sd = _strip_prefix(renamed, "vivit.")
  m = _Mapper(sd)
  heads = cfg["num_attention_heads"]
  m.put("cls", m.take("embeddings.cls_token"))
  m.put("pos_embed/embedding", m.take("embeddings.position_embeddings"))
  m.put("embed/proj/kernel",
        conv_nd(m.take("embeddings.patch_embeddings.projection.weight")))
  m.put("embed/proj/bias", m.take("embeddings.patch_embeddings.projection.bias"))
  for i in range(cfg["num_hidden_layers"]):
    src, dst = f"layers.{i}", f"encoder/block{i}"
    a = f"{src}.attention"
    pair = lambda n: (m.take(f"{a}.{n}.weight"), m.take(f"{a}.{n}.bias"))  # noqa: E731
    m.attention(pair("q_proj"), pair("k_proj"), pair("v_proj"),
                pair("o_proj"), f"{dst}/attn", heads)
    m.norm(f"{src}.layernorm_before", f"{dst}/norm1")
    m.norm(f"{src}.layernorm_after", f"{dst}/norm2")
    m.linear(f"{src}.mlp.fc1", f"{dst}/mlp/fc1")
    m.linear(f"{src}.mlp.fc2", f"{dst}/mlp/fc2")
  m.norm("layernorm", "encoder/norm")
  if m.has("classifier.weight"):
    m.linear("classifier", "head")
  t, p, q = cfg.get("tubelet_size", (2, 16, 16))
  kwargs = dict(patch_size=[t, p, q], hidden_size=cfg["hidden_size"],
                depth=cfg["num_hidden_layers"], num_heads=heads,
                mlp_dim=cfg["intermediate_size"], attention="joint")
  return m, "vivit", kwargs


def _hf_videomae(sd, cfg):
  _check(cfg.get("hidden_act", "gelu") == "gelu",
         f"VideoMAE with activation {cfg.get('hidden_act')!r}; vidjax's uses "
         "exact GELU")
  _check(cfg.get("qv_bias", True), "VideoMAE without query/value biases")
  sd = {re.sub(r"attention\.attention\.q_bias", "attention.attention.query.bias",
               re.sub(r"attention\.attention\.v_bias",
                      "attention.attention.value.bias", k)): v
        for k, v in sd.items()}
  # A pre-training checkpoint: keep the encoder, drop the decoder.
  sd = {k: v for k, v in sd.items()
        if not k.startswith(("decoder.", "encoder_to_decoder.", "mask_token"))}
  sd = _strip_prefix(sd, "videomae.")
  m = _Mapper(sd)
  heads = cfg["num_attention_heads"]
  b = "backbone"
  m.put(f"{b}/embed/proj/kernel",
        conv_nd(m.take("embeddings.patch_embeddings.projection.weight")))
  m.put(f"{b}/embed/proj/bias",
        m.take("embeddings.patch_embeddings.projection.bias"))
  for i in range(cfg["num_hidden_layers"]):
    src, dst = f"encoder.layer.{i}", f"{b}/transformer/block{i}"
    a = f"{src}.attention.attention"
    m.attention((m.take(f"{a}.query.weight"), m.take(f"{a}.query.bias")),
                (m.take(f"{a}.key.weight"), None),
                (m.take(f"{a}.value.weight"), m.take(f"{a}.value.bias")),
                (m.take(f"{src}.attention.output.dense.weight"),
                 m.take(f"{src}.attention.output.dense.bias")),
                f"{dst}/attn", heads)
    m.norm(f"{src}.layernorm_before", f"{dst}/norm1")
    m.norm(f"{src}.layernorm_after", f"{dst}/norm2")
    m.linear(f"{src}.intermediate.dense", f"{dst}/mlp/fc1")
    m.linear(f"{src}.output.dense", f"{dst}/mlp/fc2")
  mean_pooling = cfg.get("use_mean_pooling", True)
  if not mean_pooling:
    m.norm("layernorm", f"{b}/transformer/norm")
  elif m.has("fc_norm.weight"):
    m.norm("fc_norm", "fc_norm")
  if m.has("classifier.weight"):
    m.linear("classifier", "head")
  p = cfg.get("patch_size", 16)
  kwargs = dict(patch_size=[cfg.get("tubelet_size", 2), p, p],
                hidden_size=cfg["hidden_size"],
                depth=cfg["num_hidden_layers"], num_heads=heads,
                mlp_dim=cfg["intermediate_size"],
                layer_norm_eps=cfg.get("layer_norm_eps", 1e-12),
                use_mean_pooling=mean_pooling)
  return m, "videomae", kwargs


def _hf_timesformer(sd, cfg):
  _check(cfg.get("attention_type", "divided_space_time") ==
         "divided_space_time",
         f"TimeSformer attention {cfg.get('attention_type')!r}; vidjax "
         "implements divided_space_time")
  _check(cfg.get("hidden_act", "gelu") == "gelu",
         "TimeSformer with an activation other than exact GELU")
  _check(cfg.get("qkv_bias", True), "TimeSformer without qkv biases")
  sd = _strip_prefix(sd, "timesformer.")
  m = _Mapper(sd)
  heads = cfg["num_attention_heads"]
  d = cfg["hidden_size"]
  m.put("cls", m.take("embeddings.cls_token"))
  m.put("pos_embed", m.take("embeddings.position_embeddings"))
  m.put("time_embed", m.take("embeddings.time_embeddings"))
  m.put("patch_embed/kernel",
        conv2d(m.take("embeddings.patch_embeddings.projection.weight")))
  m.put("patch_embed/bias", m.take("embeddings.patch_embeddings.projection.bias"))

  def qkv_attention(src, dst):
    w = m.take(f"{src}.attention.qkv.weight")
    bias = m.take(f"{src}.attention.qkv.bias")
    m.attention(*[(w[j * d:(j + 1) * d], bias[j * d:(j + 1) * d])
                  for j in range(3)],
                (m.take(f"{src}.output.dense.weight"),
                 m.take(f"{src}.output.dense.bias")), dst, heads)

  for i in range(cfg["num_hidden_layers"]):
    src, dst = f"encoder.layer.{i}", f"block{i}"
    qkv_attention(f"{src}.temporal_attention", f"{dst}/temporal_attn")
    m.norm(f"{src}.temporal_layernorm", f"{dst}/temporal_norm")
    m.linear(f"{src}.temporal_dense", f"{dst}/temporal_dense")
    qkv_attention(f"{src}.attention", f"{dst}/attn")
    m.norm(f"{src}.layernorm_before", f"{dst}/norm1")
    m.norm(f"{src}.layernorm_after", f"{dst}/norm2")
    m.linear(f"{src}.intermediate.dense", f"{dst}/mlp/fc1")
    m.linear(f"{src}.output.dense", f"{dst}/mlp/fc2")
  m.norm("layernorm", "norm")
  if m.has("classifier.weight"):
    m.linear("classifier", "head")
  kwargs = dict(patch_size=cfg.get("patch_size", 16), hidden_size=d,
                depth=cfg["num_hidden_layers"], num_heads=heads,
                mlp_dim=cfg["intermediate_size"],
                layer_norm_eps=cfg.get("layer_norm_eps", 1e-6))
  return m, "timesformer", kwargs


_HF = {"vivit": _hf_vivit, "videomae": _hf_videomae,
       "timesformer": _hf_timesformer}


def _hf_clip(cfg: dict[str, Any]) -> tuple[int, int]:
  size = cfg.get("image_size", 224)
  size = size[0] if isinstance(size, (list, tuple)) else size
  return int(cfg.get("num_frames", 16)), int(size)


# -- torchvision ---------------------------------------------------------------

def _tv_r2plus1d(m: _Mapper, blocks):
  m.put("stem_spatial/conv/kernel", conv2d(m.take("stem.0.weight")))
  m.batch_norm("stem.1", "stem_bn1")
  # [O, I, 3, 1, 1] -> [O, I, 3, 1]: a 3x1 2D kernel over (T, H*W).
  m.put("stem_temporal/conv/kernel", conv2d(m.take("stem.3.weight")[..., 0]))
  m.batch_norm("stem.4", "stem_bn2")
  for stage, n in enumerate(blocks):
    for b in range(n):
      src, dst = f"layer{stage + 1}.{b}", f"layer{stage + 1}_{b}"
      for c in (1, 2):
        m.put(f"{dst}/conv{c}/spatial/conv/kernel",
              conv2d(m.take(f"{src}.conv{c}.0.0.weight")))
        m.batch_norm(f"{src}.conv{c}.0.1", f"{dst}/conv{c}/bn")
        m.put(f"{dst}/conv{c}/temporal/conv/kernel",
              conv2d(m.take(f"{src}.conv{c}.0.3.weight")[..., 0]))
        m.batch_norm(f"{src}.conv{c}.1", f"{dst}/bn{c}")
      if m.has(f"{src}.downsample.0.weight"):
        w = m.take(f"{src}.downsample.0.weight")
        m.put(f"{dst}/downsample/kernel", linear(w.reshape(w.shape[:2])))
        m.batch_norm(f"{src}.downsample.1", f"{dst}/downsample_bn")


def _tv_r3d(m: _Mapper, blocks):
  m.put("stem_conv/kernel", conv_nd(m.take("stem.0.weight")))
  m.batch_norm("stem.1", "stem_bn")
  for stage, n in enumerate(blocks):
    for b in range(n):
      src, dst = f"layer{stage + 1}.{b}", f"layer{stage + 1}_{b}"
      for c in (1, 2):
        m.put(f"{dst}/conv{c}/kernel", conv_nd(m.take(f"{src}.conv{c}.0.weight")))
        m.batch_norm(f"{src}.conv{c}.1", f"{dst}/bn{c}")
      if m.has(f"{src}.downsample.0.weight"):
        m.put(f"{dst}/downsample/kernel",
              conv_nd(m.take(f"{src}.downsample.0.weight")))
        m.batch_norm(f"{src}.downsample.1", f"{dst}/downsample_bn")


def _tv_resnet(m: _Mapper, depths, bottleneck):
  p = "backbone"
  m.put(f"{p}/stem_conv/kernel", conv_nd(m.take("conv1.weight")))
  m.batch_norm("bn1", f"{p}/stem_bn")
  for stage, n in enumerate(depths):
    for b in range(n):
      src, dst = f"layer{stage + 1}.{b}", f"{p}/layer{stage + 1}_{b}"
      for c in ((1, 2, 3) if bottleneck else (1, 2)):
        m.put(f"{dst}/conv{c}/kernel", conv_nd(m.take(f"{src}.conv{c}.weight")))
        m.batch_norm(f"{src}.bn{c}", f"{dst}/bn{c}")
      if m.has(f"{src}.downsample.0.weight"):
        m.put(f"{dst}/downsample/kernel",
              conv_nd(m.take(f"{src}.downsample.0.weight")))
        m.batch_norm(f"{src}.downsample.1", f"{dst}/downsample_bn")


def _torchvision(name: str, sd: dict[str, np.ndarray]):
  if name in TORCHVISION_MISSING:
    raise ValueError(f"torchvision's {name} has no family in vidjax "
                     f"(vidjax.models: r3d, r2plus1d, tsn, ...); it cannot be "
                     "converted")
  m = _Mapper(sd)
  if name in TORCHVISION_VIDEO:
    family, variant = TORCHVISION_VIDEO[name]
    blocks = (2, 2, 2, 2)
    (_tv_r2plus1d if family == "r2plus1d" else _tv_r3d)(m, blocks)
    kwargs = {"variant": variant}
  elif name in TORCHVISION_IMAGE:
    from vidjax.models import layers  # pylint: disable=g-import-not-at-top
    depth = int(TORCHVISION_IMAGE[name])
    depths, bottleneck = layers.RESNET_DEPTHS[depth]
    _tv_resnet(m, depths, bottleneck)
    family, kwargs = "tsn", {"variant": TORCHVISION_IMAGE[name]}
  else:
    known = sorted(TORCHVISION_VIDEO) + sorted(TORCHVISION_IMAGE)
    raise ValueError(f"unknown torchvision model {name!r}; known: "
                     f"{', '.join(known)}")
  if m.has("fc.weight"):
    m.linear("fc", "head")
  return m, family, kwargs


# -- checking and writing ------------------------------------------------------

def _unflatten(flat: Flat) -> dict[str, Any]:
  tree: dict[str, Any] = {}
  for path, value in flat.items():
    node = tree
    for key in path[:-1]:
      node = node.setdefault(key, {})
    node[path[-1]] = value
  return tree


def _flatten(tree: Any, prefix=()) -> Flat:
  if isinstance(tree, dict):
    out: Flat = {}
    for k, v in tree.items():
      out.update(_flatten(v, prefix + (str(k),)))
    return out
  return {prefix: tree}


def model_config(family: str, kwargs: dict[str, Any], num_classes: int):
  """The ml_collections ConfigDict for `config.model` of these weights."""
  import ml_collections  # pylint: disable=g-import-not-at-top
  fields = {"name": family, "variant": kwargs.get("variant", ""),
            "dtype": "float32"}
  fields.update({k: v for k, v in kwargs.items() if k != "variant"})
  del num_classes
  return ml_collections.ConfigDict(fields)


def check_against_model(flat: Flat, family: str, kwargs: dict[str, Any],
                        num_classes: int, clip: tuple[int, int]) -> None:
  """Every vidjax variable filled once with the right shape; nothing extra."""
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  from vidjax import models  # pylint: disable=g-import-not-at-top
  model = models.build(model_config(family, kwargs, num_classes),
                       num_classes=num_classes)
  frames, size = clip
  shapes = jax.eval_shape(model.init, jax.random.key(0),
                          jnp.zeros((1, frames, size, size, 3)))
  want = {k: v.shape for k, v in _flatten(
      jax.tree.map(lambda x: x, dict(shapes))).items()}
  missing = sorted("/".join(k) for k in want if k not in flat)
  extra = sorted("/".join(k) for k in flat if k not in want)
  wrong = sorted(f"{'/'.join(k)}: {flat[k].shape} vs {want[k]}"
                 for k in want if k in flat and flat[k].shape != want[k])
  if missing or extra or wrong:
    raise ValueError(f"converted {family} does not fit vidjax's model: "
                     f"missing {missing[:8]}, unexpected {extra[:8]}, "
                     f"wrong shapes {wrong[:8]}")


def convert_state_dict(source: str, name: str, sd: dict[str, np.ndarray],
                       hf_config: dict[str, Any] | None = None,
                       clip: tuple[int, int] | None = None):
  """(variables, meta) from a state_dict; see the module docstring.

  variables: {"params": ..., "batch_stats": ...} numpy trees.
  meta: {"model": config.model fields, "num_classes", "num_frames",
    "image_size", "source"}.
  """
  if source == "hf":
    if name not in _HF:
      raise ValueError(f"unknown Hugging Face model {name!r}; known: "
                       f"{', '.join(HF_MODELS)}")
    if hf_config is None:
      raise ValueError("a Hugging Face conversion needs the model's config")
    mapper, family, kwargs = _HF[name](sd, hf_config)
    clip = clip or _hf_clip(hf_config)
  elif source == "torchvision":
    mapper, family, kwargs = _torchvision(name, sd)
    clip = clip or ((16, 112) if family != "tsn" else (1, 224))
  else:
    raise ValueError(f"--from must be hf or torchvision, got {source!r}")
  leftover = mapper.leftover()
  if leftover:
    raise ValueError(f"{len(leftover)} tensors of the {name} checkpoint were "
                     f"not converted: {leftover[:10]}")
  flat = mapper.out
  head = flat.get(("params", "head", "kernel"))
  num_classes = int(head.shape[1]) if head is not None else 0
  # Small check clips: shapes that depend on the clip (position
  # embeddings, C3D's fc6) are compared at the checkpoint's own size.
  check_against_model(flat, family, kwargs, num_classes, clip)
  meta = {"model": {k: v for k, v in model_config(
              family, kwargs, num_classes).items()},
          "num_classes": num_classes, "num_frames": clip[0],
          "image_size": clip[1], "source": f"{source}:{name}"}
  return _unflatten(flat), meta


def save(dst: str, variables: dict[str, Any], meta: dict[str, Any]) -> None:
  """Writes the Orbax checkpoint and vidjax_model.json to dst."""
  import orbax.checkpoint as ocp  # pylint: disable=g-import-not-at-top
  dst = os.path.abspath(dst)
  os.makedirs(dst, exist_ok=True)
  with ocp.StandardCheckpointer() as ckptr:
    ckptr.save(os.path.join(dst, VARIABLES_DIR), variables, force=True)
  with open(os.path.join(dst, META_FILE), "w") as f:
    json.dump(meta, f, indent=2, default=list)


def main(argv: list[str] | None = None) -> None:
  import argparse  # pylint: disable=g-import-not-at-top
  parser = argparse.ArgumentParser(
      prog="python -m vidjax.models.convert", description=__doc__.split("\n")[0])
  parser.add_argument("--from", dest="source", required=True,
                      choices=("hf", "torchvision"))
  parser.add_argument("--model", required=True,
                      help=f"hf: {', '.join(HF_MODELS)}; torchvision: "
                      f"{', '.join(list(TORCHVISION_VIDEO) + list(TORCHVISION_IMAGE))}")
  parser.add_argument("--src", required=True,
                      help="HF model folder, or a state_dict file")
  parser.add_argument("--dst", required=True, help="output folder")
  args = parser.parse_args(argv)
  sd = load_state_dict(args.src)
  hf_config = load_hf_config(args.src) if args.source == "hf" else None
  variables, meta = convert_state_dict(args.source, args.model, sd, hf_config)
  save(args.dst, variables, meta)
  fields = ", ".join(f"{k}={v!r}" for k, v in meta["model"].items())
  print(f"wrote {args.dst}: {meta['source']} -> vidjax {meta['model']['name']}"
        f" ({meta['num_classes']} classes, {meta['num_frames']} frames, "
        f"{meta['image_size']} px)\nconfig.model: {fields}\n"
        f"config.init_from = {os.path.abspath(args.dst)!r}")


if __name__ == "__main__":
  main(sys.argv[1:])
