"""Multi-process start-up through JAX's own distributed runtime.

Called from `main`, never at import time: Grain's worker processes import the
main module again, and must not join the job.
"""

from __future__ import annotations

import os

import jax
from absl import logging

MODES = ("auto", "on", "off")


def _detected_cluster() -> str | None:
  """Names the multi-process environment we run in, if JAX can join it."""
  if int(os.environ.get("SLURM_NTASKS", "1")) > 1:
    return "SLURM"
  if int(os.environ.get("OMPI_COMM_WORLD_SIZE", "1")) > 1:
    return "Open MPI"
  if "," in os.environ.get("TPU_WORKER_HOSTNAMES", ""):
    return "TPU pod slice"
  return None


def initialize(mode: str = "auto", coordinator_address: str | None = None,
               num_processes: int | None = None,
               process_id: int | None = None) -> None:
  """Joins a multi-process job when asked to or when one is detected.

  mode "off": single process. "on": always call `jax.distributed.initialize`
  (with the explicit coordinator/process arguments, or JAX's own detection).
  "auto": call it when arguments are given or a SLURM, Open MPI or TPU pod
  environment is detected.
  """
  if mode not in MODES:
    raise ValueError(f"--distributed must be one of {MODES}, got {mode!r}")
  explicit = coordinator_address is not None
  cluster = _detected_cluster()
  if mode == "off" or (mode == "auto" and not explicit and cluster is None):
    return
  if explicit and (num_processes is None or process_id is None):
    raise ValueError("--coordinator_address needs --num_processes and "
                     "--process_id")
  jax.distributed.initialize(coordinator_address=coordinator_address,
                             num_processes=num_processes,
                             process_id=process_id)
  logging.info("Joined %s job: process %d of %d, %d local / %d global "
               "devices", cluster or "explicit", jax.process_index(),
               jax.process_count(), jax.local_device_count(),
               jax.device_count())
