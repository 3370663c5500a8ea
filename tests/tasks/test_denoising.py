"""The denoising task: noise model, metrics, config checks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.stats import norm

from tests.conftest import REPO, load_config
from vidjax.data.pipeline import DatasetInfo
from vidjax.tasks import denoising

INFO = DatasetInfo(num_classes=8, class_names=tuple("abcdefgh"),
                   num_train=1, num_eval=1, root="")


def _config():
  return load_config(REPO / "configs" / "denoising" / "dncnn_synthetic.py")


def test_requires_unit_range_pixels():
  config = _config()
  config.data.mean = (0.45,) * 3
  with pytest.raises(ValueError, match="config.data.mean"):
    denoising.Task(config, INFO, 10)


def test_davis_protocol_sigmas():
  config = load_config(REPO / "configs" / "denoising" / "dncnn_synthetic.py",
                       None)
  assert tuple(config.task.eval_sigmas) == (10, 20, 30, 40, 50)


def test_noisy_input_psnr_matches_each_sigma():
  """Evaluation at the five DAVIS sigmas: the noisy input's PSNR is the
  one Gaussian noise of that sigma gives."""
  config = _config()
  config.task.eval_sigmas = (10.0, 20.0, 30.0, 40.0, 50.0)
  task = denoising.Task(config, INFO, 10)
  clean = jnp.full((4, 4, 16, 16, 3), 0.5)
  state = task.init_state(jax.random.key(0), {"video": clean[:1]})
  sums, examples = jax.jit(task.eval_step)(
      state, {"video": clean, "mask": jnp.ones(4)}, jax.random.key(1))
  assert examples["denoised"].shape == (4, 16, 16, 3)
  result = task.finalize_eval(jax.tree.map(np.asarray, sums))
  # Gaussian noise of sigma s/255 around 0.5, clipped to [0, 1]: MSE is
  # s^2 [(2 Phi(t) - 1) - 2 t phi(t)] + 2 a^2 (1 - Phi(t)), a = 0.5, t = a/s.
  for s in (10, 20, 30, 40, 50):
    sd, a = s / 255, 0.5
    t = a / sd
    mse = sd ** 2 * ((2 * norm.cdf(t) - 1) - 2 * t * norm.pdf(t)) + \
        2 * a ** 2 * norm.sf(t)
    assert result[f"psnr_noisy_s{s}"] == pytest.approx(
        -10 * np.log10(mse), abs=0.1)
    assert result[f"psnr_gain_s{s}"] == pytest.approx(
        result[f"psnr_s{s}"] - result[f"psnr_noisy_s{s}"])
  assert result["psnr"] == pytest.approx(
      np.mean([result[f"psnr_s{s}"] for s in (10, 20, 30, 40, 50)]))
  assert 0 < result["ssim_s10"] <= 1


def test_masked_padding_does_not_count():
  task = denoising.Task(_config(), INFO, 10)
  clean = jax.random.uniform(jax.random.key(0), (2, 4, 16, 16, 3))
  state = task.init_state(jax.random.key(0), {"video": clean[:1]})
  step = jax.jit(task.eval_step)
  one, _ = step(state, {"video": clean[:1], "mask": jnp.ones(1)},
                jax.random.key(3))
  both, _ = step(
      state, {"video": clean.at[1].set(0.0), "mask": jnp.asarray([1.0, 0.0])},
      jax.random.key(3))
  a = task.finalize_eval(jax.tree.map(np.asarray, one))
  b = task.finalize_eval(jax.tree.map(np.asarray, both))
  assert b["num_videos"] == 1
  assert b["psnr_noisy"] == pytest.approx(a["psnr_noisy"], abs=1e-4)


def test_eval_noise_is_the_same_every_time():
  task = denoising.Task(_config(), INFO, 10)
  clean = jax.random.uniform(jax.random.key(0), (2, 4, 16, 16, 3))
  state = task.init_state(jax.random.key(0), {"video": clean[:1]})
  batch = {"video": clean, "mask": jnp.ones(2)}
  step = jax.jit(task.eval_step)
  a, _ = step(state, batch, jax.random.key(3))
  b, _ = step(state, batch, jax.random.key(3))
  np.testing.assert_array_equal(a["psnr_s10"], b["psnr_s10"])
