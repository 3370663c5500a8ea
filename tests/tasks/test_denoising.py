"""The denoising task: noise model, metrics, config checks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

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


def test_noisy_input_psnr_matches_sigma():
  config = _config()
  task = denoising.Task(config, INFO, 10)
  clean = jnp.full((4, 4, 16, 16, 3), 0.5)
  state = task.init_state(jax.random.key(0), {"video": clean[:1]})
  sums, examples = task.eval_step(state, {"video": clean,
                                          "mask": jnp.ones(4)},
                                  jax.random.key(1))
  assert examples["denoised"].shape == (4, 16, 16, 3)
  result = task.finalize_eval(jax.tree.map(np.asarray, sums))
  # Gaussian noise of sigma 25/255 (hardly clipped around 0.5): 20.17 dB.
  assert result["psnr_noisy"] == pytest.approx(20 * np.log10(255 / 25),
                                               abs=0.1)
  assert result["psnr_gain"] == pytest.approx(
      result["psnr"] - result["psnr_noisy"])


def test_eval_noise_is_the_same_every_time():
  task = denoising.Task(_config(), INFO, 10)
  clean = jax.random.uniform(jax.random.key(0), (2, 4, 16, 16, 3))
  state = task.init_state(jax.random.key(0), {"video": clean[:1]})
  batch = {"video": clean, "mask": jnp.ones(2)}
  a, _ = task.eval_step(state, batch, jax.random.key(3))
  b, _ = task.eval_step(state, batch, jax.random.key(3))
  np.testing.assert_array_equal(a["psnr"], b["psnr"])
