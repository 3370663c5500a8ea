"""The generic trainer end to end on tiny configs and 8 simulated devices."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.conftest import CONFIG_FILES, REPO, copy_ucf_dataset, tiny_config
from vidjax.train import state as state_lib
from vidjax.train import trainer


@pytest.mark.parametrize("path", CONFIG_FILES,
                         ids=[str(p.relative_to(REPO)) for p in CONFIG_FILES])
def test_every_config_trains_one_step(path, tmp_path, cache_dir):
  """Each file under configs/ builds its model, task and pipeline at a tiny
  size, runs a training step, evaluates and writes results. On two devices
  (tiny_config's default; the 8-device path is covered by the tests
  below)."""
  config = tiny_config(path, cache=cache_dir)
  config.train.num_steps = 1
  run = trainer.Trainer(config, str(tmp_path))
  results = run.run()
  assert run.mesh.devices.size == 2
  assert results["step"] == 1
  assert all(np.isfinite(v) for v in results["eval"].values())
  assert json.loads((tmp_path / "results.json").read_text())["step"] == 1
  for name in ("curves.png", "metrics.jsonl", "config.json"):
    assert (tmp_path / name).exists(), name
  assert os.listdir(tmp_path / "tensorboard")


def _final_params(config, workdir):
  run = trainer.Trainer(config, str(workdir))
  results = run.run()
  return results, jax.device_get(run.state.params)


def test_data_parallel_matches_one_device(tmp_path, cache_dir):
  """8 devices and 1 device, same global batch: same losses, gradients and
  weights after a few steps.

  SGD with momentum, whose updates are linear in the gradients: Adam's first
  steps are close to lr * sign(gradient), which turns the all-reduce's
  different summation order (1e-7) into full-size differences for
  parameters whose gradient is near zero. And 32 pixels, 8 frames: at the
  tiny config's 16 pixels the last stage's BatchNorm normalizes 8 values of
  near-zero variance, an ill-conditioned comparison.
  """
  runs = {}
  for n in (1, 8):
    config = tiny_config(cache=cache_dir)
    config.data.update(image_size=32, num_frames=8, stride=1)
    config.train.update(num_steps=3, num_devices=n)
    config.optimizer.update(name="sgd", learning_rate=0.05)
    results, params = _final_params(config, tmp_path / f"d{n}")
    logged = [json.loads(line) for line in
              open(tmp_path / f"d{n}" / "metrics.jsonl")]
    curves = [(m["train/loss"], m["train/grad_norm"]) for m in logged
              if "train/loss" in m]
    runs[n] = (results, params, curves)
  assert runs[1][0]["num_devices"] == 1 and runs[8][0]["num_devices"] == 8
  assert len(runs[1][2]) == 3
  np.testing.assert_allclose(runs[1][2], runs[8][2], rtol=1e-4)
  for a, b in zip(jax.tree.leaves(runs[1][1]), jax.tree.leaves(runs[8][1])):
    np.testing.assert_allclose(a, b, atol=1e-4 * np.abs(a).max())


def test_rerun_on_finished_workdir_evaluates_without_training(tmp_path,
                                                              cache_dir):
  config = tiny_config(cache=cache_dir)
  first, params = _final_params(config, tmp_path)
  again, params_again = _final_params(config, tmp_path)
  assert again["step"] == first["step"]
  assert again["eval"]["top1"] == first["eval"]["top1"]
  for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(params_again)):
    np.testing.assert_array_equal(a, b)


def test_corrupt_video_is_skipped_and_counted(tmp_path, tiny_root, cache_dir):
  root = copy_ucf_dataset(tiny_root, tmp_path / "data", extra_train=[
      ("Grow/v_Grow_g09_c01.mp4", b"\x00not a video" * 100)])
  config = tiny_config(cache=cache_dir)
  config.data.update(source="ucf101", root=str(root))
  # Enough steps to pass the corrupt file at least once (one epoch is 4).
  # 8, as the faults tests train this config, so the two runs share a
  # compiled train step (the schedule's length is part of the program).
  config.train.num_steps = 8
  results = trainer.Trainer(config, str(tmp_path / "run")).run()
  assert results["decode_failures"] >= 1
  logged = [json.loads(l).get("train/decode_failures", 0)
            for l in open(tmp_path / "run" / "metrics.jsonl")]
  assert sum(logged) == results["decode_failures"]


def test_missing_data_folder_names_it(tmp_path, cache_dir):
  config = tiny_config(cache=cache_dir)
  config.data.update(source="ucf101", root=str(tmp_path / "no_such_dir"))
  with pytest.raises(FileNotFoundError, match="no_such_dir"):
    trainer.Trainer(config, str(tmp_path / "run"))


def test_unknown_model_lists_the_known_ones(tmp_path, cache_dir):
  config = tiny_config(cache=cache_dir)
  config.model.name = "resnet9000"
  with pytest.raises(ValueError, match="resnet9000.*available: .*r2plus1d"):
    trainer.Trainer(config, str(tmp_path))


def test_batch_that_does_not_divide_over_devices(tmp_path, cache_dir):
  config = tiny_config(cache=cache_dir, num_devices=8)
  config.train.batch_size = 12
  with pytest.raises(ValueError, match="batch_size=12 does not divide over 8 data-parallel"):
    trainer.Trainer(config, str(tmp_path))


def test_too_many_devices(tmp_path, cache_dir):
  config = tiny_config(cache=cache_dir)
  config.train.num_devices = 16
  with pytest.raises(ValueError, match="num_devices=16 but 8"):
    trainer.Trainer(config, str(tmp_path))


def test_non_finite_loss_stops_naming_the_step(tmp_path, cache_dir):
  config = tiny_config(cache=cache_dir)
  config.optimizer.update(name="sgd", learning_rate=1e30, grad_clip_norm=0.0,
                          schedule="constant")
  config.train.num_steps = 6
  with pytest.raises(trainer.NonFiniteError, match=r"at step \d"):
    trainer.Trainer(config, str(tmp_path)).run()


def test_failed_async_save_is_raised_not_swallowed(tmp_path, cache_dir,
                                                   monkeypatch):
  """A save whose background write fails (here: the JSON write of its meta
  item, in Orbax's commit thread) returns at once like any async save; its
  error then stops the run at the next save or the final wait, naming the
  step and directory, and no results are written as if the run had
  succeeded."""
  from vidjax.train import checkpoint  # pylint: disable=g-import-not-at-top
  config = tiny_config(cache=cache_dir)
  # The run stops at step 3's save; 8 steps, as the faults tests train this
  # config, so the two share a compiled train step.
  config.train.num_steps = 8
  config.checkpoint.update(every_steps=1, async_save=True)
  returned = []
  save = checkpoint.Checkpointer.save

  def failing_save(self, step, state, data_iterator, metrics=None,
                   meta=None):
    if step == 2:
      meta = dict(meta, unwritable=object())
    save(self, step, state, data_iterator, metrics=metrics, meta=meta)
    returned.append(step)

  monkeypatch.setattr(checkpoint.Checkpointer, "save", failing_save)
  with pytest.raises(checkpoint.CheckpointSaveError,
                     match=r"save of checkpoint step 2 in .*checkpoints "
                     r"failed: TypeError: .*not JSON serializable"):
    trainer.Trainer(config, str(tmp_path)).run()
  assert 2 in returned  # the failing save itself did not block or raise
  assert not (tmp_path / "results.json").exists()
  finished = checkpoint.Checkpointer(tmp_path / "checkpoints").all_steps()
  assert 2 not in finished and 1 in finished


def test_ema_warms_up_then_decays_at_the_configured_rate():
  ema, params = {"w": jnp.zeros(())}, {"w": jnp.ones(())}
  fixed, warm = ema, ema
  for step in range(1, 601):
    fixed = state_lib.ema_update(fixed, params, 0.999, step, warmup=False)
    warm = state_lib.ema_update(warm, params, 0.999, step)
  # The initial weights' share: 0.999^600 without the warm-up, ~0 with it.
  assert float(fixed["w"]) == pytest.approx(1 - 0.999 ** 600, rel=1e-4)
  assert float(warm["w"]) > 1 - 1e-6
  # Long runs: the configured decay (the warm-up rate passes it at 9 k).
  late = state_lib.ema_update(ema, params, 0.999, 100_000)
  assert float(late["w"]) == pytest.approx(0.001, rel=1e-3)
  # Decay 1.0 without the warm-up: a frozen copy.
  frozen = state_lib.ema_update(ema, params, 1.0, 5, warmup=False)
  assert float(frozen["w"]) == 0.0
