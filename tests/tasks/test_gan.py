"""The video GAN task: losses, R1 penalty, two optimizers, training."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.conftest import REPO, load_config
from vidjax.data.pipeline import DatasetInfo
from vidjax.tasks import gan

INFO = DatasetInfo(num_classes=8, class_names=tuple("abcdefgh"),
                   num_train=1, num_eval=1, root="")
CONFIG = REPO / "configs" / "generation" / "gan_synthetic.py"


def test_r1_penalty_of_known_functions():
  x = jax.random.normal(jax.random.key(0), (3, 2, 4, 4, 3))
  a = jax.random.normal(jax.random.key(1), (2, 4, 4, 3))
  # D(x) = <a, x>: the gradient is a for every example.
  linear = lambda v: jnp.sum(v * a, axis=(1, 2, 3, 4))  # noqa: E731
  # D(x) = |x|^2 / 2: the gradient is x, the penalty the mean of |x|^2.
  square = lambda v: 0.5 * jnp.sum(v * v, axis=(1, 2, 3, 4))  # noqa: E731
  # One program for both penalties (eagerly, each op compiles its own).
  of_linear, of_square = jax.jit(lambda v: (gan.r1_penalty(linear, v),
                                            gan.r1_penalty(square, v)))(x)
  a_np, x_np = np.asarray(a), np.asarray(x)
  np.testing.assert_allclose(of_linear, np.sum(a_np * a_np), rtol=1e-5)
  np.testing.assert_allclose(of_square,
                             np.mean(np.sum(x_np * x_np, axis=(1, 2, 3, 4))),
                             rtol=1e-5)


def test_losses_at_known_logits():
  real, fake = jnp.array([2.0, 0.5]), jnp.array([-2.0, 0.0])
  # hinge: mean(relu(1 - r)) + mean(relu(1 + f)) = 0.25 + 0.5
  assert float(gan.discriminator_loss(real, fake, "hinge")) == \
      pytest.approx(0.75)
  assert float(gan.generator_loss(fake, "hinge")) == pytest.approx(1.0)
  ns = gan.discriminator_loss(real, fake, "nonsaturating")
  expect = np.mean(np.log1p(np.exp(-np.array([2.0, 0.5])))) + np.mean(
      np.log1p(np.exp(np.array([-2.0, 0.0]))))
  assert float(ns) == pytest.approx(expect, rel=1e-5)


def test_step_updates_both_players_and_the_generator_ema():
  config = load_config(CONFIG)
  task = gan.Task(config, INFO, 10)
  video = jax.random.uniform(jax.random.key(0), (2, 4, 16, 16, 3))
  batch = {"video": video, "label": jnp.array([0, 3])}
  # Jitted: run eagerly, every op of both players' init compiles its own
  # program.
  state = jax.jit(task.init_state)(jax.random.key(1), batch)
  assert set(state.params) == {"generator", "discriminator"}
  assert set(state.params["discriminator"]) == {"clip_discriminator",
                                                "frame_discriminator"}
  new, metrics = jax.jit(task.train_step)(state, batch, jax.random.key(2))
  # Host-side comparisons and expectations (NumPy): jnp would compile
  # programs per parameter shape.
  changed = jax.tree_util.tree_map_with_path(
      lambda path, a, b: (jax.tree_util.keystr(path), bool(np.any(a != b))),
      jax.device_get(state.params), jax.device_get(new.params))
  kernels = [c for _, c in jax.tree.leaves(
      changed, is_leaf=lambda x: isinstance(x, tuple)) if "kernel" in _]
  # Every kernel of both players moved (the hinge loss gives the last
  # bias no gradient while all logits are inside the margin).
  assert len(kernels) > 10 and all(kernels)
  # After update 1 the warmed-up decay is min(0.999, 2 / 11).
  decay = min(config.train.ema_decay, 2 / 11)
  expect = jax.tree.map(lambda e, p: decay * e + (1 - decay) * p,
                        jax.device_get(state.ema_params),
                        jax.device_get(new.params["generator"]))
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-6),
               new.ema_params, expect)
  for k in ("d_loss", "g_loss", "r1", "loss", "grad_norm"):
    assert np.isfinite(float(metrics[k])), k
  assert float(metrics["r1"]) > 0
  clips = jax.jit(task.sample)(task.sample_params(new), jax.random.key(3),
                               jnp.array([1, 2, 5]))
  assert clips.shape == (3, 4, 16, 16, 3)
  assert float(clips.min()) >= 0 and float(clips.max()) <= 1

# Training through the trainer (with FVD at evaluation): tests/test_generate.py
