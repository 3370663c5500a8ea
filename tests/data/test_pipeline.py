"""Grain pipelines: batches depend only on the seed and the batch index."""

import itertools

import grain
import numpy as np
import pytest

from tests.conftest import copy_ucf_dataset, tiny_config
from vidjax.data import pipeline
from vidjax.data.sources import ucf101


@pytest.fixture(scope="module")
def config(cache_dir):
  c = tiny_config(cache=cache_dir)
  c.train.batch_size = 4
  return c


@pytest.fixture(scope="module")
def sources(config, tiny_root):
  del tiny_root  # generated
  return pipeline.load_sources(config)


def _take(dataset, n):
  return list(itertools.islice(iter(dataset), n))


def _assert_same_batches(a, b):
  assert len(a) == len(b)
  for x, y in zip(a, b):
    assert sorted(x) == sorted(y)
    for k in x:
      np.testing.assert_array_equal(x[k], y[k], err_msg=k)


def test_train_batches_shapes(config, sources):
  batch = _take(pipeline.make_train_dataset(config, sources[0]), 1)[0]
  assert batch["video"].shape == (4, 4, 16, 16, 3)
  assert batch["video"].dtype == np.float32
  assert batch["label"].dtype == np.int32 and batch["label"].shape == (4,)
  assert batch[pipeline.DECODE_FAILURES].tolist() == [0, 0, 0, 0]


def test_same_batches_with_any_worker_count(config, sources):
  serial = _take(pipeline.make_train_dataset(config, sources[0]), 6)
  config = config.copy_and_resolve_references()
  config.data.num_workers = 2
  _assert_same_batches(serial,
                       _take(pipeline.make_train_dataset(config, sources[0]),
                             6))


def test_processes_build_rows_of_the_same_global_batch(config, sources):
  whole = _take(pipeline.make_train_dataset(config, sources[0]), 3)
  parts = [_take(pipeline.make_train_dataset(
      config, sources[0], shard=grain.sharding.ShardOptions(p, 2)), 3)
           for p in range(2)]
  joined = [{k: np.concatenate([parts[0][i][k], parts[1][i][k]])
             for k in whole[i]} for i in range(3)]
  _assert_same_batches(whole, joined)


def test_starting_at_a_batch_continues_the_stream(config, sources):
  stream = _take(pipeline.make_train_dataset(config, sources[0]), 5)
  _assert_same_batches(stream[3:], _take(pipeline.make_train_dataset(
      config, sources[0], start_batch=3), 2))


def test_epochs_are_reshuffled(config, sources):
  n = len(sources[0])
  labels = np.concatenate([b["video_id"] for b in _take(
      pipeline.make_train_dataset(config, sources[0]), 2 * n // 4)])
  first, second = labels[:n], labels[n:2 * n]
  assert sorted(first) == sorted(second) == list(range(n))
  assert first.tolist() != second.tolist()


def test_failed_video_is_replaced_and_counted(config, tiny_root, tmp_path):
  root = copy_ucf_dataset(tiny_root, tmp_path / "data", extra_train=[
      ("Grow/v_Grow_g09_c01.mp4", b"not a video")])
  source = ucf101.load(root, "train")
  n = len(source)
  batches = _take(pipeline.make_train_dataset(config, source), n // 4 + 1)
  failures = sum(int(b[pipeline.DECODE_FAILURES].sum()) for b in batches)
  ids = np.concatenate([b["video_id"] for b in batches])[:n]
  bad_id = n - 1  # the corrupt file is the last line of the list
  assert failures == 1  # seen once in the first epoch, replaced, counted
  assert bad_id not in ids.tolist()
  assert all(b["video"].shape[0] == 4 for b in batches)


def test_eval_pads_to_whole_batches_and_masks(config, sources):
  eval_source = sources[1]
  batches = list(pipeline.make_eval_dataset(config, eval_source,
                                            batch_size=3))
  mask = np.concatenate([b["mask"] for b in batches])
  ids = np.concatenate([b["video_id"] for b in batches])
  assert len(mask) % 3 == 0 and mask.sum() == len(eval_source)
  assert sorted(ids[mask > 0].tolist()) == list(range(len(eval_source)))
  assert (ids[mask == 0] == -1).all()
  # Two processes: same number of batches each, together every video once.
  halves = [list(pipeline.make_eval_dataset(
      config, eval_source, batch_size=4,
      shard=grain.sharding.ShardOptions(p, 2))) for p in range(2)]
  assert len(halves[0]) == len(halves[1])
  seen = [i for h in halves for b in h for i, m in
          zip(b["video_id"], b["mask"]) if m > 0]
  assert sorted(seen) == list(range(len(eval_source)))


def test_multi_view_evaluation(config, sources):
  config = config.copy_and_resolve_references()
  config.data.update(eval_clips=2, eval_crops=3)
  batch = next(iter(pipeline.make_eval_dataset(config, sources[1],
                                               batch_size=2)))
  assert batch["video"].shape == (2, 6, 4, 16, 16, 3)
