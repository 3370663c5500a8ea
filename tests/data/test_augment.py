"""The augmentation set of config.data.augment: one parameter set per clip,
documented defaults, batch-level mixup/cutmix with soft labels, and the TSN
and uniform samplers."""

import dataclasses
import pathlib

import numpy as np
import pytest

from tests.conftest import load_config
from vidjax.data import pipeline
from vidjax.data import sampling
from vidjax.data import transforms as T

REPO = pathlib.Path(__file__).resolve().parents[2]


def _static_clip(t=5, h=40, w=56, seed=0):
  frame = np.random.default_rng(seed).integers(0, 256, (h, w, 3), np.uint8)
  return np.repeat(frame[None], t, axis=0)


def _assert_frames_identical(video):
  for t in range(1, video.shape[0]):
    np.testing.assert_array_equal(video[t], video[0])


UINT8 = {
    "multi_scale_crop": lambda v, r: T.multi_scale_crop(
        v, r, 24, T.MULTI_SCALE_SCALES, 1),
    "short_side_jitter_crop": lambda v, r: T.short_side_jitter_crop(
        v, r, 24, (28, 48)),
    "random_rotation": lambda v, r: T.random_rotation(v, r, 30.0),
    "randaugment": lambda v, r: T.randaugment(v, r, 3, 9.0, 0.5),
}
FLOAT = {
    "random_grayscale": lambda v, r: T.random_grayscale(v, r, 1.0),
    "random_gaussian_blur": lambda v, r: T.random_gaussian_blur(
        v, r, 1.0, (0.5, 2.0)),
    "random_erasing": lambda v, r: T.random_erasing(v, r, 1.0),
}


@pytest.mark.parametrize("name", sorted(UINT8))
def test_geometric_and_randaugment_one_parameter_set_per_clip(name):
  clip = _static_clip()
  changed = 0
  for seed in range(6):
    out = UINT8[name](clip, np.random.default_rng(seed))
    assert out.dtype == np.uint8 and out.shape[0] == clip.shape[0]
    _assert_frames_identical(out)
    changed += out.shape != clip.shape or not np.array_equal(out, clip)
  assert changed >= 4


@pytest.mark.parametrize("name", sorted(FLOAT))
def test_photometric_one_parameter_set_per_clip(name):
  clip = T.to_float(_static_clip())
  for seed in range(6):
    out = FLOAT[name](clip, np.random.default_rng(seed))
    assert out.dtype == np.float32 and out.shape == clip.shape
    _assert_frames_identical(out)
    assert not np.allclose(out, clip)


def test_gaussian_noise_level_is_the_clips():
  clip = np.full((4, 32, 32, 3), 0.5, np.float32)
  out = T.random_gaussian_noise(clip, np.random.default_rng(0), 1.0,
                                (0.02, 0.08))
  stds = (out - clip).std(axis=(1, 2, 3))
  assert 0.02 <= stds.min() and stds.max() <= 0.08
  assert stds.max() - stds.min() < 0.003  # one level for all frames


def test_every_randaugment_op_runs_and_keeps_clips_consistent():
  clip = _static_clip(t=3, h=20, w=24)
  for op in T.RANDAUGMENT_OPS:
    out = T.apply_randaugment_op(clip, op, 9.0, -1.0)
    assert out.shape == clip.shape and out.dtype == np.uint8, op
    _assert_frames_identical(out)
    assert op == "identity" or not np.array_equal(out, clip), op


def test_blur_matches_scipy():
  ndimage = pytest.importorskip("scipy.ndimage")
  clip = T.to_float(_static_clip(t=2, h=30, w=30))
  got = T.gaussian_blur(clip, 1.5)
  want = ndimage.gaussian_filter(clip, sigma=(0, 1.5, 1.5, 0),
                                 mode="reflect", truncate=3.0)
  # scipy's "reflect" repeats the edge pixel (numpy's "symmetric"); compare
  # away from the border.
  np.testing.assert_allclose(got[:, 5:-5, 5:-5], want[:, 5:-5, 5:-5],
                             atol=1e-4)


