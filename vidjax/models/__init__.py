"""Models: plain Flax linen modules, one family per file.

`config.model.name = "vivit"` means `vidjax.models.vivit`: the import path is
the registry. A model module defines `Model` (an `nn.Module` whose
`__call__(video, *, train)` is pure) and `VARIANTS`, named sizes from tiny to
the paper's. `config.model.variant` picks one; every other field of
`config.model` overrides it.
"""

from __future__ import annotations

import importlib
import pkgutil
import types
from typing import Any

import flax.linen as nn
import jax.numpy as jnp
import ml_collections

# Fields of config.model that select a model rather than configure it.
_SELECTORS = ("name", "variant")
_HELPER_MODULES = ("layers", "convert")


def available() -> list[str]:
  """Names of the model families, e.g. ['dncnn', 'r2plus1d', 'vivit']."""
  return sorted(m.name for m in pkgutil.iter_modules(__path__)
                if not m.name.startswith("_") and m.name not in _HELPER_MODULES)


def get_module(name: str) -> types.ModuleType:
  if name not in available():
    raise ValueError(f"unknown model {name!r} (config.model.name); "
                     f"available: {', '.join(available())}")
  return importlib.import_module(f"{__name__}.{name}")


def model_kwargs(model_config: ml_collections.ConfigDict) -> dict[str, Any]:
  """The keyword arguments config.model gives the module's `Model`."""
  module = get_module(model_config.name)
  variants = getattr(module, "VARIANTS", {})
  variant = model_config.get("variant") or None
  if variant is not None and variant not in variants:
    raise ValueError(f"unknown variant {variant!r} of model "
                     f"{model_config.name!r} (config.model.variant); "
                     f"available: {', '.join(variants) or 'none'}")
  kwargs = dict(variants.get(variant, {}))
  for key, value in model_config.items():
    if key in _SELECTORS:
      continue
    if isinstance(value, ml_collections.ConfigDict):
      value = value.to_dict()
    kwargs[key] = value
  if isinstance(kwargs.get("dtype"), str):
    kwargs["dtype"] = jnp.dtype(kwargs["dtype"])
  return kwargs


def build(model_config: ml_collections.ConfigDict, **task_kwargs) -> nn.Module:
  """Instantiates `config.model`; the task adds what it knows (num_classes)."""
  module = get_module(model_config.name)
  kwargs = model_kwargs(model_config)
  kwargs.update(task_kwargs)
  try:
    return module.Model(**kwargs)
  except TypeError as e:
    raise TypeError(f"config.model does not fit {module.__name__}.Model: "
                    f"{e}") from e
