"""End to end: a feature network and a GAN trained through the trainer,
FVD computed with it at evaluation, then `python -m vidjax.generate`."""

import math

import av
import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO, tiny_config
from vidjax import generate
from vidjax.metrics.video_features import FeatureNetwork
from vidjax.train import trainer

GEN = REPO / "configs" / "generation"


def test_video_grid_layout():
  clips = np.zeros((5, 2, 4, 6, 3), np.float32)
  clips[3] = 1.0  # row 1, column 0 of a 3-column grid
  grid = generate.video_grid(clips, columns=3, scale=2, pad=1)
  # 2 rows of 8 px + 3 pad rows = 19 -> 20 (even); 3 x 12 + 4 = 40.
  assert grid.shape == (2, 20, 40, 3) and grid.dtype == np.uint8
  assert np.all(grid[:, 1 + 8 + 1:1 + 8 + 1 + 8, 1:1 + 12] == 255)
  assert np.all(grid[:, 1:9, 1:13] == 0)


@pytest.mark.slow  # trains a feature net and a GAN, ~2 min
def test_features_fvd_and_generate_cli(tmp_path, cache_dir):
  features_dir = tmp_path / "features"
  config = tiny_config(GEN / "fvd_features_synthetic.py", cache=cache_dir)
  trainer.train_and_evaluate(config, str(features_dir))
  network = FeatureNetwork.load(features_dir)
  assert network.class_names[0] == "MoveLeft"
  assert (network.num_frames, network.image_size) == (4, 16)

  config = tiny_config(GEN / "gan_synthetic.py", cache=cache_dir)
  config.task.feature_network = str(features_dir)
  results = trainer.train_and_evaluate(config, str(tmp_path / "gan"))
  metrics = results["eval"]
  for k in ("fvd", "fvd_shuffled", "cond_top1", "real_top1"):
    assert math.isfinite(metrics[k]), k
  assert metrics["fvd"] > 0 and 0 <= metrics["cond_top1"] <= 1
  assert set(results["per_class"]) == set(network.class_names)

  out = tmp_path / "out" / "grid.mp4"
  rc = generate.main(["--checkpoint", str(tmp_path / "gan"), "--num", "3",
                      "--label", "MoveUp", "--output", str(out),
                      "--scale", "2"])
  assert rc == 0
  with av.open(str(out)) as container:
    frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
  # 3 clips -> a 2 x 2 grid of 32 px clips with 2 px padding: 70 x 70.
  assert len(frames) == 4 and frames[0].shape == (70, 70, 3)
  gif = Image.open(out.with_suffix(".gif"))
  assert gif.n_frames == 4 and gif.size == (70, 70)
  assert not list(out.parent.glob(".partial-*"))

  assert generate.main(["--checkpoint", str(tmp_path / "gan"), "--label",
                        "Jump", "--output", str(tmp_path / "x.mp4")]) == 2
  assert generate.main(["--checkpoint", str(tmp_path / "gan"), "--prompt",
                        "move up", "--output", str(tmp_path / "x.mp4")]) == 2
  assert not (tmp_path / "x.mp4").exists()
