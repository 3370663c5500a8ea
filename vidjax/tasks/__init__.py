"""Tasks: one file per problem, each defining a `Task` class.

`config.task.name = "classification"` means `vidjax.tasks.classification`.
A task owns the batch keys it needs, its models and optimizers, the loss, the
train step (a default in `base.Task`), the metrics, the evaluation protocol
and the summaries; the trainer only calls these methods.
"""

from __future__ import annotations

import importlib
import pkgutil

_HELPER_MODULES = ("base", "pretext")


def available() -> list[str]:
  return sorted(m.name for m in pkgutil.iter_modules(__path__)
                if not m.name.startswith("_") and m.name not in _HELPER_MODULES)


def get_task_class(name: str) -> type:
  if name not in available():
    raise ValueError(f"unknown task {name!r} (config.task.name); "
                     f"available: {', '.join(available())}")
  return importlib.import_module(f"{__name__}.{name}").Task