@pytest.mark.parametrize("mixup,cutmix", [(0.8, 0.0), (0.0, 1.0), (0.8, 1.0)])
def test_mix_batch_soft_labels_sum_to_one(mixup, cutmix):
  rng = np.random.default_rng(0)
  video = rng.uniform(size=(6, 3, 16, 16, 3)).astype(np.float32)
  labels = np.array([0, 1, 2, 3, 4, 0])
  for seed in range(8):
    mixed, soft = T.mix_batch(video, labels, 5, np.random.default_rng(seed),
                              mixup, cutmix)
    assert soft.shape == (6, 5) and soft.dtype == np.float32
    np.testing.assert_allclose(soft.sum(-1), 1.0, atol=1e-6)
    assert (soft >= 0).all()
    assert mixed.shape == video.shape
    # Each example keeps lam of its own label: the weight of its own class
    # (when the partner's class differs) is the fraction of its own pixels.
    lam = soft[np.arange(6), labels]
    own = np.isclose(mixed, video).all(-1).mean(axis=(1, 2, 3))
    partner_differs = soft.max(-1) < 1
    if cutmix and not mixup:
      np.testing.assert_allclose(own[partner_differs],
                                 lam[partner_differs], atol=1e-6)


def test_mixup_is_a_convex_blend():
  rng = np.random.default_rng(1)
  video = rng.uniform(size=(4, 2, 8, 8, 3)).astype(np.float32)
  labels = np.array([0, 1, 2, 3])
  mixed, soft = T.mix_batch(video, labels, 4, np.random.default_rng(3),
                            mixup_alpha=1.0)
  # With distinct labels, soft[i] holds lam on i and 1 - lam on the partner.
  for i in range(4):
    j = int(np.argmax(np.where(np.arange(4) == i, -1, soft[i])))
    lam = soft[i, i]
    if lam < 1:
      np.testing.assert_allclose(
          mixed[i], lam * video[i] + (1 - lam) * video[j], atol=1e-5)


def test_augment_options_documented_in_configs():
  """Every augmentation option has a default in configs/common.py, and
  every documented field is one the pipeline reads."""
  config = load_config(REPO / "configs" / "quickstart.py", None)
  fields = {f.name for f in dataclasses.fields(pipeline.AugmentOptions)}
  assert set(config.data.augment.keys()) == fields
  source = (REPO / "configs" / "common.py").read_text()
  for name in fields:
    line = next(l for l in source.splitlines() if f"{name}=" in l)
    assert line.strip().startswith(name)
  with pytest.raises(ValueError, match="choose one of"):
    pipeline.AugmentOptions(random_resized_crop=True, scale_jitter=(28, 40))


def test_full_augmentation_chain_in_the_pipeline(tiny_root):
  """A training example with every augmentation on keeps its shape."""
  from vidjax.data.sources import ucf101  # pylint: disable=g-import-not-at-top
  source = ucf101.load(tiny_root, "train")
  aug = pipeline.AugmentOptions(
      random_resized_crop=False, multi_scale_crop=True, horizontal_flip=True,
      rotation=10.0, randaugment_layers=2, color_jitter=0.4,
      grayscale_prob=0.5, blur_prob=0.5, noise_prob=0.5, erase_prob=0.5)
  opts = pipeline.ClipOptions(num_frames=4, stride=2, pad_mode="loop",
                              image_size=16, mean=(0.45,) * 3,
                              std=(0.225,) * 3, augment=aug)
  clip = pipeline.TrainClip(opts)
  a = clip.random_map(source.records[0], np.random.default_rng(5))
  b = clip.random_map(source.records[0], np.random.default_rng(5))
  assert a["video"].shape == (4, 16, 16, 3)
  np.testing.assert_array_equal(a["video"], b["video"])  # seeded


# -- samplers ------------------------------------------------------------------


def test_tsn_segments_one_frame_each():
  rng = np.random.default_rng(0)
  for n in (8, 9, 50, 101):
    idx = sampling.segment_indices(n, 8, rng)
    seg = n / 8
    assert idx.shape == (8,)
    assert all(np.floor(k * seg) <= i < np.ceil((k + 1) * seg) + 1e-9
               for k, i in enumerate(idx))
  np.testing.assert_array_equal(sampling.segment_indices(80, 4),
                                [10, 30, 50, 70])  # centres in testing
  assert sampling.segment_indices(3, 6).tolist() == [0, 0, 1, 1, 2, 2]
  clips = sampling.eval_indices("tsn", 80, 4, 1, 2)
  np.testing.assert_array_equal(clips, [[5, 25, 45, 65], [15, 35, 55, 75]])


def test_uniform_sampling_covers_the_video():
  np.testing.assert_array_equal(sampling.uniform_indices(10, 4), [0, 3, 6, 9])
  np.testing.assert_array_equal(sampling.uniform_indices(3, 5),
                                [0, 0, 1, 2, 2])
  clips = sampling.eval_indices("uniform", 31, 4, 1, 2)
  np.testing.assert_array_equal(clips, [[0, 10, 20, 30], [5, 15, 25, 30]])
  rng = np.random.default_rng(0)
  np.testing.assert_array_equal(
      sampling.train_indices("uniform", 10, 4, 1, rng), [0, 3, 6, 9])
