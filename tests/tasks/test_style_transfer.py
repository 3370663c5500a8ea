"""The style-transfer task: known motion, warping error, losses."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from tests.conftest import REPO, load_config
from vidjax.data.pipeline import DatasetInfo
from vidjax.ops import warp
from vidjax.tasks import style_transfer

INFO = DatasetInfo(num_classes=8, class_names=tuple("abcdefgh"),
                   num_train=1, num_eval=1, root="")


def _config(arg="tiny"):
  return load_config(REPO / "configs" / "style_transfer" /
                     "style_net_synthetic.py", arg)


@pytest.mark.parametrize("name", style_transfer.STYLES)
def test_style_images_are_deterministic_colour_textures(name):
  a = style_transfer.style_image(name, 32, seed=0)
  assert a.shape == (32, 32, 3) and a.dtype == np.float32
  np.testing.assert_array_equal(a, style_transfer.style_image(name, 32, 0))
  assert a.std() > 0.15 and 0 <= a.min() and a.max() <= 1


def test_random_motion_is_rigid():
  flow = style_transfer.random_motion(jax.random.key(0), 3, 9, 9, 2.0, 0.0)
  # No rotation: a pure translation, the same at every pixel.
  np.testing.assert_allclose(flow, jnp.broadcast_to(flow[:, :1, :1],
                                                    flow.shape), atol=1e-6)
  assert float(jnp.abs(flow).max()) <= 2.0
  turn = style_transfer.random_motion(jax.random.key(1), 1, 9, 9, 0.0, 10.0)
  assert float(jnp.abs(turn[0, 4, 4]).max()) < 1e-5  # the centre stays
  assert float(jnp.abs(turn[0, 0, 0]).max()) > 0.1


def test_warp_error_is_zero_for_a_motion_equivariant_model():
  """The identity "stylisation" commutes with warping: zero temporal error
  on the pixels the motion keeps inside; an affine colour map too (bilinear
  weights sum to one; a nonlinear map would not commute with them)."""
  task = style_transfer.Task(_config(), INFO, 10)
  frames = jax.random.uniform(jax.random.key(0), (2, 16, 16, 3))
  flow = style_transfer.random_motion(jax.random.key(1), 2, 16, 16, 2.0, 3.0)
  for stylise in (lambda x: x, lambda x: 0.8 - 0.5 * x):
    err = task.temporal_error(stylise, frames, stylise(frames), flow)
    np.testing.assert_allclose(err, 0.0, atol=1e-6)
  # A model that shifts its output by a pixel is not consistent.
  shifted = lambda x: jnp.roll(x, 1, axis=2)  # noqa: E731
  err = task.temporal_error(shifted, frames, shifted(frames),
                            jnp.zeros_like(flow).at[..., 0].set(1.0))
  assert float(err.min()) > 1e-3
  assert warp.valid_mask(flow).shape == (2, 16, 16, 1)


def test_losses_and_temporal_switch():
  config = _config()
  task = style_transfer.Task(config, INFO, 10)
  video = jax.random.uniform(jax.random.key(0), (2, 2, 16, 16, 3))
  state = task.init_state(jax.random.key(0), {"video": video[:1]})
  loss, (parts, _) = jax.jit(task.loss)(state.params, state.model_state,
                                        {"video": video}, jax.random.key(1))
  assert set(parts) == {"content_loss", "style_loss", "tv_loss",
                        "warp_error"}
  assert np.isfinite(float(loss)) and float(parts["style_loss"]) > 0
  # Content loss of the content itself is zero.
  frames = video.reshape(-1, 16, 16, 3)
  same = task.perceptual_losses(frames, frames)
  np.testing.assert_allclose(same["content_loss"], 0.0, atol=1e-6)
  config.task.temporal_weight = 0.0
  plain = style_transfer.Task(config, INFO, 10)
  _, (parts, _) = jax.jit(plain.loss)(state.params, state.model_state,
                                      {"video": video}, jax.random.key(1))
  assert "warp_error" not in parts


def test_temporal_loss_gradient_reduces_the_warping_error():
  """A small step down the temporal loss's gradient lowers the warping
  error of an untrained style network (which is not motion-equivariant:
  zero padding and strided convolutions)."""
  task = style_transfer.Task(_config(), INFO, 10)
  frames = jax.random.uniform(jax.random.key(0), (4, 16, 16, 3))
  state = task.init_state(jax.random.key(0), {"video": frames[None]})
  flow = style_transfer.random_motion(jax.random.key(1), 4, 16, 16, 2.0, 3.0)

  def warp_error(params):
    def stylise(x):
      return task.run_model(params, state.model_state, (x,), train=False)[0]
    return task.temporal_error(stylise, frames, stylise(frames), flow).mean()

  value_and_grad = jax.jit(jax.value_and_grad(warp_error))
  before, grads = value_and_grad(state.params)
  norm = optax.global_norm(grads)
  assert float(before) > 0 and float(norm) > 0
  stepped = jax.tree.map(lambda p, g: p - 0.05 * g / norm, state.params,
                         grads)
  after, _ = value_and_grad(stepped)
  assert float(after) < float(before)
