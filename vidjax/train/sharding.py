"""Device mesh and data-parallel shardings.

One `jax.sharding.Mesh` with a "data" axis over the devices in use. Batches
are split along their first dimension over that axis; the train state is
replicated. `jax.jit` with these shardings inserts the gradient all-reduce
itself, so the same step function runs on one CPU, several simulated devices,
a GPU node or a TPU pod slice (where the mesh spans every host's devices).
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec as P

DATA_AXIS = "data"


def make_mesh(num_devices: int = -1) -> Mesh:
  """A 1-D data-parallel mesh over the first `num_devices` (-1: all)."""
  devices = jax.devices()
  if num_devices == -1:
    num_devices = len(devices)
  if num_devices < 1 or num_devices > len(devices):
    raise ValueError(
        f"config.train.num_devices={num_devices} but {len(devices)} "
        f"{devices[0].platform} device(s) exist; set it to -1 (all) or a "
        f"number from 1 to {len(devices)}")
  if num_devices != len(devices) and jax.process_count() > 1:
    raise ValueError("config.train.num_devices must be -1 (all devices) when "
                     f"training on {jax.process_count()} processes")
  return jax.make_mesh((num_devices,), (DATA_AXIS,),
                       axis_types=(AxisType.Auto,),
                       devices=devices[:num_devices])


def check_batch_size(batch_size: int, mesh: Mesh, what: str) -> None:
  n = mesh.devices.size
  if batch_size % n:
    lo = max(n, batch_size // n * n)
    raise ValueError(
        f"{what}={batch_size} does not divide over {n} devices; use a "
        f"multiple of {n} (e.g. {lo} or {lo + n})")


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def batch_sharding(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P(DATA_AXIS))


def local_part(tree: Any, mesh: Mesh) -> Any:
  """This process's rows of batch-sharded global arrays, as numpy."""
  if jax.process_count() == 1:
    return jax.tree.map(np.asarray, jax.device_get(tree))
  from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top
  local = multihost_utils.global_array_to_host_local_array(
      tree, mesh, P(DATA_AXIS))
  return jax.tree.map(np.asarray, local)


def global_batch(local: dict[str, np.ndarray], mesh: Mesh) -> dict[str, Any]:
  """Assembles this process's batch slice into global, sharded arrays."""
  sharding = batch_sharding(mesh)
  return jax.tree.map(
      lambda x: jax.make_array_from_process_local_data(sharding, np.asarray(x)),
      local)
