"""Multi-task classification: loss weightings and per-task metrics."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from tests.conftest import REPO, tiny_config
from vidjax.data.pipeline import DatasetInfo
from vidjax.tasks import multitask

INFO = DatasetInfo(num_classes=4, class_names=tuple("abcd"), num_train=8,
                   num_eval=8, root="")
HEADS = dict(label=4, shape=3)


def _task(weighting):
  config = ml_collections.ConfigDict(dict(
      seed=0,
      task=dict(heads=HEADS, main="label", weighting=weighting,
                weights=dict(label=1.0, shape=0.5), gradnorm_alpha=1.5),
      model=dict(name="videomae", variant="tiny"),
      train=dict(ema_decay=0.0),
      optimizer=dict(name="adamw", learning_rate=0.01, schedule="constant",
                     warmup_steps=0, end_learning_rate_factor=0.0,
                     weight_decay=0.0, momentum=0.0, nesterov=False,
                     grad_clip_norm=0.0, b1=0.9, b2=0.999, eps=1e-8)))
  return multitask.Task(config, INFO, 10)


def _batch():
  rng = np.random.default_rng(0)
  return {"video": rng.uniform(size=(8, 4, 16, 16, 3)).astype(np.float32),
          "label": rng.integers(0, 4, 8).astype(np.int32),
          "label_shape": rng.integers(0, 3, 8).astype(np.int32)}


def test_uncertainty_weights_are_learned_parameters():
  task = _task("uncertainty")
  batch = _batch()
  state = jax.jit(task.init_state)(jax.random.key(0), batch)
  log_vars = state.params["extra"]["log_vars"]
  assert set(log_vars) == set(HEADS)

  @jax.jit  # the loss's gradient and metrics in one program
  def grads_and_metrics(params, model_state, batch):
    grads, (metrics, _) = jax.grad(task.loss, has_aux=True)(
        params, model_state, batch, jax.random.key(1))
    return grads, metrics

  grads, metrics = grads_and_metrics(state.params, state.model_state, batch)
  for n in HEADS:
    # d/ds [exp(-s) L + s/2] at s=0 is 1/2 - L.
    want = 0.5 - float(metrics[f"loss_{n}"])
    np.testing.assert_allclose(grads["extra"]["log_vars"][n], want,
                               rtol=1e-4)
  step = jax.jit(task.train_step)
  new_state, metrics = step(state, batch, jax.random.key(2))
  for n in HEADS:
    assert float(new_state.params["extra"]["log_vars"][n]) != 0.0
  assert "weight_label" in metrics and "top1_shape" in metrics


def test_fixed_weights_combine_linearly():
  task = _task("fixed")
  batch = _batch()
  state = jax.jit(task.init_state)(jax.random.key(0), batch)
  total, (metrics, _) = jax.jit(task.loss)(state.params, state.model_state,
                                           batch, jax.random.key(1))
  np.testing.assert_allclose(
      total, float(metrics["loss_label"]) + 0.5 * float(metrics["loss_shape"]),
      rtol=1e-6)
  assert "extra" not in state.params


def test_gradnorm_trains_only_the_weights_with_its_own_loss():
  task = _task("gradnorm")
  batch = _batch()
  state = jax.jit(task.init_state)(jax.random.key(0), batch)

  @jax.jit  # the weights and both gradients in one program
  def weights_and_grads(params, model_state, batch):
    weights = task.task_weights(params)
    grads = jax.grad(lambda p: task.loss(p, model_state, batch,
                                         jax.random.key(1))[0])(params)
    # The head's gradient is that of w_label * L_label with w held fixed.
    fixed = jax.grad(lambda p: weights["label"] * task._task_losses(
        p, task.features(p, model_state, batch["video"]),
        batch)[0]["label"].mean())(params)
    return weights, grads, fixed

  weights, grads, fixed = weights_and_grads(state.params, state.model_state,
                                            batch)
  np.testing.assert_allclose(sum(float(w) for w in weights.values()),
                             len(HEADS), rtol=1e-6)
  g = np.array([grads["extra"]["gradnorm"][n] for n in sorted(HEADS)])
  assert np.abs(g).sum() > 0  # the weights receive gradients
  np.testing.assert_allclose(g.sum(), 0, atol=1e-6)  # softmax: sum fixed
  np.testing.assert_allclose(grads["heads"]["label"]["kernel"],
                             fixed["heads"]["label"]["kernel"], rtol=1e-4,
                             atol=1e-7)


@pytest.mark.slow  # the config's one-step run is in test_trainer's sweep
def test_eval_reports_every_task(tmp_path, cache_dir):
  from vidjax.train import trainer  # pylint: disable=g-import-not-at-top
  config = tiny_config(REPO / "configs" / "multitask" /
                       "videomae_synthetic.py", cache=cache_dir)
  config.train.num_steps = 1
  results = trainer.Trainer(config, str(tmp_path)).run()
  for n in ("label", "shape", "count", "motion_axis"):
    assert 0.0 <= results["eval"][f"top1_{n}"] <= 1.0
  assert results["eval"]["top1"] == results["eval"]["top1_label"]


def test_unknown_weighting_is_an_error():
  with pytest.raises(ValueError, match="weighting"):
    _task("average")
