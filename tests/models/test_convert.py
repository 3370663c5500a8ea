"""PyTorch weight conversion: Hugging Face parity, torchvision layouts, CLI.

Parity tests build randomly initialised reference models locally (nothing is
downloaded), convert them and compare logits in float32. They need torch and
transformers (requirements-test.txt installs them on Python 3.11) and are
skipped with the reason otherwise. torchvision does not install beside the
CPU torch build, so its converters are checked on state_dicts with
torchvision's key names and shapes (generated below from its
`torchvision/models/video/resnet.py` layout, and checked against the
parameter counts torchvision publishes), and on plain-torch rebuilds of the
same modules (tests/models/torch_reference.py).
"""

import functools

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from vidjax import models
from vidjax.models import convert
from vidjax.train import pretrained

try:
  import torch
  import transformers
except ImportError:
  torch = transformers = None
needs_torch = pytest.mark.skipif(
    torch is None, reason="PyTorch parity tests need torch and transformers "
    "(requirements-test.txt installs them on Python 3.11)")

TOL = 1e-4


def _apply(meta, variables, video):
  model = models.build(ml_collections.ConfigDict(meta["model"]),
                       num_classes=meta["num_classes"])
  # One program: eagerly, each op compiles its own.
  apply = jax.jit(functools.partial(model.apply, train=False))
  return np.asarray(apply(variables, jnp.asarray(video)))


# -- torchvision: state_dicts with the real names ----------------------------

def torchvision_video_resnet_shapes(name: str, num_classes: int = 400
                                    ) -> dict[str, tuple[int, ...]]:
  """Key -> shape of torchvision.models.video.{r3d_18,mc3_18,r2plus1d_18}.

  Written from torchvision/models/video/resnet.py: VideoResNet(stem,
  layer1..4 of BasicBlock, fc); BasicBlock.conv1 = Sequential(conv, BN,
  ReLU), conv2 = Sequential(conv, BN), downsample = Sequential(Conv3d 1x1x1,
  BN); Conv2Plus1D = Sequential(Conv3d 1xkxk, BN, ReLU, Conv3d kx1x1) with
  midplanes = cin*cout*27 // (cin*9 + 3*cout); R2Plus1dStem = (Conv3d
  1x7x7 -> 45, BN, ReLU, Conv3d 3x1x1 -> 64, BN, ReLU); BasicStem = (Conv3d
  3x7x7 -> 64, BN, ReLU).
  """
  shapes: dict[str, tuple[int, ...]] = {}

  def bn(prefix, c):
    for k in ("weight", "bias", "running_mean", "running_var"):
      shapes[f"{prefix}.{k}"] = (c,)
    shapes[f"{prefix}.num_batches_tracked"] = ()

  if name == "r2plus1d_18":
    shapes["stem.0.weight"] = (45, 3, 1, 7, 7)
    bn("stem.1", 45)
    shapes["stem.3.weight"] = (64, 45, 3, 1, 1)
    bn("stem.4", 64)
  else:
    shapes["stem.0.weight"] = (64, 3, 3, 7, 7)
    bn("stem.1", 64)
  cin = 64
  for stage, cout in enumerate((64, 128, 256, 512)):
    temporal = name == "r3d_18" or (name == "mc3_18" and stage == 0)
    for b in range(2):
      src = f"layer{stage + 1}.{b}"
      block_in = cin if b == 0 else cout
      mid = (block_in * cout * 27) // (block_in * 9 + 3 * cout)
      for c, c_in in ((1, block_in), (2, cout)):
        if name == "r2plus1d_18":
          shapes[f"{src}.conv{c}.0.0.weight"] = (mid, c_in, 1, 3, 3)
          bn(f"{src}.conv{c}.0.1", mid)
          shapes[f"{src}.conv{c}.0.3.weight"] = (cout, mid, 3, 1, 1)
        else:
          shapes[f"{src}.conv{c}.0.weight"] = (cout, c_in,
                                               3 if temporal else 1, 3, 3)
        bn(f"{src}.conv{c}.1", cout)
      if b == 0 and stage > 0:
        shapes[f"{src}.downsample.0.weight"] = (cout, cin, 1, 1, 1)
        bn(f"{src}.downsample.1", cout)
    cin = cout
  shapes["fc.weight"] = (num_classes, 512)
  shapes["fc.bias"] = (num_classes,)
  return shapes


