"""Sharding strategies, gradient accumulation, EMA evaluation, mixed
precision, rematerialization and profiling through the generic trainer, on
the tiny ViViT (no BatchNorm, so micro-batching changes nothing) and 8
simulated devices."""

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.conftest import REPO, tiny_config
from vidjax import models
from vidjax.train import trainer

VIVIT = REPO / "configs" / "classification" / "vivit_synthetic.py"
# One worker runs this module (pytest-xdist's loadgroup), so its module
# fixture's training run is made once, not once per worker.
pytestmark = pytest.mark.xdist_group("scale")


def _config(cache_dir, **train):
  config = tiny_config(VIVIT, cache=cache_dir, num_devices=8)
  config.train.update(num_steps=3, batch_size=16, **train)
  config.optimizer.update(name="sgd", learning_rate=0.1, warmup_steps=0,
                          schedule="constant")
  config.checkpoint.every_steps = 0
  return config


def _run(config, workdir):
  run = trainer.Trainer(config, str(workdir))
  results = run.run()
  logged = [json.loads(line) for line in open(workdir / "metrics.jsonl")]
  losses = [m["train/loss"] for m in logged if "train/loss" in m]
  return run, results, losses, jax.device_get(run.state.params)


def _assert_same(a, b, rtol=1e-4, atol=1e-6):
  np.testing.assert_allclose(a[2], b[2], rtol=rtol)
  for x, y in zip(jax.tree.leaves(a[3]), jax.tree.leaves(b[3])):
    np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, cache_dir):
  """Data parallel, with an EMA that never moves (decay 1.0, no warm-up)
  and a profile of step 2; neither changes the trained weights."""
  workdir = tmp_path_factory.mktemp("baseline")
  config = _config(cache_dir, ema_decay=1.0, ema_warmup=False)
  config.update(profile_steps=1, profile_start_step=2)
  run = trainer.Trainer(config, str(workdir))
  initial = run.init_state()
  run._compile_steps()  # pylint: disable=protected-access
  before, _, _ = run.evaluate(initial)
  return before, workdir, _run(config, workdir)


def test_fsdp_and_tensor_parallel_match_data_parallel(tmp_path, cache_dir,
                                                      baseline):
  data = baseline[2]
  fsdp = _run(_config(cache_dir, ema_decay=1.0, ema_warmup=False,
                      sharding="fsdp",
                      fsdp_min_size=256), tmp_path / "fsdp")
  tensor = _run(_config(cache_dir, ema_decay=1.0, ema_warmup=False,
                        model_parallel=2),
                tmp_path / "tensor")
  assert len(data[2]) == 3
  _assert_same(fsdp, data)
  _assert_same(tensor, data)

  def largest_shard_fraction(run):
    kernel = run.state.params["spatial_encoder"]["block0"]["mlp"]["fc1"][
        "kernel"]
    shard = kernel.addressable_shards[0].data.shape
    return np.prod(shard) / np.prod(kernel.shape)

  assert largest_shard_fraction(data[0]) == 1.0
  assert largest_shard_fraction(fsdp[0]) == 1 / 8
  assert largest_shard_fraction(tensor[0]) == 1 / 2
  assert dict(tensor[0].mesh.shape) == {"data": 4, "model": 2}


def test_gradient_accumulation_matches_the_full_batch(tmp_path, cache_dir,
                                                      baseline):
  micro = _run(_config(cache_dir, ema_decay=1.0, ema_warmup=False, grad_accum_steps=2),
               tmp_path / "k2")
  _assert_same(micro, baseline[2])


def test_gradient_accumulation_needs_divisible_micro_batches(tmp_path,
                                                             cache_dir):
  config = _config(cache_dir, grad_accum_steps=4)  # 16 / (8 devices x 4)
  with pytest.raises(ValueError, match="x 4 micro-batches"):
    trainer.Trainer(config, str(tmp_path))


def test_evaluation_uses_the_ema_weights(baseline):
  """decay 1.0 without warm-up: the average never moves, so the evaluation
  after training is that of the initial weights, although the weights
  themselves moved."""
  before, _, (run, results, _, _) = baseline
  assert results["eval"]["loss"] == pytest.approx(before["loss"], rel=1e-5)
  # On the host: jnp would compile a program per parameter shape.
  moved = jax.tree.leaves(jax.tree.map(
      lambda a, b: float(np.abs(a - b).max()),
      jax.device_get(run.state.params), jax.device_get(run.state.ema_params)))
  assert max(moved) > 1e-4


def test_profile_and_flops_are_recorded(baseline):
  workdir = baseline[1]
  traces = list(pathlib.Path(workdir / "profile").rglob("*.xplane.pb"))
  assert traces, "no profiler trace written"
  logged = [json.loads(line) for line in open(workdir / "metrics.jsonl")]
  flops = [m["train/tflops_per_sec"] for m in logged
           if "train/tflops_per_sec" in m]
  assert flops and all(f > 0 for f in flops)
  # Model FLOPs utilization needs a known accelerator peak; not on CPU.
  assert not any("train/mfu" in m for m in logged)


def test_bfloat16_compute_keeps_float32_params_and_grads(cache_dir):
  config = tiny_config(VIVIT, cache=cache_dir)
  config.model.dtype = "bfloat16"
  model = models.build(config.model, num_classes=4)
  video = jnp.zeros((2, 4, 16, 16, 3))

  @jax.jit  # one program: eagerly, each op compiles its own
  def params_outputs_and_grads(video):
    params = model.init(jax.random.key(0), video)["params"]
    logits, state = model.apply({"params": params}, video,
                                 capture_intermediates=True)
    grads = jax.grad(lambda p: jnp.sum(
        model.apply({"params": p}, video).astype(jnp.float32)))(params)
    return params, logits, state, grads

  params, logits, state, grads = params_outputs_and_grads(video)
  assert {x.dtype for x in jax.tree.leaves(params)} == {jnp.dtype("float32")}
  encoded = state["intermediates"]["spatial_encoder"]["__call__"][0]
  assert encoded.dtype == jnp.bfloat16  # the blocks compute in bfloat16
  assert logits.dtype == jnp.float32  # the head in float32, for the softmax
  assert {x.dtype for x in jax.tree.leaves(grads)} == {jnp.dtype("float32")}


@pytest.mark.parametrize("policy", ["nothing_saveable", "dots_saveable"])
def test_remat_policies_give_the_same_gradients(policy, cache_dir):
  config = tiny_config(VIVIT, cache=cache_dir)
  video = jax.random.normal(jax.random.key(1), (2, 4, 16, 16, 3))

  def grads(**kw):
    config.model.update(kw)
    model = models.build(config.model, num_classes=4)
    # Jitted: eagerly, each op compiles its own program. Init and gradient
    # apart: the same programs recur (plain model, remat init) and come
    # from the compilation cache.
    params = jax.jit(model.init)(jax.random.key(0), video)["params"]
    return jax.jit(jax.grad(lambda p: jnp.sum(
        model.apply({"params": p}, video) ** 2)))(params)

  plain = grads(remat=False)
  remat = grads(remat=True, remat_policy=policy)
  for a, b in zip(jax.tree.leaves(plain), jax.tree.leaves(remat)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
  config.model.update(remat=True, remat_policy="save_everything_twice")
  with pytest.raises(ValueError, match="remat_policy='save_everything_twice'"):
    grads()
