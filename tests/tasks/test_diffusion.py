"""Video diffusion: schedule, parameterizations, DDIM, guidance, training."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.conftest import REPO, load_config, tiny_config
from vidjax.data.pipeline import DatasetInfo
from vidjax.tasks import diffusion
from vidjax.train import trainer

INFO = DatasetInfo(num_classes=8, class_names=(
    "MoveLeft", "MoveRight", "MoveUp", "MoveDown", "RotateClockwise",
    "RotateAnticlockwise", "Grow", "Shrink"), num_train=1, num_eval=1,
                   root="")
CONFIG = REPO / "configs" / "generation" / "diffusion_synthetic.py"


def test_cosine_schedule_properties():
  bars = diffusion.cosine_alpha_bars(1000)
  assert bars.shape == (1001,) and bars[0] == 1.0
  assert np.all(np.diff(bars) < 0)  # strictly more noise at every level
  assert bars[1] > 0.9999 and 0 < bars[-1] < 1e-6
  betas = 1 - bars[1:] / bars[:-1]
  assert betas.max() <= 0.999 + 1e-12
  # Away from the clipped end it is the closed form cos^2 ratio.
  s, t = 0.008, 0.5
  f = lambda u: np.cos((u + s) / (1 + s) * np.pi / 2) ** 2  # noqa: E731
  assert bars[500] == pytest.approx(f(t) / f(0.0), rel=1e-9)


def test_v_and_eps_conversions_invert():
  keys = jax.random.split(jax.random.key(0), 3)
  x0 = jax.random.normal(keys[0], (4, 5))
  eps = jax.random.normal(keys[1], (4, 5))
  bars = jax.random.uniform(keys[2], (4, 1), minval=0.01, maxval=0.99)
  alpha, sigma = diffusion.signal_noise(bars)
  x_t = alpha * x0 + sigma * eps
  v = diffusion.v_from(x0, eps, alpha, sigma)
  for out, kind in ((v, "v"), (eps, "eps")):
    x0_hat, eps_hat = diffusion.to_x0_eps(out, x_t, alpha, sigma, kind)
    np.testing.assert_allclose(x0_hat, x0, atol=1e-5)
    np.testing.assert_allclose(eps_hat, eps, atol=1e-5)
  np.testing.assert_allclose(
      diffusion.eps_from_x0(x_t, x0, alpha, sigma), eps, atol=1e-5)


def test_ddim_eta1_step_is_the_ddpm_posterior():
  bars = diffusion.cosine_alpha_bars(1000)
  i = 400
  a, a_prev = bars[i], bars[i - 1]
  beta = 1 - a / a_prev
  x0, eps = np.array([0.3, -0.7]), np.array([1.2, 0.4])
  x_t = np.sqrt(a) * x0 + np.sqrt(1 - a) * eps
  mean = (np.sqrt(a_prev) * beta / (1 - a) * x0 +
          np.sqrt(1 - beta) * (1 - a_prev) / (1 - a) * x_t)
  var = beta * (1 - a_prev) / (1 - a)
  at_zero = diffusion.ddim_step(x0, eps, a_prev, a, 1.0, np.zeros(2))
  at_one = diffusion.ddim_step(x0, eps, a_prev, a, 1.0, np.ones(2))
  np.testing.assert_allclose(at_zero, mean, rtol=1e-6)
  np.testing.assert_allclose(at_one - at_zero, np.sqrt(var), rtol=1e-6)


@pytest.mark.parametrize("prediction", ["eps", "v"])
@pytest.mark.parametrize("steps", [1, 7, 50])
def test_ddim_with_an_exact_model_recovers_the_data_point(prediction, steps):
  """A one-point data distribution: the exact denoiser is known in closed
  form, and deterministic DDIM must land on the point for any step count."""
  bars = diffusion.cosine_alpha_bars(50)
  target = jnp.array([[0.5, -0.25, 0.0]])

  def exact(x, t):
    a = jnp.asarray(bars, jnp.float32)[jnp.round(t * 50).astype(int)][:, None]
    alpha, sigma = diffusion.signal_noise(a)
    eps = (x - alpha * target) / sigma
    return eps if prediction == "eps" else diffusion.v_from(
        target, eps, alpha, sigma)

  x_T = jax.random.normal(jax.random.key(0), (1, 3))
  out = diffusion.ddim_sample(exact, x_T, bars, steps, prediction,
                              jax.random.key(1), eta=0.0)
  # Predicting eps, the first step recovers x0 = (x - sigma eps) / alpha with
  # alpha_T = 1e-3 here: float32 rounding of the O(1) difference grows by
  # 1 / alpha_T (a few 1e-4), whatever the compiler's operation order.
  alpha_T = float(np.sqrt(bars[-1]))
  atol = 1e-4 if prediction == "v" else 4 * np.finfo(np.float32).eps / alpha_T
  np.testing.assert_allclose(out, target, atol=atol)
  again = diffusion.ddim_sample(exact, x_T, bars, steps, prediction,
                                jax.random.key(2), eta=0.0)
  np.testing.assert_array_equal(out, again)  # eta = 0: no noise is used


def test_ddim_timesteps():
  np.testing.assert_array_equal(diffusion.ddim_timesteps(10, 10),
                                np.arange(10, -1, -1))
  np.testing.assert_array_equal(diffusion.ddim_timesteps(1000, 4),
                                [1000, 750, 500, 250, 0])
  with pytest.raises(ValueError, match="sample_steps"):
    diffusion.ddim_timesteps(10, 11)


def _task(arg="tiny"):
  return diffusion.Task(load_config(CONFIG, arg), INFO, 10)


def test_guidance_mixes_conditional_and_unconditional_predictions():
  assert float(diffusion.cfg_combine(3.0, 1.0, 2.0)) == 5.0
  task = _task()
  seen = {}

  def fake_apply(params, x, t, cond, drop, **kwargs):
    del params, t, kwargs
    seen["drop"], seen["labels"] = drop, cond["labels"]
    # Conditional: label value; unconditional: -1, everywhere.
    value = jnp.where(drop, -1.0, cond["labels"].astype(jnp.float32))
    return jnp.broadcast_to(value[:, None], x.shape)

  task._apply = fake_apply  # pylint: disable=protected-access
  predict = task.guided_predict(None, task.condition(jnp.array([2, 5])), 3.0)
  out = predict(jnp.zeros((2, 4)), jnp.zeros(2))
  np.testing.assert_array_equal(seen["drop"], [False, False, True, True])
  np.testing.assert_array_equal(seen["labels"], [2, 5, 2, 5])
  # -1 + 3 * (label - (-1))
  np.testing.assert_allclose(out[:, 0], [8.0, 17.0])


def test_text_conditioned_eps_model_trains_and_samples():
  """(The class-conditioned v-prediction model: the trainer test below.)"""
  arg = "tiny,text,eps"
  task = _task(arg)
  video = jax.random.uniform(jax.random.key(0), (2, 4, 16, 16, 3))
  batch = {"video": video, "label": jnp.array([0, 6])}
  state = jax.jit(task.init_state)(jax.random.key(1), batch)
  new, metrics = jax.jit(task.train_step)(state, batch, jax.random.key(2))
  assert np.isfinite(float(metrics["loss"])) and float(metrics["loss"]) > 0
  assert int(new.step) == 1
  sample = jax.jit(lambda p, r, l: task.sample(p, r, l, steps=2))
  a = sample(new.params, jax.random.key(3), jnp.array([1, 4]))
  b = sample(new.params, jax.random.key(3), jnp.array([1, 4]))
  assert a.shape == (2, 4, 16, 16, 3)
  np.testing.assert_array_equal(a, b)  # DDIM (eta 0) is deterministic
  if "text" in arg:
    tokens = jax.jit(task.condition)(jnp.array([1]))["tokens"]
    assert task.tokenizer.decode(np.asarray(tokens[0])) == "move right"


@pytest.mark.slow  # every-config test trains it a step
def test_trains_through_the_trainer(tmp_path, cache_dir):
  config = tiny_config(CONFIG, cache=cache_dir)
  config.train.num_steps = 3
  results = trainer.train_and_evaluate(config, str(tmp_path))
  assert results["step"] == 3
  assert results["eval"]["num_videos"] > 0
  assert 0 < results["eval"]["loss"] < 10
  assert (tmp_path / "real_generated.png").exists()
