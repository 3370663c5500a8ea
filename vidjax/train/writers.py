"""Metric output: a JSON-lines file and TensorBoard event files in the workdir.

Only the chief process (index 0) writes; on the others the writer does
nothing, so callers need not check.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Mapping

import numpy as np

METRICS_FILE = "metrics.jsonl"


def _import_tensorboardx():
  """tensorboardX, without the `import torch` it tries at import time (only
  to accept torch tensors; this writer passes numpy): that import alone
  costs each training process about 2 s where torch is installed."""
  if "torch" in sys.modules:
    import tensorboardX  # pylint: disable=g-import-not-at-top
    return tensorboardX
  sys.modules["torch"] = None  # makes `import torch` raise ImportError
  try:
    import tensorboardX  # pylint: disable=g-import-not-at-top
  finally:
    del sys.modules["torch"]
  return tensorboardX


class MetricWriter:
  """Appends {"step": s, name: value, ...} lines and TensorBoard scalars."""

  def __init__(self, workdir: str, *, enabled: bool = True,
               tensorboard: bool = True):
    self.enabled = enabled
    self._jsonl = None
    self._tb = None
    if not enabled:
      return
    os.makedirs(workdir, exist_ok=True)
    self._jsonl = open(os.path.join(workdir, METRICS_FILE), "a")
    if tensorboard:
      self._tb = _import_tensorboardx().SummaryWriter(os.path.join(workdir,
                                                         "tensorboard"))

  def scalars(self, step: int, values: Mapping[str, Any]) -> None:
    if not self.enabled:
      return
    clean = {k: float(v) for k, v in values.items()}
    self._jsonl.write(json.dumps({"step": int(step), **clean}) + "\n")
    self._jsonl.flush()
    if self._tb is not None:
      for k, v in clean.items():
        self._tb.add_scalar(k, v, int(step))

  def images(self, step: int, images: Mapping[str, np.ndarray]) -> None:
    if self._tb is None:
      return
    for k, v in images.items():
      self._tb.add_image(k, np.asarray(v), int(step), dataformats="HWC")

  def flush(self) -> None:
    if self._tb is not None:
      self._tb.flush()

  def close(self) -> None:
    if self._jsonl is not None:
      self._jsonl.close()
    if self._tb is not None:
      self._tb.close()
