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
# One program per motion shape: eagerly, each op compiles its own.
random_motion = jax.jit(style_transfer.random_motion,
                        static_argnames=("n", "h", "w"))


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
  flow = np.asarray(random_motion(jax.random.key(0), 3, 9, 9, 2.0, 0.0))
  # No rotation: a pure translation, the same at every pixel.
  np.testing.assert_allclose(flow, np.broadcast_to(flow[:, :1, :1],
                                                   flow.shape), atol=1e-6)
  assert float(np.abs(flow).max()) <= 2.0
  turn = np.asarray(random_motion(jax.random.key(1), 1, 9, 9, 0.0, 10.0))
  assert float(np.abs(turn[0, 4, 4]).max()) < 1e-5  # the centre stays
  assert float(np.abs(turn[0, 0, 0]).max()) > 0.1


def test_warp_error_is_zero_for_a_motion_equivariant_model():
  """The identity "stylisation" commutes with warping: zero temporal error
  on the pixels the motion keeps inside; an affine colour map too (bilinear
  weights sum to one; a nonlinear map would not commute with them)."""
  task = style_transfer.Task(_config(), INFO, 10)
  frames = jax.random.uniform(jax.random.key(0), (2, 16, 16, 3))
  flow = random_motion(jax.random.key(1), 2, 16, 16, 2.0, 3.0)
  equivariant = (lambda x: x, lambda x: 0.8 - 0.5 * x)
  # A model that shifts its output by a pixel is not consistent.
  shifted = lambda x: jnp.roll(x, 1, axis=2)  # noqa: E731

  @jax.jit  # one program for all three models
  def errors(frames, flow):
    consistent = [task.temporal_error(s, frames, s(frames), flow)
                  for s in equivariant]
    one_pixel = jnp.zeros_like(flow).at[..., 0].set(1.0)
    return consistent, task.temporal_error(shifted, frames, shifted(frames),
                                           one_pixel)

  consistent, inconsistent = errors(frames, flow)
  for err in consistent:
    np.testing.assert_allclose(err, 0.0, atol=1e-6)
  assert float(inconsistent.min()) > 1e-3
  assert jax.eval_shape(warp.valid_mask, flow).shape == (2, 16, 16, 1)


def test_losses_and_temporal_switch():
  config = _config()
  task = style_transfer.Task(config, INFO, 10)
  video = jax.random.uniform(jax.random.key(0), (2, 2, 16, 16, 3))
  state = jax.jit(task.init_state)(jax.random.key(0), {"video": video[:1]})

  @jax.jit  # the loss, and the losses of the content itself, in one program
  def losses(params, model_state, video):
    frames = video.reshape(-1, 16, 16, 3)
    return (task.loss(params, model_state, {"video": video},
                      jax.random.key(1)),
            task.perceptual_losses(frames, frames))

  (loss, (parts, _)), same = losses(state.params, state.model_state, video)
  assert set(parts) == {"content_loss", "style_loss", "tv_loss",
                        "warp_error"}
  assert np.isfinite(float(loss)) and float(parts["style_loss"]) > 0
  # Content loss of the content itself is zero.
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
  state = jax.jit(task.init_state)(jax.random.key(0), {"video": frames[None]})
  flow = random_motion(jax.random.key(1), 4, 16, 16, 2.0, 3.0)

  def warp_error(params):
    def stylise(x):
      return task.run_model(params, state.model_state, (x,), train=False)[0]
    return task.temporal_error(stylise, frames, stylise(frames), flow).mean()

  @jax.jit  # the step and both evaluations in one program
  def before_and_after(params):
    before, grads = jax.value_and_grad(warp_error)(params)
    norm = optax.global_norm(grads)
    stepped = jax.tree.map(lambda p, g: p - 0.05 * g / norm, params, grads)
    return before, norm, warp_error(stepped)

  before, norm, after = before_and_after(state.params)
  assert float(before) > 0 and float(norm) > 0
  assert float(after) < float(before)