# Parameter counts from torchvision's weight metadata (`num_params`).
TORCHVISION_NUM_PARAMS = {"r3d_18": 33_371_472, "mc3_18": 11_695_440,
                          "r2plus1d_18": 31_505_325}


@pytest.mark.parametrize("name", sorted(TORCHVISION_NUM_PARAMS))
def test_torchvision_video_state_dict_converts(name):
  shapes = torchvision_video_resnet_shapes(name)
  counted = sum(int(np.prod(s)) for k, s in shapes.items()
                if not k.endswith(("running_mean", "running_var",
                                   "num_batches_tracked")))
  assert counted == TORCHVISION_NUM_PARAMS[name]
  rng = np.random.default_rng(0)
  sd = {k: rng.standard_normal(s).astype(np.float32) for k, s in
        shapes.items()}
  # convert_state_dict checks every vidjax variable is filled once with the
  # right shape and that no checkpoint tensor is left over.
  variables, meta = convert.convert_state_dict("torchvision", name, sd)
  assert meta["num_classes"] == 400
  params = variables["params"]
  n = sum(v.size for v in jax.tree.leaves(params))
  assert n == TORCHVISION_NUM_PARAMS[name]
  # Spot-check layouts: torch [O, I, t, h, w] -> flax [t, h, w, I, O].
  if name == "r2plus1d_18":
    np.testing.assert_array_equal(
        params["layer2_0"]["conv1"]["spatial"]["conv"]["kernel"],
        sd["layer2.0.conv1.0.0.weight"][:, :, 0].transpose(2, 3, 1, 0))
    np.testing.assert_array_equal(
        variables["batch_stats"]["layer1_0"]["conv1"]["bn"]["var"],
        sd["layer1.0.conv1.0.1.running_var"])
  else:
    np.testing.assert_array_equal(
        params["layer1_0"]["conv1"]["kernel"],
        sd["layer1.0.conv1.0.weight"].transpose(2, 3, 4, 1, 0))
  np.testing.assert_array_equal(params["head"]["kernel"], sd["fc.weight"].T)


def test_torchvision_unknown_or_extra_tensors_are_errors():
  shapes = torchvision_video_resnet_shapes("r3d_18", num_classes=3)
  sd = {k: np.zeros(s, np.float32) for k, s in shapes.items()}
  with pytest.raises(ValueError, match="not converted.*extra.weight"):
    convert.convert_state_dict("torchvision", "r3d_18",
                               {**sd, "extra.weight": np.zeros(3)})
  del sd["layer3.1.conv2.1.running_var"]
  with pytest.raises(KeyError, match="layer3.1.conv2.1.running_var"):
    convert.convert_state_dict("torchvision", "r3d_18", sd)
  with pytest.raises(ValueError, match="no family in vidjax"):
    convert.convert_state_dict("torchvision", "swin3d_t", sd)


# -- parity against PyTorch --------------------------------------------------

@needs_torch
@pytest.mark.parametrize("kind,name", [("r3d", "r3d_18"), ("mc3", "mc3_18"),
                                       ("r2plus1d", "r2plus1d_18")])
