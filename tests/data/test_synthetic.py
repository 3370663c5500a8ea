"""The generated motion dataset: layout, determinism, motion-only classes."""

import hashlib
import pathlib

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

from vidjax.data import synthetic
from vidjax.data.decode import open_video
from vidjax.data.sources import ucf101

SPEC = synthetic.SyntheticSpec(clips_per_class=4, num_groups=2, test_groups=1,
                               num_frames=12, size=32)


def _digest(root: pathlib.Path) -> str:
  h = hashlib.sha1()
  for p in sorted(root.rglob("*.mp4")):
    h.update(p.relative_to(root).as_posix().encode())
    h.update(p.read_bytes())
  return h.hexdigest()


def test_ucf101_layout_and_lists(tmp_path):
  root = synthetic.generate(tmp_path / "ds", SPEC)
  classes = ucf101.read_class_index(root / "classInd.txt")
  assert classes == synthetic.CLASSES
  train = (root / "trainlist01.txt").read_text().splitlines()
  test = (root / "testlist01.txt").read_text().splitlines()
  assert len(train) + len(test) == len(synthetic.CLASSES) * 4
  # UCF101 conventions: "Class/v_Class_gNN_cNN.mp4 label" / no label.
  path, label = train[0].split()
  cls = path.split("/")[0]
  assert path.startswith(f"{cls}/v_{cls}_g") and path.endswith(".mp4")
  assert int(label) == classes.index(cls) + 1
  assert all(len(line.split()) == 1 for line in test)
  assert all("_g01_" in line for line in test)  # test split = first group
  with open_video(root / path) as reader:
    assert reader.info.num_frames == 12
    assert (reader.info.width, reader.info.height) == (32, 32)
    assert reader.info.codec == "h264"


def test_generation_is_deterministic(tmp_path):
  a = synthetic.generate(tmp_path / "a", SPEC)
  b = synthetic.generate(tmp_path / "b", SPEC)
  c = synthetic.generate(tmp_path / "c", SPEC.__class__(
      **{**SPEC.__dict__, "seed": 1}))
  assert _digest(a) == _digest(b)
  assert _digest(a) != _digest(c)


def test_interrupted_generation_leaves_nothing(tmp_path, monkeypatch):
  def boom(*args, **kwargs):
    raise KeyboardInterrupt
  monkeypatch.setattr(synthetic, "write_video", boom)
  with pytest.raises(KeyboardInterrupt):
    synthetic.generate(tmp_path / "ds", SPEC)
  assert list(tmp_path.iterdir()) == []


def test_single_frames_do_not_reveal_the_class():
  """A classifier that sees one frame should be near chance (1/8).

  Renders frames directly (no codec) and fits a random forest on
  translation-invariant features of single frames (object area, Fourier
  magnitudes of the object mask, colour spread). As a control, the same
  features do predict what a frame shows (how many objects there are), so
  the near-chance result is about the classes, not weak features.
  """
  spec = synthetic.SyntheticSpec(size=32, num_frames=12)
  rng = np.random.default_rng(0)
  features, labels, counts = [], [], []
  for _ in range(60):
    for c, name in enumerate(synthetic.CLASSES):
      params = synthetic.sample_clip_params(rng, spec)
      clip = synthetic.render_clip(name, params,
                                   synthetic._background(rng, 32), 12)
      frame = clip[int(rng.integers(0, 12))].astype(np.float32)
      mask = (np.abs(frame - frame[:1, :1]).sum(-1) > 30).astype(np.float32)
      fourier = np.abs(np.fft.fft2(mask))[:8, :8].ravel()
      features.append(np.concatenate([[mask.mean()], fourier / fourier[0],
                                      frame.reshape(-1, 3).std(0) / 255]))
      labels.append(c)
      counts.append(params.num_objects)
  x = np.asarray(features)
  split = len(x) * 3 // 4

  def accuracy(y):
    y = np.asarray(y)
    clf = RandomForestClassifier(200, random_state=0)
    return clf.fit(x[:split], y[:split]).score(x[split:], y[split:])

  assert accuracy(labels) < 0.25  # chance: 0.125
  assert accuracy(counts) > 0.42  # chance: about 0.33
