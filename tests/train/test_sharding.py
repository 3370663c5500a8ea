"""Mesh construction and the train-state sharding rules (8 simulated devices)."""

import re

import jax
import numpy as np
import optax
import pytest
from jax.sharding import PartitionSpec as P

from vidjax.models import vivit
from vidjax.train import sharding
from vidjax.train.state import TrainState


def _abstract_state(num_heads=4, hidden=64, mlp=128):
  model = vivit.Model(num_classes=5, patch_size=(2, 8, 8), hidden_size=hidden,
                      depth=1, temporal_depth=1, num_heads=num_heads,
                      mlp_dim=mlp)

  def init(key):
    params = model.init(key, jax.numpy.zeros((2, 4, 16, 16, 3)))["params"]
    return TrainState.create(params=params, tx=optax.adamw(1e-3), ema=True)

  return jax.eval_shape(init, jax.random.key(0))


def _by_name(shardings):
  flat = jax.tree_util.tree_flatten_with_path(shardings)[0]
  return {sharding.path_name(path): s.spec for path, s in flat}


def test_mesh_axes_and_errors():
  mesh = sharding.make_mesh(-1, model_parallel=2)
  assert dict(mesh.shape) == {"data": 4, "model": 2}
  with pytest.raises(ValueError, match="model_parallel=3 must be a positive"):
    sharding.make_mesh(-1, model_parallel=3)
  with pytest.raises(ValueError, match="num_devices=9 but 8 cpu device"):
    sharding.make_mesh(9)
  with pytest.raises(ValueError, match=r"batch_size=24 does not divide over "
                     r"4 data-parallel device groups x 4 micro-batches.*"
                     r"multiple of 16"):
    sharding.check_batch_size(24, mesh, "config.train.batch_size",
                              micro_batches=4)
  sharding.check_batch_size(32, mesh, "config.train.batch_size",
                            micro_batches=4)


def test_data_parallel_replicates_everything():
  abstract = _abstract_state()
  specs = _by_name(sharding.state_shardings(abstract, sharding.make_mesh()))
  assert set(specs.values()) == {P()}


def test_fsdp_splits_params_and_their_optimizer_slots():
  abstract = _abstract_state()
  mesh = sharding.make_mesh()
  shardings = sharding.state_shardings(abstract, mesh, "fsdp",
                                       fsdp_min_size=1024)
  specs = _by_name(shardings)
  kernel = "spatial_encoder/block0/mlp/fc1/kernel"  # [64, 128]
  name = next(n for n in specs if n.endswith(kernel) and
              n.startswith("params/"))
  assert specs[name] == P(None, "data")  # the larger dimension is split
  # Adam's moments and the EMA copy of the same parameter follow it.
  followers = [n for n in specs if n.endswith(kernel)]
  assert len(followers) == 4  # params, mu, nu, ema_params
  assert all(specs[n] == P(None, "data") for n in followers)
  # Small arrays (biases, norms, the step counter) stay replicated.
  assert specs["step"] == P()
  assert all(s == P() for n, s in specs.items() if n.endswith("bias"))
  # Per-device memory for the state falls (what lets a large model fit).
  text = sharding.describe(shardings, abstract)
  per_device, total = map(float, re.search(
      r"per device ([\d.]+) MiB of ([\d.]+) MiB", text).groups())
  assert per_device < 0.5 * total, text


def test_fsdp_state_is_created_split():
  model = vivit.Model(num_classes=5, patch_size=(2, 8, 8), hidden_size=64,
                      depth=1, temporal_depth=1, num_heads=4, mlp_dim=256)
  tx = optax.adamw(1e-3)

  def init(key):
    video = jax.numpy.zeros((2, 4, 16, 16, 3))
    return TrainState.create(params=model.init(key, video)["params"], tx=tx,
                             ema=True)

  abstract = jax.eval_shape(init, jax.random.key(0))
  shardings = sharding.state_shardings(abstract, sharding.make_mesh(),
                                       "fsdp", 1024)
  state = jax.jit(init, out_shardings=shardings)(jax.random.key(0))
  kernel = state.params["spatial_encoder"]["block0"]["mlp"]["fc1"]["kernel"]
  assert kernel.shape == (64, 256)
  assert {s.data.shape for s in kernel.addressable_shards} == {(64, 32)}


def test_tensor_parallel_rules_split_heads_and_mlp():
  abstract = _abstract_state()
  mesh = sharding.make_mesh(-1, model_parallel=2)
  specs = _by_name(sharding.state_shardings(abstract, mesh))
  block = "params/spatial_encoder/block0/"
  assert specs[block + "attn/query/kernel"] == P(None, "model", None)
  assert specs[block + "attn/value/bias"] == P("model", None)
  assert specs[block + "attn/out/kernel"] == P("model", None, None)
  assert specs[block + "mlp/fc1/kernel"] == P(None, "model")
  assert specs[block + "mlp/fc2/kernel"] == P("model", None)
  assert specs[block + "norm1/scale"] == P()
  assert specs["opt_state/0/mu/spatial_encoder/block0/mlp/fc1/kernel"] == \
      P(None, "model")


def test_tensor_parallel_names_a_parameter_that_cannot_split():
  abstract = _abstract_state(num_heads=3, hidden=48, mlp=96)
  mesh = sharding.make_mesh(-1, model_parallel=2)
  with pytest.raises(ValueError, match=r"parameter params/spatial_encoder/"
                     r"block0/attn/\w+/\w+ of shape \([\d, ]+\) cannot be "
                     r"split over config.train.model_parallel=2: 3 is not"):
    sharding.state_shardings(abstract, mesh)
