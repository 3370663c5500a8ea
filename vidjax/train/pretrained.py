"""Starting a run from pretrained weights (`config.init_from`).

`config.init_from` names either
  - a folder written by `python -m vidjax.models.convert` (converted PyTorch
    weights: `variables/` plus `vidjax_model.json`), or
  - a vidjax workdir (or its `checkpoints/` folder): the newest checkpoint's
    parameters and model state, and the clip size from its saved config.

The checkpoint's parameters replace the freshly initialised ones by name,
when a fresh run starts (a resumed run restores its own checkpoint). Where
shapes differ, and only there:
  - the classifier (`head/...`) keeps its new initialisation (another
    number of classes);
  - learned position embeddings that the model module lists in
    `POSITION_EMBEDDINGS` (layout "cls t h w" and the like) are resized
    with trilinear interpolation from the checkpoint's token grid to the
    run's (another clip length or image size);
  - a 1 x k x k kernel loaded into a t x k x k one is inflated (repeated t
    times, divided by t: I3D from an image ResNet or TSN checkpoint).
Any other mismatch is an error naming the parameter. Parameters missing
from the checkpoint keep their initialisation, checkpoint tensors the model
lacks are ignored, and each of these decisions is logged.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

import jax
import numpy as np
from absl import logging

from vidjax.models import convert
from vidjax.train import checkpoint as checkpoint_lib

# Written by vidjax.models.convert.save.
META_FILE, VARIABLES_DIR = convert.META_FILE, convert.VARIABLES_DIR


def _restore_numpy(path: str) -> Any:
  """An Orbax pytree at path, as numpy arrays, whatever it was saved on."""
  import orbax.checkpoint as ocp  # pylint: disable=g-import-not-at-top
  checkpointer = ocp.PyTreeCheckpointer()
  metadata = checkpointer.metadata(path)
  tree = getattr(metadata, "item_metadata", metadata)
  tree = getattr(tree, "tree", tree)
  args = jax.tree.map(lambda _: ocp.RestoreArgs(restore_type=np.ndarray), tree)
  return checkpointer.restore(path, args=ocp.args.PyTreeRestore(
      restore_args=args))


def _saved_config(ckpt_dir: str, step: int) -> dict[str, Any]:
  """The run config saved with a checkpoint ({} if it has none)."""
  import orbax.checkpoint as ocp  # pylint: disable=g-import-not-at-top
  try:
    with ocp.CheckpointManager(ckpt_dir,
                               item_names=checkpoint_lib.ITEMS) as manager:
      return dict(manager.restore(step, args=ocp.args.Composite(
          config=ocp.args.JsonRestore()))["config"])
  except Exception:  # pylint: disable=broad-except
    return {}


def read(path: str) -> tuple[dict[str, Any], dict[str, Any]]:
  """(variables, meta) from config.init_from; see the module docstring.

  variables: {"params": ..., other collections...} of numpy arrays.
  meta: {"model": config.model fields, "num_frames", "image_size", ...}.
  """
  path = os.path.abspath(os.path.expanduser(path))
  if os.path.exists(os.path.join(path, META_FILE)):
    with open(os.path.join(path, META_FILE)) as f:
      meta = json.load(f)
    return dict(_restore_numpy(os.path.join(path, VARIABLES_DIR))), meta
  ckpt_dir = path
  if os.path.isdir(os.path.join(path, "checkpoints")):
    ckpt_dir = os.path.join(path, "checkpoints")
  try:
    step, state = checkpoint_lib.load_state(ckpt_dir)
  except FileNotFoundError as e:
    raise FileNotFoundError(
        f"config.init_from={path!r} is neither a converted checkpoint "
        f"(no {META_FILE}) nor a vidjax workdir with checkpoints") from e
  state = jax.device_get(state)
  variables = {"params": state["params"], **(state.get("model_state") or {})}
  meta: dict[str, Any] = {"source": f"vidjax checkpoint {ckpt_dir} step "
                                    f"{step}"}
  config = _saved_config(ckpt_dir, step)
  if config:
    meta.update(model=config.get("model", {}),
                num_frames=config.get("data", {}).get("num_frames"),
                image_size=config.get("data", {}).get("image_size"))
  return variables, meta


def _flatten(tree: Any, prefix: tuple[str, ...] = ()) -> dict:
  if isinstance(tree, dict):
    out = {}
    for k, v in tree.items():
      out.update(_flatten(v, prefix + (str(k),)))
    return out
  return {prefix: tree}


def _unflatten_like(flat: dict, like: Any, prefix: tuple[str, ...] = ()):
  if isinstance(like, dict):
    return {k: _unflatten_like(flat, v, prefix + (str(k),))
            for k, v in like.items()}
  return flat[prefix]


def resize_position_embedding(embedding: np.ndarray, layout: str,
                              old_grid: dict[str, int],
                              new_grid: dict[str, int]) -> np.ndarray:
  """[1, n_old, D] -> [1, n_new, D] over the token grid named by `layout`.

  layout: the axes of the token dimension in order, e.g. "cls t h w" (a
  [CLS] position then a t x h x w grid, t slowest) or "t".
  """
  axes = layout.split()
  has_cls = axes[0] == "cls"
  grid = axes[1:] if has_cls else axes
  d = embedding.shape[-1]
  cls, body = (embedding[:, :1], embedding[:, 1:]) if has_cls else \
      (embedding[:, :0], embedding)
  old = [old_grid[a] for a in grid]
  new = [new_grid[a] for a in grid]
  if math.prod(old) != body.shape[1]:
    raise ValueError(f"position embedding with {body.shape[1]} grid tokens "
                     f"does not fit the checkpoint's {dict(zip(grid, old))}")
  body = jax.image.resize(body.reshape(old + [d]), new + [d], "linear",
                          antialias=False)
  return np.concatenate([cls, np.asarray(body).reshape(1, -1, d)], axis=1)


def merge(target: dict[str, Any], source: dict[str, Any], *,
          position_embeddings: dict[str, str] | None = None,
          old_grid: dict[str, int] | None = None,
          new_grid: dict[str, int] | None = None
          ) -> tuple[dict[str, Any], list[str]]:
  """Target variables with the source's values by name; (merged, log lines).

  target/source: {"params": ..., "batch_stats": ...} trees. See the module
  docstring for what happens where shapes differ.
  """
  flat_t, flat_s = _flatten(target), _flatten(source)
  position_embeddings = position_embeddings or {}
  out, notes = {}, []
  for path, init in flat_t.items():
    name = "/".join(path)
    init = np.asarray(init)
    if path not in flat_s:
      out[path] = init
      notes.append(f"kept initialisation of {name} (not in the checkpoint)")
      continue
    value = np.asarray(flat_s[path], dtype=init.dtype)
    rel = "/".join(path[1:])
    if value.shape == init.shape:
      out[path] = value
    elif path[1] == "head":
      out[path] = init
      notes.append(f"re-initialised {name}: checkpoint {value.shape} -> "
                   f"{init.shape}")
    elif rel in position_embeddings and old_grid and new_grid:
      out[path] = resize_position_embedding(
          value, position_embeddings[rel], old_grid, new_grid
      ).astype(init.dtype)
      if out[path].shape != init.shape:
        raise ValueError(f"resizing {name} gave {out[path].shape}, the "
                         f"model needs {init.shape}")
      notes.append(f"resized {name} ({position_embeddings[rel]}) from "
                   f"{old_grid} to {new_grid}: {value.shape} -> {init.shape}")
    elif (value.ndim == 5 and init.ndim == 5 and value.shape[0] == 1 and
          value.shape[1:] == init.shape[1:]):
      t = init.shape[0]
      out[path] = np.repeat(value, t, axis=0) / t
      notes.append(f"inflated {name} in time: {value.shape} -> {init.shape}")
    else:
      raise ValueError(
          f"config.init_from: {name} has shape {value.shape} in the "
          f"checkpoint but {init.shape} in the model; check config.model "
          "against the checkpoint's architecture")
  unused = sorted("/".join(p) for p in flat_s if p not in flat_t)
  if unused:
    notes.append(f"ignored {len(unused)} checkpoint tensors the model lacks: "
                 f"{', '.join(unused[:6])}{' ...' if len(unused) > 6 else ''}")
  return _unflatten_like(out, target), notes


def load_variables(target: dict[str, Any], init_from: str, model_module: Any,
                   model: Any, model_fields: dict[str, Any],
                   clip: tuple[int, int, int]
                   ) -> tuple[dict[str, Any], list[str]]:
  """Reads config.init_from and merges it into `target` (numpy variables).

  clip: the run's (frames, height, width). Returns (variables, log lines).
  """
  source, meta = read(init_from)
  notes = [f"initialising from {init_from} ({meta.get('source', '')})"]
  saved_model = meta.get("model", {})
  if saved_model.get("name") and saved_model["name"] != model_fields.get(
      "name"):
    notes.append(f"checkpoint of model {saved_model['name']!r} loaded into "
                 f"{model_fields.get('name')!r}: parameters match by name")
  else:
    for key, value in saved_model.items():
      if key in ("name", "variant", "dtype", "remat") or key not in \
          model_fields:
        continue
      mine = model_fields[key]
      if isinstance(value, list):
        value = tuple(value)
      if isinstance(mine, list):
        mine = tuple(mine)
      if value != mine:
        notes.append(f"WARNING: the checkpoint has model.{key}={value!r}, "
                     f"config.model has {mine!r}")
  layouts = getattr(model_module, "POSITION_EMBEDDINGS", {})
  old_grid = new_grid = None
  if layouts and meta.get("num_frames") and meta.get("image_size"):
    size = meta["image_size"]
    old_grid = model_module.token_grid(model, meta["num_frames"], size, size)
    new_grid = model_module.token_grid(model, *clip)
  merged, more = merge(target, source, position_embeddings=layouts,
                       old_grid=old_grid, new_grid=new_grid)
  notes += more
  for line in notes:
    logging.info("init_from: %s", line)
  return merged, notes