def test_torchvision_layout_parity(kind, name):
  from tests.models import torch_reference  # pylint: disable=g-import-not-at-top
  torch.manual_seed(0)
  ref = torch_reference.VideoResNet(kind, num_classes=7).eval()
  torch_reference.randomize_batch_norm(ref)
  sd = {k: v.numpy() for k, v in ref.state_dict().items()}
  # The rebuild has exactly torchvision's names and shapes.
  want = torchvision_video_resnet_shapes(name, num_classes=7)
  assert {k: tuple(v.shape) for k, v in sd.items()} == want
  variables, meta = convert.convert_state_dict("torchvision", name, sd,
                                               clip=(4, 32))
  video = np.random.default_rng(0).standard_normal(
      (2, 4, 32, 32, 3)).astype(np.float32)
  with torch.no_grad():
    want_logits = ref(torch.from_numpy(video).permute(0, 4, 1, 2, 3)).numpy()
  got = _apply(meta, variables, video)
  assert np.max(np.abs(got - want_logits)) < TOL


HF_SMALL = dict(image_size=16, num_frames=4, hidden_size=32,
                num_hidden_layers=2, num_attention_heads=4,
                intermediate_size=64, num_labels=5)


def _hf_model(name):
  torch.manual_seed(0)
  if name == "videomae":
    cfg = transformers.VideoMAEConfig(patch_size=4, tubelet_size=2,
                                      **HF_SMALL)
    model = transformers.VideoMAEForVideoClassification(cfg)
  elif name == "vivit":
    cfg = transformers.VivitConfig(tubelet_size=[2, 4, 4], **HF_SMALL)
    model = transformers.VivitForVideoClassification(cfg)
  else:
    cfg = transformers.TimesformerConfig(patch_size=4, **HF_SMALL)
    model = transformers.TimesformerForVideoClassification(cfg)
  # Non-zero biases and LayerNorm affines, so every tensor's conversion
  # shows in the logits.
  with torch.no_grad():
    for p in model.parameters():
      p.add_(torch.randn_like(p) * 0.02)
  return model.eval()


@needs_torch
@pytest.mark.parametrize("name", ["videomae", "vivit", "timesformer"])
def test_hugging_face_parity(name):
  model = _hf_model(name)
  sd = {k: v.numpy() for k, v in model.state_dict().items()}
  variables, meta = convert.convert_state_dict("hf", name, sd,
                                               model.config.to_dict())
  assert meta["num_classes"] == 5 and meta["num_frames"] == 4
  video = np.random.default_rng(0).standard_normal(
      (2, 4, 16, 16, 3)).astype(np.float32)
  with torch.no_grad():
    want = model(pixel_values=torch.from_numpy(video).permute(
        0, 1, 4, 2, 3)).logits.numpy()
  got = _apply(meta, variables, video)
  assert got.shape == want.shape == (2, 5)
  assert np.max(np.abs(got - want)) < TOL


@needs_torch
def test_cli_writes_an_init_from_checkpoint(tmp_path):
  """save_pretrained folder -> `python -m vidjax.models.convert` -> Orbax
  checkpoint that config.init_from reads back unchanged."""
  model = _hf_model("videomae")
  model.save_pretrained(tmp_path / "hf")  # config.json + model.safetensors
  assert (tmp_path / "hf" / "model.safetensors").exists()
  dst = tmp_path / "converted"
  convert.main(["--from", "hf", "--model", "videomae", "--src",
                str(tmp_path / "hf"), "--dst", str(dst)])
  variables, meta = pretrained.read(str(dst))
  assert meta["model"]["name"] == "videomae" and meta["num_classes"] == 5
  sd = {k: v.numpy() for k, v in model.state_dict().items()}
  np.testing.assert_array_equal(variables["params"]["head"]["kernel"],
                                sd["classifier.weight"].T)
  video = np.random.default_rng(1).standard_normal(
      (1, 4, 16, 16, 3)).astype(np.float32)
  with torch.no_grad():
    want = model(pixel_values=torch.from_numpy(video).permute(
        0, 1, 4, 2, 3)).logits.numpy()
  assert np.max(np.abs(_apply(meta, variables, video) - want)) < TOL
