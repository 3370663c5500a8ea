"""Model families: shapes, factorized convolutions, remat, bfloat16."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from jax import lax

from tests.conftest import init_and_apply
from vidjax import models
from vidjax.models import r2plus1d


def _build(**fields):
  return models.build(ml_collections.ConfigDict(fields),
                      **({} if fields["name"] == "dncnn"
                         else {"num_classes": 5}))


@pytest.mark.parametrize("fields,out_shape", [
    (dict(name="r2plus1d", variant="tiny"), (2, 5)),
    (dict(name="vivit", variant="tiny"), (2, 5)),
    (dict(name="vivit", variant="tiny", attention="joint"), (2, 5)),
    (dict(name="dncnn", variant="tiny"), (2, 8, 16, 16, 3)),
])
def test_output_shapes(fields, out_shape):
  model = _build(**fields)
  video = jnp.ones((2, 8, 16, 16, 3))
  _, out = init_and_apply(model, jax.random.key(0), video, train=False)
  assert out.shape == out_shape
  assert out.dtype == jnp.float32


def test_features_without_head():
  model = models.build(ml_collections.ConfigDict(
      dict(name="r2plus1d", variant="tiny")), num_classes=0)
  video = jnp.ones((2, 4, 16, 16, 3))
  _, out = init_and_apply(model, jax.random.key(0), video)
  assert out.shape == (2, 96)


def test_factorized_convs_equal_3d_convolutions():
  """SpatialConv/TemporalConv compute exactly a 1xkxk / kx1x1 3D conv."""
  x = jax.random.normal(jax.random.key(0), (2, 6, 9, 10, 4))
  dn = ("NDHWC", "DHWIO", "NDHWC")
  for stride in (1, 2):

    @jax.jit  # one program per stride: eagerly, each op compiles its own
    def outputs_and_wants(x, stride=stride):
      conv = r2plus1d.SpatialConv(5, 3, stride)
      params = conv.init(jax.random.key(1), x)
      kernel = params["params"]["conv"]["kernel"]  # [3, 3, 4, 5]
      spatial = (conv.apply(params, x), lax.conv_general_dilated(
          x, kernel[None], (1, stride, stride), ((0, 0), (1, 1), (1, 1)),
          dimension_numbers=dn))
      conv = r2plus1d.TemporalConv(5, 3, stride)
      params = conv.init(jax.random.key(1), x)
      kernel = params["params"]["conv"]["kernel"]  # [3, 1, 4, 5]
      temporal = (conv.apply(params, x), lax.conv_general_dilated(
          x, kernel[:, :, None], (stride, 1, 1), ((1, 1), (0, 0), (0, 0)),
          dimension_numbers=dn))
      return spatial, temporal

    for got, want in outputs_and_wants(x):
      np.testing.assert_allclose(got, want, atol=1e-5)


def test_r2plus1d_18_matches_torchvision_widths():
  # torchvision: midplanes of the first R(2+1)D-18 block and of the stem.
  assert r2plus1d.midplanes(64, 64) == 144
  assert r2plus1d.midplanes(64, 128) == 230
  model = _build(name="r2plus1d", variant="18")
  video = jnp.ones((1, 4, 32, 32, 3))
  shapes = jax.eval_shape(model.init, jax.random.key(0), video)["params"]
  assert shapes["stem_spatial"]["conv"]["kernel"].shape == (7, 7, 3, 45)
  assert shapes["layer2_0"]["conv1"]["spatial"]["conv"]["kernel"].shape == (
      3, 3, 64, 230)
  n = sum(np.prod(p.shape) for p in jax.tree.leaves(shapes))
  # torchvision's r2plus1d_18 has 31,505,325 parameters with 400 classes;
  # here the head has 5 classes: 31,505,325 - 513 * 395.
  assert n == 31_505_325 - 513 * 395


@pytest.mark.slow  # test_scale and test_zoo check remat
def test_remat_changes_nothing_but_memory():
  video = jax.random.normal(jax.random.key(0), (2, 4, 16, 16, 3))
  plain = _build(name="vivit", variant="tiny")
  remat = _build(name="vivit", variant="tiny", remat=True)
  params = plain.init(jax.random.key(1), video)

  def loss(model, p):
    return jnp.sum(model.apply(p, video, train=True) ** 2)

  np.testing.assert_allclose(loss(plain, params), loss(remat, params),
                             rtol=1e-6)
  g1 = jax.grad(lambda p: loss(plain, p))(params)
  g2 = jax.grad(lambda p: loss(remat, p))(params)
  for a, b in zip(jax.tree.leaves(g1), jax.tree.leaves(g2)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["r2plus1d", "vivit"])
def test_bfloat16_compute_float32_params(name):
  model = _build(name=name, variant="tiny", dtype="bfloat16")
  video = jnp.ones((2, 4, 16, 16, 3))
  variables, out = init_and_apply(model, jax.random.key(0), video)
  assert all(p.dtype == jnp.float32
             for p in jax.tree.leaves(variables["params"]))
  assert out.dtype == jnp.float32 and bool(jnp.all(jnp.isfinite(out)))


def test_unknown_names_list_what_exists():
  with pytest.raises(ValueError, match="r2plus1d.*vivit|dncnn.*r2plus1d"):
    _build(name="resnet")
  with pytest.raises(ValueError, match="variant.*tiny"):
    _build(name="vivit", variant="huge")
