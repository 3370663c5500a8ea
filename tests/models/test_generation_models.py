"""Video GAN and diffusion U-Net modules: shapes, Conv3D, conditioning."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from vidjax.models import video_gan, video_unet


def test_conv3d_equals_a_3d_convolution():
  x = jax.random.normal(jax.random.key(0), (2, 6, 8, 8, 3))
  conv = video_gan.Conv3D(5, stride=2, time_stride=2)

  @jax.jit  # one program: eagerly, each op compiles its own
  def output_and_reference(x):
    variables = conv.init(jax.random.key(1), x)
    k2d = variables["params"]["conv"]["kernel"]  # [3, 3, 3 * C, F]
    k3d = jnp.transpose(k2d.reshape(3, 3, 3, 3, 5), (2, 0, 1, 3, 4))
    ref = lax.conv_general_dilated(
        x, k3d, (2, 2, 2), ((1, 1), (1, 1), (1, 1)),
        dimension_numbers=("NDHWC", "DHWIO", "NDHWC"))
    return conv.apply(variables, x), ref + variables["params"]["conv"]["bias"]

  out, ref = output_and_reference(x)
  assert out.shape == ref.shape == (2, 3, 4, 4, 5)
  np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)


def test_generator_and_discriminators_shapes():
  model = video_gan.Model(num_frames=8, image_size=16, num_classes=3,
                          **video_gan.VARIANTS["tiny"])
  z = jnp.ones((2, 16))
  video = jnp.zeros((2, 8, 16, 16, 3))
  labels = jnp.array([0, 2])

  @jax.jit  # one program: eagerly, each op of the init compiles its own
  def generate_and_discriminate(z, video, labels):
    variables = model.init(jax.random.key(0), z, video, labels,
                           method=video_gan.Model.init_all)
    out = model.apply(variables, z, labels)
    return out, model.apply(variables, out, labels,
                            method=video_gan.Model.discriminate)

  out, (clip, frame) = generate_and_discriminate(z, video, labels)
  assert out.shape == (2, 8, 16, 16, 3)
  assert float(np.abs(out).max()) <= 1.0
  assert clip.shape == frame.shape == (2,)
  with pytest.raises(ValueError, match="num_frames 6"):
    video_gan.upsampling_plan(6, 16, 2, 2)


def test_unet_text_condition_and_null_condition():
  """Two levels (downsampling, upsampling, attention at the second), unlike
  the one-level `tiny` variant the other tests use."""
  model = video_unet.Model(vocab_size=12, text_max_len=4,
                           **{**video_unet.VARIANTS["tiny"],
                              "widths": (16, 32), "attention_levels": (1,)})
  x = jax.random.normal(jax.random.key(0), (2, 4, 8, 8, 3))
  t = jnp.array([0.1, 0.9])
  tokens = jnp.array([[2, 3, 0, 0], [4, 5, 6, 0]])

  @jax.jit  # one program: eagerly, each op of the init compiles its own
  def perturbed_params(key):
    variables = model.init(key, x, t, tokens=tokens, drop=jnp.zeros(2, bool))
    # The output convolution starts at zero; perturb it to see conditioning.
    return jax.tree.map(lambda p: p + 0.05, variables["params"])

  params = perturbed_params(jax.random.key(1))
  apply = jax.jit(lambda **kw: model.apply({"params": params}, x, t, **kw))
  cond = apply(tokens=tokens, drop=jnp.zeros(2, bool))
  other = apply(tokens=tokens[::-1], drop=jnp.zeros(2, bool))
  null_a = apply(tokens=tokens, drop=jnp.ones(2, bool))
  null_b = apply(tokens=tokens[::-1], drop=jnp.ones(2, bool))
  assert cond.shape == x.shape
  assert not np.allclose(cond, other)  # the prompt matters ...
  np.testing.assert_allclose(null_a, null_b, atol=1e-6)  # ... unless dropped
