"""TFDS ArrayRecord round trip: prepare (resumable, parallel) and read back
with `tfds.data_source` into the same pipeline, without TensorFlow."""

import sys

import ml_collections
import numpy as np
import pytest

from tests.data import videos
from vidjax.data import __main__ as cli
from vidjax.data import pipeline
from vidjax.data import prepare
from vidjax.data import tfds_records
from vidjax.data.decode import open_video
from vidjax.data.sources import csv as csv_source
from vidjax.data.sources import make_source

pytest.importorskip("tensorflow_datasets")
pytest.importorskip("array_record")


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
  """A CSV collection: 4 videos (one with a segment) and a broken one."""
  root = tmp_path_factory.mktemp("collection")
  lengths = (12, 20, 16, 30)
  for i, n in enumerate(lengths):
    videos.write_video(root / f"v{i}.mp4",
                       videos.moving_frames(n, 24, 40, seed=i), fps=10)
  (root / "broken.mp4").write_bytes(b"not a video")
  (root / "train.csv").write_text(
      "path,label,start,end\nv0.mp4,cat\nv1.mp4,dog\nbroken.mp4,cat\n"
      "v3.mp4,dog,1.0,2.5\n")
  (root / "test.csv").write_text("v2.mp4,cat\n")
  return root


def _sources(root):
  return {s: csv_source.load(root, s) for s in ("train", "test")}


def test_prepare_jpeg_resumes_and_reads_back(collection, tmp_path):
  out = tmp_path / "out"
  opts = tfds_records.PrepareOptions(short_side=16, format="jpeg",
                                     jpeg_quality=95)

  class Interrupted(Exception):
    pass

  def interrupt_after_three(it, total):
    assert total == 5
    for n, x in enumerate(it):  # x: the n-th conversion, finished
      if n == 2:
        raise Interrupted
      yield x

  with pytest.raises(Interrupted):
    prepare.prepare(_sources(collection), out, opts,
                    progress=interrupt_after_three)
  assert not list(out.glob(f"{tfds_records.NAME}/*/dataset_info.json"))
  result = prepare.prepare(_sources(collection), out, opts)
  assert result.converted_now == 2  # only what the first run did not do
  assert result.converted == {"train": 3, "test": 1}
  assert [n for n, _ in result.failures["train"]] == ["broken.mp4"]
  assert not (out / prepare.WORK).exists()
  again = prepare.prepare(_sources(collection), out, opts)
  assert again.converted_now == 0 and again.converted == result.converted

  data = ml_collections.ConfigDict(dict(source="tfds", root=str(out)))
  train = make_source(data, "train")
  assert train.class_names == ("cat", "dog")
  assert [r["label"] for r in train.records] == [0, 1, 1]
  # Every stored frame is the source frame, resized (JPEG: loosely).
  example = tfds_records.data_source(train.records[1]["tfds_dir"],
                                     "train")[1]
  assert example["name"] == b"v1.mp4" and example["num_frames"] == 20
  reader = tfds_records.open_example(train.records[1])
  with reader, open_video(collection / "v1.mp4") as original:
    assert (reader.info.height, reader.info.width) == (16, 27)
    got = reader.read([0, 7, 19])
    want = pipeline.transforms.resize(original.read([0, 7, 19]), 16, 27)
  assert np.abs(got.astype(float) - want).mean() < 4
  # The segment [1.0, 2.5] s of v3 became 15 frames.
  assert tfds_records.data_source(str(result.dataset_dir),
                                  "train")[2]["num_frames"] == 15


def test_prepared_records_feed_the_training_pipeline(collection, tmp_path,
                                                     cache_dir):
  from tests.conftest import tiny_config  # pylint: disable=g-import-not-at-top
  out = tmp_path / "out"
  prepare.prepare(_sources(collection), out, tfds_records.PrepareOptions(
      short_side=20, fps=5.0, format="video"))
  config = tiny_config(cache=cache_dir)
  config.data.source = "tfds"
  config.data.root = str(out)
  config.train.batch_size = 2
  train, test = pipeline.load_sources(config)
  batch = pipeline.make_train_batches(config, train)[0]
  size = config.data.image_size
  assert batch["video"].shape == (2, config.data.num_frames, size, size, 3)
  assert batch[pipeline.DECODE_FAILURES].tolist() == [0, 0]
  ev = next(iter(pipeline.make_eval_dataset(config, test, batch_size=2)))
  assert ev["mask"].tolist() == [1.0, 0.0]
  # fps=5 halves the 10 fps source: 20 frames -> 10.
  reader = tfds_records.open_example(train.records[1])
  with reader:
    assert reader.info.num_frames == 10 and reader.info.fps == 5.0
    assert reader.info.codec == "h264"


def test_prepare_command_in_parallel(collection, tmp_path, capsys):
  out = tmp_path / "out"
  code = cli.main(["prepare", "--source", "csv", "--root", str(collection),
                   "--out", str(out), "--short_side", "16", "--workers", "2",
                   "--no_progress"])
  printed = capsys.readouterr().out
  assert code == 0
  assert "FAIL train broken.mp4: unreadable container" in printed
  assert "train: 3 videos, 1 failed" in printed
  assert "test: 1 videos, 0 failed" in printed
  assert cli.main(["check", str(out), "--no_progress"]) == 0
  assert "checked 4 videos: 4 ok, 0 failed" in capsys.readouterr().out
  assert "tensorflow" not in sys.modules
