"""Faults a long run meets: checkpoint retention, corrupt checkpoints and
non-finite steps, each compared with an uninterrupted run."""

import json
import logging
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
import pytest

from tests.conftest import final_params, tiny_config
from vidjax.train import checkpoint as checkpoint_lib
from vidjax.train import trainer

STEPS = 8
# One worker runs this module (pytest-xdist's loadgroup), so its module
# fixture's training run is made once, not once per worker.
pytestmark = pytest.mark.xdist_group("faults")


def _config(cache_dir, **train):
  config = tiny_config(cache=cache_dir)
  config.train.update(num_steps=STEPS, **train)
  config.checkpoint.update(every_steps=3, keep_latest=2)
  return config


def _assert_same_params(a, b):
  step_a, params_a = final_params(a)
  step_b, params_b = final_params(b)
  assert step_a == step_b == STEPS
  leaves = list(zip(jax.tree.leaves(params_a), jax.tree.leaves(params_b)))
  assert leaves
  for x, y in leaves:
    np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-6,
                               atol=1e-7)


def test_retention_keeps_the_newest_and_the_best(tmp_path):
  state = {"w": jnp.arange(3.0)}
  top1 = [0.1, 0.9, 0.2, 0.3, 0.4]
  ours = checkpoint_lib.Checkpointer(tmp_path / "ours", keep_latest=1,
                                     best_metric="top1", async_save=False)
  for step, value in enumerate(top1, 1):
    ours.save(step, state, None, metrics={"top1": value})
  ours.wait()
  assert ours.all_steps() == [2, 5]  # the best, and the resume point
  ours.close()

  lowest = checkpoint_lib.Checkpointer(tmp_path / "min", keep_latest=1,
                                       best_metric="loss", best_mode="min",
                                       async_save=False)
  for step, value in enumerate([0.5, 0.1, 0.7, 0.6], 1):
    lowest.save(step, state, None, metrics={"loss": value})
  lowest.wait()
  assert lowest.all_steps() == [2, 4]
  lowest.close()

  # Why the guard: Orbax's plain best-by-metric retention drops the newest.
  with ocp.CheckpointManager(tmp_path / "plain", options=(
      ocp.CheckpointManagerOptions(max_to_keep=1, best_fn=lambda m: m["top1"],
                                   best_mode="max"))) as plain:
    for step, value in enumerate(top1, 1):
      plain.save(step, args=ocp.args.StandardSave(state),
                 metrics={"top1": value})
    plain.wait_until_finished()
    assert 5 not in plain.all_steps()


def test_best_metric_must_be_an_evaluation_metric(tmp_path):
  ckpt = checkpoint_lib.Checkpointer(tmp_path, best_metric="top3",
                                     async_save=False)
  with pytest.raises(KeyError, match="best_metric='top3' is not an "
                     "evaluation metric; have: \\['top1'\\]"):
    ckpt.save(1, {"w": jnp.zeros(2)}, None, metrics={"top1": 0.5})
  ckpt.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory, cache_dir):
  workdir = tmp_path_factory.mktemp("reference")
  trainer.Trainer(_config(cache_dir), str(workdir)).run()
  return workdir


def test_time_held_by_saves_is_logged(reference):
  """A save at step 3 and 6 (after their log lines): the loop's time inside
  them is logged with steps 4 and 7, and nothing elsewhere."""
  held = {m["step"]: m["train/save_block_s"] for m in map(
      json.loads, open(reference / "metrics.jsonl")) if "train/save_block_s" in m}
  assert sorted(held) == list(range(1, STEPS + 1))
  assert held[4] > 0 and held[7] > 0
  assert all(held[s] == 0 for s in (1, 2, 3, 5, 6, 8))


def _truncate_largest_file(step_dir):
  files = [p for p in (step_dir / "state").rglob("*") if p.is_file()]
  largest = max(files, key=lambda p: p.stat().st_size)
  data = largest.read_bytes()
  largest.write_bytes(data[:len(data) // 3])


def _remove_state_dir(step_dir):
  shutil.rmtree(step_dir / "state")


@pytest.mark.parametrize("damage", [_truncate_largest_file, _remove_state_dir],
                         ids=["truncated", "missing"])
def test_corrupt_checkpoint_falls_back_to_the_previous(
    damage, tmp_path, cache_dir, reference, caplog):
  workdir = tmp_path / "run"  # a copy of the finished reference run
  shutil.copytree(reference, workdir)
  assert sorted(int(p.name) for p in (workdir / "checkpoints").iterdir()) \
      == [6, STEPS]
  damage(workdir / "checkpoints" / str(STEPS))

  with caplog.at_level(logging.INFO, logger="absl"):
    results = trainer.Trainer(_config(cache_dir), str(workdir)).run()
  text = caplog.text
  assert f"checkpoints/{STEPS} cannot be restored" in text
  assert "falling back to step 6" in text
  assert "Resumed from checkpoint at step 6" in text
  assert results["step"] == STEPS
  assert list((workdir / "corrupt_checkpoints").iterdir())
  _assert_same_params(reference, workdir)


def test_non_finite_batch_is_skipped_after_restoring(tmp_path, cache_dir,
                                                     caplog):
  """Batch 4 (trained at step 5) is poisoned with NaN: the run restores step
  3, skips batch 4 and ends exactly where a run told to skip batch 4 ends."""
  skipped = tmp_path / "skipped"
  trainer.Trainer(_config(cache_dir, skip_batches=(4,)), str(skipped)).run()

  recovered = tmp_path / "recovered"
  config = _config(cache_dir, nonfinite="restore_and_skip",
                   inject_nan_batches=(4,))
  with caplog.at_level(logging.WARNING):
    results = trainer.Trainer(config, str(recovered)).run()
  assert results["nonfinite_restores"] == 1
  assert ("Non-finite loss or gradients at step 5 (batch 4): restored step 3 "
          "and skipping batch 4") in caplog.text
  _assert_same_params(skipped, recovered)
  ckpt = checkpoint_lib.Checkpointer(recovered / "checkpoints")
  meta = ckpt.restore_meta(STEPS)
  ckpt.close()
  assert meta["skip_batches"] == [4] and meta["next_batch"] == STEPS + 1


def test_non_finite_batch_stops_by_default(tmp_path, cache_dir):
  config = _config(cache_dir, inject_nan_batches=(1,))
  with pytest.raises(trainer.NonFiniteError,
                     match=r"at step 2 \(batch 1\): non-finite loss=nan"):
    trainer.Trainer(config, str(tmp_path)).run()


def test_repeated_non_finite_batches_give_up(tmp_path, cache_dir):
  config = _config(cache_dir, nonfinite="restore_and_skip",
                   inject_nan_batches=(1, 2, 3), max_nonfinite_restores=2)
  with pytest.raises(trainer.NonFiniteError, match="Gave up after 2 restores"):
    trainer.Trainer(config, str(tmp_path)).run()
