"""Frozen-feature evaluation of a representation: linear probe and k-NN.

A pretraining task defines `features(params, model_state, video) -> [B, D]`;
`evaluate_frozen` runs it (no gradients, evaluation-style centre clips) over
a labeled training split and the evaluation split, then reports

  knn_top1: weighted k-nearest-neighbour vote on cosine similarity, the
    neighbours' votes weighted by exp(similarity / temperature) (as in
    Wu et al. 2018 / DINO);
  linear_top1: a multinomial logistic regression on standardized features,
    trained full-batch with Adam and weight decay.

Both are accuracies in [0, 1] on the evaluation split. The same function
serves the end of a pretraining run (`evaluate_task_features`, called by
the trainer through `Task.end_of_run`) and scripts/ssl_table.py.

config.eval.representation (optional; absent or enabled=False skips it):
  enabled, train_split ("train"), per_class (labeled videos per class for
  the probe, 0 = all), knn_k, knn_temperature, probe_steps,
  probe_learning_rate, probe_weight_decay, batch_size.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from vidjax.data import pipeline
from vidjax.data import sources

FeatureFn = Callable[[Any, Any, jax.Array], jax.Array]


def extract_features(feature_fn: FeatureFn, params: Any, model_state: Any,
                     config: ml_collections.ConfigDict,
                     source: sources.VideoSource, batch_size: int
                     ) -> tuple[np.ndarray, np.ndarray]:
  """(features [N, D] float32, labels [N] int) of every video of `source`.

  Several evaluation views per video ([B, V, ...]) are averaged.
  """
  def views_features(p, s, video):
    if video.ndim == 6:
      b, v = video.shape[:2]
      f = feature_fn(p, s, video.reshape((b * v,) + video.shape[2:]))
      return f.reshape(b, v, -1).mean(axis=1)
    return feature_fn(p, s, video)

  fn = jax.jit(views_features)
  feats, labels = [], []
  for batch in pipeline.make_eval_dataset(config, source,
                                          batch_size=batch_size):
    real = np.asarray(batch["mask"]) > 0
    f = np.asarray(fn(params, model_state, batch["video"]), np.float32)
    feats.append(f[real])
    labels.append(np.asarray(batch["label"])[real])
  return np.concatenate(feats), np.concatenate(labels)


def knn_accuracy(train_x: np.ndarray, train_y: np.ndarray,
                 test_x: np.ndarray, test_y: np.ndarray, num_classes: int,
                 k: int = 10, temperature: float = 0.07) -> float:
  """Accuracy of a similarity-weighted k-NN vote on cosine similarity."""
  def unit(x):
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
  sim = unit(test_x) @ unit(train_x).T  # [N_test, N_train]
  k = min(k, train_x.shape[0])
  nearest = np.argsort(-sim, axis=1)[:, :k]
  weights = np.exp(np.take_along_axis(sim, nearest, axis=1) / temperature)
  votes = np.zeros((test_x.shape[0], num_classes))
  np.add.at(votes, (np.arange(test_x.shape[0])[:, None], train_y[nearest]),
            weights)
  return float(np.mean(np.argmax(votes, axis=1) == test_y))


def linear_probe_accuracy(train_x: np.ndarray, train_y: np.ndarray,
                          test_x: np.ndarray, test_y: np.ndarray,
                          num_classes: int, steps: int = 500,
                          learning_rate: float = 0.01,
                          weight_decay: float = 1e-3) -> float:
  """Accuracy of a softmax classifier fitted on standardized features."""
  mean = train_x.mean(axis=0)
  std = train_x.std(axis=0) + 1e-6
  xs = jnp.asarray((train_x - mean) / std)
  xt = jnp.asarray((test_x - mean) / std)
  ys = jax.nn.one_hot(jnp.asarray(train_y), num_classes)
  params = {"w": jnp.zeros((xs.shape[1], num_classes)),
            "b": jnp.zeros((num_classes,))}
  tx = optax.adamw(learning_rate, weight_decay=weight_decay)

  def loss(p):
    return optax.softmax_cross_entropy(xs @ p["w"] + p["b"], ys).mean()

  def step(carry, _):
    p, opt_state = carry
    grads = jax.grad(loss)(p)
    updates, opt_state = tx.update(grads, opt_state, p)
    return (optax.apply_updates(p, updates), opt_state), None

  (params, _), _ = jax.lax.scan(step, (params, tx.init(params)), None,
                                length=steps)
  predictions = jnp.argmax(xt @ params["w"] + params["b"], axis=1)
  return float(jnp.mean(predictions == jnp.asarray(test_y)))


def probe_options(config: ml_collections.ConfigDict) -> dict[str, Any]:
  defaults = dict(enabled=True, train_split="train", per_class=0, knn_k=10,
                  knn_temperature=0.07, probe_steps=500,
                  probe_learning_rate=0.01, probe_weight_decay=1e-3,
                  batch_size=0)
  given = config.eval.get("representation") or {}
  if isinstance(given, ml_collections.ConfigDict):
    given = given.to_dict()
  unknown = set(given) - set(defaults)
  if unknown:
    raise ValueError(f"config.eval.representation: unknown fields "
                     f"{sorted(unknown)}; known: {sorted(defaults)}")
  return {**defaults, **given}


def evaluate_frozen(config: ml_collections.ConfigDict, feature_fn: FeatureFn,
                    params: Any, model_state: Any) -> dict[str, float]:
  """Linear-probe and k-NN accuracy of `feature_fn`'s features; see above."""
  opts = probe_options(config)
  # One centre clip per video, whatever views the pretext task evaluates on.
  config = copy.deepcopy(config)
  config.data.update(eval_clips=1, eval_crops=1)
  train = sources.make_source(config.data, opts["train_split"])
  if opts["per_class"]:
    train = sources.subsample_per_class(train, opts["per_class"])
  test = sources.make_source(config.data, config.data.eval_split)
  batch_size = opts["batch_size"] or config.eval.batch_size
  train_x, train_y = extract_features(feature_fn, params, model_state,
                                      config, train, batch_size)
  test_x, test_y = extract_features(feature_fn, params, model_state, config,
                                    test, batch_size)
  k = train.num_classes
  return {
      "knn_top1": knn_accuracy(train_x, train_y, test_x, test_y, k,
                               opts["knn_k"], opts["knn_temperature"]),
      "linear_top1": linear_probe_accuracy(
          train_x, train_y, test_x, test_y, k, opts["probe_steps"],
          opts["probe_learning_rate"], opts["probe_weight_decay"]),
      "num_train": int(train_x.shape[0]),
      "num_test": int(test_x.shape[0]),
      "feature_dim": int(train_x.shape[1]),
  }


def evaluate_task_features(task: Any, state: Any) -> dict[str, Any]:
  """`evaluate_frozen` of a task's `features` on its trained state."""
  if (task.config.eval.get("representation") is None
      or not probe_options(task.config)["enabled"]):
    return {}
  params = jax.device_get(task.eval_params(state))
  model_state = jax.device_get(state.model_state)
  return {"representation": evaluate_frozen(task.config, task.features,
                                            params, model_state)}
