"""Device mesh, batch sharding and the sharding of the train state.

One `jax.sharding.Mesh` with two named axes: "data" and "model". Batches are
split along their first dimension over "data" (and replicated over "model").
How the train state is laid out is the config's choice
(`config.train.sharding`, `config.train.model_parallel`):

- "data" (default): every parameter and optimizer slot replicated; `jax.jit`
  inserts the gradient all-reduce.
- "fsdp": each parameter (and its optimizer slots and EMA copy, which have the
  same shape and path) is split over the "data" axis along its largest
  dimension that divides evenly; XLA all-gathers it for the forward and
  backward pass and reduce-scatters its gradient. Memory per device for the
  state falls by the number of devices.
- `model_parallel > 1` adds tensor parallelism over the "model" axis for the
  transformer blocks of `vidjax.models.layers` (Megatron layout: attention
  heads and the MLP hidden units split, one all-reduce per block half).
  Parameters that no rule names follow the "data"/"fsdp" choice.

`state_shardings` maps any train-state pytree to shardings from the parameter
path and shape only, so optimizer states of any optax chain follow their
parameters. The trainer creates the state already sharded (`jax.eval_shape`,
then a jit with these out_shardings), so a model larger than one device's
memory can be initialised.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

import jax
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec as P

DATA_AXIS = "data"
MODEL_AXIS = "model"
STRATEGIES = ("data", "fsdp")

# (regex on the "/"-joined parameter path, spec with "model" where the
# dimension is split). Names are those of vidjax.models.layers.
TENSOR_PARALLEL_RULES: tuple[tuple[str, tuple[str | None, ...]], ...] = (
    (r"attn/(query|key|value)/kernel$", (None, MODEL_AXIS, None)),
    (r"attn/(query|key|value)/bias$", (MODEL_AXIS, None)),
    (r"attn/out/kernel$", (MODEL_AXIS, None, None)),
    (r"mlp/fc1/kernel$", (None, MODEL_AXIS)),
    (r"mlp/fc1/bias$", (MODEL_AXIS,)),
    (r"mlp/fc2/kernel$", (MODEL_AXIS, None)),
)


def make_mesh(num_devices: int = -1, model_parallel: int = 1) -> Mesh:
  """A (data, model) mesh over the first `num_devices` (-1: all)."""
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
  if model_parallel < 1 or num_devices % model_parallel:
    raise ValueError(
        f"config.train.model_parallel={model_parallel} must be a positive "
        f"divisor of the {num_devices} devices in use")
  if model_parallel > jax.local_device_count():
    raise ValueError(
        f"config.train.model_parallel={model_parallel} exceeds the "
        f"{jax.local_device_count()} devices of one process; tensor-parallel "
        "groups must not span hosts")
  return jax.make_mesh((num_devices // model_parallel, model_parallel),
                       (DATA_AXIS, MODEL_AXIS),
                       axis_types=(AxisType.Auto, AxisType.Auto),
                       devices=devices[:num_devices])


def data_size(mesh: Mesh) -> int:
  return mesh.shape[DATA_AXIS]


def check_batch_size(batch_size: int, mesh: Mesh, what: str,
                     micro_batches: int = 1) -> None:
  """Raises, saying what to change, unless the batch splits evenly."""
  n = data_size(mesh) * micro_batches
  if batch_size % n:
    lo = max(n, batch_size // n * n)
    over = f"{data_size(mesh)} data-parallel device groups"
    if micro_batches > 1:
      over += f" x {micro_batches} micro-batches (config.train.grad_accum_steps)"
    raise ValueError(
        f"{what}={batch_size} does not divide over {over}; use a multiple "
        f"of {n} (e.g. {lo} or {lo + n})")


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def batch_sharding(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P(DATA_AXIS))


def path_name(path) -> str:
  return jax.tree_util.keystr(path, simple=True, separator="/")


def _tensor_parallel_spec(name: str, shape: Sequence[int],
                          mesh: Mesh) -> P | None:
  size = mesh.shape[MODEL_AXIS]
  for pattern, spec in TENSOR_PARALLEL_RULES:
    if re.search(pattern, name) and len(spec) == len(shape):
      for dim, axis in zip(shape, spec):
        if axis == MODEL_AXIS and dim % size:
          raise ValueError(
              f"parameter {name} of shape {tuple(shape)} cannot be split "
              f"over config.train.model_parallel={size}: {dim} is not a "
              "multiple; choose a model_parallel that divides the number of "
              "heads and the MLP width")
      return P(*spec)
  return None


def _fsdp_spec(shape: Sequence[int], mesh: Mesh, min_size: int) -> P | None:
  n = data_size(mesh)
  if n == 1 or int(np.prod(shape, dtype=np.int64)) < min_size:
    return None
  for dim in sorted(range(len(shape)), key=lambda d: -shape[d]):
    if shape[dim] % n == 0:
      spec = [None] * len(shape)
      spec[dim] = DATA_AXIS
      return P(*spec)
  return None


def state_shardings(abstract_state: Any, mesh: Mesh, strategy: str = "data",
                    fsdp_min_size: int = 2**12) -> Any:
  """NamedShardings for every leaf of a (abstract) train state."""
  if strategy not in STRATEGIES:
    raise ValueError(f"config.train.sharding={strategy!r}; choose one of "
                     f"{STRATEGIES}")
  tensor_parallel = mesh.shape[MODEL_AXIS] > 1

  def leaf_sharding(path, leaf):
    shape = getattr(leaf, "shape", ())
    spec = None
    if tensor_parallel and shape:
      spec = _tensor_parallel_spec(path_name(path), shape, mesh)
    if spec is None and strategy == "fsdp" and shape:
      spec = _fsdp_spec(shape, mesh, fsdp_min_size)
    return NamedSharding(mesh, spec if spec is not None else P())

  return jax.tree_util.tree_map_with_path(leaf_sharding, abstract_state)


def describe(shardings: Any, abstract_state: Any) -> str:
  """'N of M arrays split; largest per-device state X MiB of Y MiB'."""
  total = per_device = 0
  split = count = 0
  for s, leaf in zip(jax.tree.leaves(shardings),
                     jax.tree.leaves(abstract_state)):
    nbytes = int(np.prod(leaf.shape, dtype=np.int64)) * leaf.dtype.itemsize
    shard = s.shard_shape(leaf.shape)
    total += nbytes
    per_device += int(np.prod(shard, dtype=np.int64)) * leaf.dtype.itemsize
    split += tuple(shard) != tuple(leaf.shape)
    count += 1
  return (f"{split} of {count} state arrays split; state per device "
          f"{per_device / 2**20:.1f} MiB of {total / 2**20:.1f} MiB")


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
