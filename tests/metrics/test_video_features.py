"""The project-trained FVD feature network (slow: it trains a classifier)."""

import jax
import pytest

from tests.conftest import REPO, tiny_config
from vidjax.data import pipeline
from vidjax.metrics import generation
from vidjax.metrics.video_features import FeatureNetwork
from vidjax.train import trainer


@pytest.mark.slow
def test_trained_features_tell_real_from_shuffled_frames(tmp_path,
                                                         cache_dir):
  """A real-vs-real split is closer than real vs shuffled frames."""
  path = REPO / "configs" / "generation" / "fvd_features_synthetic.py"
  config = tiny_config(path, arg="steps=150", cache=cache_dir)
  config.data.synthetic.update(clips_per_class=24, num_groups=4,
                               test_groups=1, progress=False)
  config.logging.progress_bar = False
  trainer.train_and_evaluate(config, str(tmp_path))
  network = FeatureNetwork.load(tmp_path)
  train, evaluation = pipeline.load_sources(config)
  real, shuffled = generation.real_and_shuffled_features(
      network, pipeline.make_eval_dataset(config, evaluation),
      jax.random.key(0))
  out = generation.split_halves_fvd(real, shuffled)
  assert out["real_halves"] < out["shuffled_halves"], out
