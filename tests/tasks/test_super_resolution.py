"""The super-resolution task: degradation, bicubic baseline, metrics."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.conftest import REPO, load_config
from vidjax.data.pipeline import DatasetInfo
from vidjax.ops import resize
from vidjax.tasks import super_resolution

INFO = DatasetInfo(num_classes=8, class_names=tuple("abcdefgh"),
                   num_train=1, num_eval=1, root="")


def _config(arg="tiny,x2"):
  return load_config(REPO / "configs" / "super_resolution" /
                     "espcn_synthetic.py", arg)


def test_model_scale_follows_the_task():
  task = super_resolution.Task(_config("tiny,x4"), INFO, 10)
  assert task.model.scale == 4 and task.output_scale == 4


def test_scale_must_divide_the_frame():
  config = _config()
  config.data.image_size = 15
  with pytest.raises(ValueError, match="image_size=15"):
    super_resolution.Task(config, INFO, 10)


class _Oracle(super_resolution.Task):
  """A "model" that returns the ground truth: checks the metric plumbing."""

  def eval_step(self, state, batch, rng):
    self.run_model = lambda p, s, inputs, **kw: (batch["video"], s)
    return super().eval_step(state, batch, rng)


def test_bicubic_baseline_and_gain():
  config = _config()
  task = _Oracle(config, INFO, 10)
  hr = jax.image.resize(jax.random.uniform(jax.random.key(0),
                                           (2, 2, 8, 8, 3)),
                        (2, 2, 16, 16, 3), "bilinear")
  state = task.init_state(jax.random.key(0), {"video": hr[:1]})
  sums, examples = task.eval_step(state, {"video": hr, "mask": jnp.ones(2)},
                                  jax.random.key(1))
  result = task.finalize_eval(jax.tree.map(np.asarray, sums))
  bicubic = np.clip(np.asarray(resize.upsample(resize.degrade(hr, 2), 2)),
                    0, 1)
  mse = ((bicubic - np.asarray(hr)) ** 2).mean(axis=(2, 3, 4))
  want = np.mean(10 * np.log10(1 / mse))
  assert result["psnr_bicubic"] == pytest.approx(want, abs=1e-3)
  assert result["psnr"] > 100  # the oracle is exact
  assert result["ssim"] == pytest.approx(1.0, abs=1e-5)
  assert result["psnr_gain"] == pytest.approx(
      result["psnr"] - result["psnr_bicubic"])
  assert examples["lr"].shape == (2, 8, 8, 3)
  assert examples["output"].shape == (2, 16, 16, 3)
