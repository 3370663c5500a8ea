"""Grain pipelines from a video source to batches of decoded, augmented clips.

Training: all records -> shuffle (reshuffled every epoch) -> repeat -> decode
a random clip and augment it (`random_map`, seeded by the element's index) ->
replace a file that fails by a later element, counting it -> cut the example
stream into global batches, of which this process builds only its rows ->
worker processes (`mp_prefetch`). Batch n is therefore a pure function of the
seed and n: the same for any number of workers or processes, so a run gives
the same result on 1 or 8 devices, 1 or 2 hosts, and resumes at any step by
starting the stream at that batch.

Evaluation: records -> this process's shard, padded so every process yields
the same number of batches -> decode fixed clips (evenly spaced in time, one or
three spatial crops) -> batch. Padding and files that fail are zeros with
`mask = 0`, so metrics weighted by the mask count every real video once.

A batch is a dict of numpy arrays: `video` float32 [B, T, H, W, 3] (or
[B, V, T, H, W, 3] with V views), `label` int32 [B], `video_id` int32 [B],
evaluation adds `mask` float32 [B]. Keys starting with "_" are pipeline
bookkeeping the trainer reads and removes: `_decode_failures` int32 [B] counts
the files skipped before each example.

This module does not import jax: Grain workers import it in fresh processes.
"""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Any, Sequence

import grain
import ml_collections
import numpy as np
from absl import flags
from absl import logging

from vidjax.data import sampling
from vidjax.data import transforms
from vidjax.data.decode import DecodeError, open_video
from vidjax.data.sources import VideoSource, make_source

FAILED = "_failed"  # key of the marker element a failed decode produces
DECODE_FAILURES = "_decode_failures"
MAX_CONSECUTIVE_FAILURES = 1000


@dataclasses.dataclass(frozen=True)
class ClipOptions:
  """Everything the per-example transform needs (picklable, no ConfigDict)."""

  num_frames: int
  stride: int
  pad_mode: str
  image_size: int
  mean: tuple[float, ...]
  std: tuple[float, ...]
  label_keys: tuple[str, ...] = ()
  # training
  views: int = 1
  random_resized_crop: bool = True
  crop_scale: tuple[float, float] = (0.08, 1.0)
  crop_ratio: tuple[float, float] = (3 / 4, 4 / 3)
  horizontal_flip: bool = False
  color_jitter: float = 0.0
  color_jitter_prob: float = 0.8
  # evaluation
  eval_clips: int = 1
  eval_crops: int = 1
  eval_resize: float = 1.0  # short side resized to image_size * eval_resize

  @classmethod
  def from_config(cls, data: ml_collections.ConfigDict) -> "ClipOptions":
    aug = data.augment
    return cls(
        num_frames=data.num_frames, stride=data.stride,
        pad_mode=data.pad_mode, image_size=data.image_size,
        mean=tuple(data.mean), std=tuple(data.std),
        label_keys=tuple(data.label_keys), views=data.train_views,
        random_resized_crop=aug.random_resized_crop,
        crop_scale=tuple(aug.crop_scale), crop_ratio=tuple(aug.crop_ratio),
        horizontal_flip=aug.horizontal_flip, color_jitter=aug.color_jitter,
        color_jitter_prob=aug.color_jitter_prob, eval_clips=data.eval_clips,
        eval_crops=data.eval_crops, eval_resize=data.eval_resize)

  @property
  def eval_views(self) -> int:
    return self.eval_clips * self.eval_crops

  def video_shape(self, views: int) -> tuple[int, ...]:
    clip = (self.num_frames, self.image_size, self.image_size, 3)
    return clip if views == 1 else (views,) + clip


def _labels(record: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
  out = {"label": np.int32(record["label"]),
         "video_id": np.int32(record["video_id"])}
  for k in keys:
    out[f"label_{k}"] = np.int32(record[k])
  return out


def _finish(video: np.ndarray, opts: ClipOptions) -> np.ndarray:
  return transforms.normalize(video, opts.mean, opts.std)


class TrainClip(grain.transforms.RandomMap):
  """Decodes `views` random clips of a record and augments each on its own."""

  def __init__(self, opts: ClipOptions):
    self.opts = opts

  def _augment(self, frames: np.ndarray,
               rng: np.random.Generator) -> np.ndarray:
    o = self.opts
    if o.random_resized_crop:
      frames = transforms.random_resized_crop(frames, rng, o.image_size,
                                              o.crop_scale, o.crop_ratio)
    else:
      frames = transforms.centre_crop(
          transforms.resize_short_side(frames, o.image_size), o.image_size)
    if o.horizontal_flip:
      frames = transforms.random_horizontal_flip(frames, rng)
    video = transforms.to_float(frames)
    if o.color_jitter > 0:
      s = o.color_jitter
      video = transforms.random_color_jitter(video, rng, s, s, s,
                                             min(0.5, s / 4),
                                             o.color_jitter_prob)
    return _finish(video, o)

  def random_map(self, record: dict[str, Any],
                 rng: np.random.Generator) -> dict[str, Any]:
    o = self.opts
    try:
      with open_video(record["path"]) as reader:
        n = reader.info.num_frames
        clips = []
        for _ in range(o.views):
          idx = sampling.random_clip_indices(n, o.num_frames, o.stride, rng,
                                             o.pad_mode)
          clips.append(self._augment(reader.read(idx), rng))
    except DecodeError as e:
      return {FAILED: e.path, "reason": e.reason}
    video = clips[0] if o.views == 1 else np.stack(clips)
    return dict(video=video, **_labels(record, o.label_keys))


def _spatial_crops(frames: np.ndarray, size: int, num: int) -> list[np.ndarray]:
  """1 centred crop, or 3 crops spread along the longer side (SlowFast)."""
  if num == 1:
    return [transforms.centre_crop(frames, size)]
  if num != 3:
    raise ValueError(f"eval_crops must be 1 or 3, got {num}")
  h, w = frames.shape[1:3]
  if w >= h:
    top = (h - size) // 2
    return [transforms.crop(frames, top, left, size, size)
            for left in (0, (w - size) // 2, w - size)]
  left = (w - size) // 2
  return [transforms.crop(frames, top, left, size, size)
          for top in (0, (h - size) // 2, h - size)]


class EvalClip(grain.transforms.Map):
  """Fixed views of a record: evenly spaced clips x spatial crops."""

  def __init__(self, opts: ClipOptions):
    self.opts = opts

  def map(self, record: dict[str, Any]) -> dict[str, Any]:
    o = self.opts
    if record.get("_padding"):
      return self._empty(record, failures=0)
    try:
      with open_video(record["path"]) as reader:
        idx = sampling.uniform_clips_indices(reader.info.num_frames,
                                             o.num_frames, o.stride,
                                             o.eval_clips, o.pad_mode)
        frames = reader.read(idx.reshape(-1))
    except DecodeError as e:
      logging.warning("Skipping video that cannot be decoded: %s", e)
      return self._empty(record, failures=1)
    short = max(o.image_size, int(round(o.image_size * o.eval_resize)))
    frames = transforms.resize_short_side(frames, short)
    views = []
    for clip in frames.reshape((o.eval_clips, o.num_frames) + frames.shape[1:]):
      for c in _spatial_crops(clip, o.image_size, o.eval_crops):
        views.append(_finish(transforms.to_float(c), o))
    video = views[0] if len(views) == 1 else np.stack(views)
    return dict(video=video, mask=np.float32(1.0),
                **{DECODE_FAILURES: np.int32(0)},
                **_labels(record, o.label_keys))

  def _empty(self, record: dict[str, Any], failures: int) -> dict[str, Any]:
    o = self.opts
    out = dict(video=np.zeros(o.video_shape(o.eval_views), np.float32),
               mask=np.float32(0.0), label=np.int32(0),
               video_id=np.int32(-1), **{DECODE_FAILURES: np.int32(failures)})
    for k in o.label_keys:
      out[f"label_{k}"] = np.int32(0)
    return out


class ReplaceFailedMapDataset(grain.MapDataset):
  """Replaces an element whose video fails to decode, and counts it.

  Element i that failed is replaced by element i + stride (then + 2 stride,
  ...): with stride = the number of videos, that is the same position of the
  next epoch, a different video. The replacement is deterministic, so resume
  and any worker count see the same data; each element carries
  `_decode_failures`, the number of files skipped to produce it.
  """

  def __init__(self, parent: grain.MapDataset, stride: int):
    super().__init__(parent)
    self._stride = stride

  def __len__(self) -> int:
    return len(self._parent)

  def __getitem__(self, index):
    if isinstance(index, slice):
      return self.slice(index)
    for attempt in range(MAX_CONSECUTIVE_FAILURES):
      element = self._parent[index + attempt * self._stride]
      if FAILED not in element:
        element[DECODE_FAILURES] = np.int32(attempt)
        return element
      logging.warning("Skipping video that cannot be decoded: %s: %s",
                      element[FAILED], element["reason"])
    raise RuntimeError(
        f"{MAX_CONSECUTIVE_FAILURES} videos in a row failed to decode (last: "
        f"{element[FAILED]}: {element['reason']}); check the dataset with "
        "`python -m vidjax.data check`, PyAV's codec support, or config.data")


def stack_examples(examples: Sequence[dict[str, Any]]) -> dict[str, Any]:
  return {k: np.stack([e[k] for e in examples]) for k in examples[0]}


class ProcessBatchesMapDataset(grain.MapDataset):
  """Element n: this process's rows of global batch n of an example stream.

  Global batch n is examples [n * global_batch, (n + 1) * global_batch);
  process p of P builds rows [p * local, (p + 1) * local) of it.
  """

  def __init__(self, parent: grain.MapDataset, global_batch: int,
               process_index: int, process_count: int):
    super().__init__(parent)
    self._global = global_batch
    self._local = local_batch_size(global_batch, process_count)
    self._offset = process_index * self._local

  def __len__(self) -> int:
    return len(self._parent) // self._global

  def __getitem__(self, index):
    if isinstance(index, slice):
      return self.slice(index)
    start = index * self._global + self._offset
    return stack_examples([self._parent[start + i]
                           for i in range(self._local)])


def _ensure_absl_flags_parsed() -> None:
  # Grain's worker processes read absl flags; outside `absl.app.run` (tests,
  # notebooks) they are unparsed and Grain would raise UnparsedFlagAccessError.
  if not flags.FLAGS.is_parsed():
    flags.FLAGS.mark_as_parsed()


def _worker_init(worker_index: int, worker_count: int) -> None:
  del worker_index, worker_count
  # Workers only decode and augment; keep them off any accelerator.
  os.environ["JAX_PLATFORMS"] = "cpu"
  os.environ["CUDA_VISIBLE_DEVICES"] = "-1"


def _with_workers(ds: grain.IterDataset, num_workers: int,
                  buffer_size: int) -> grain.IterDataset:
  if num_workers <= 0:
    return ds
  _ensure_absl_flags_parsed()
  return ds.mp_prefetch(
      grain.MultiprocessingOptions(num_workers=num_workers,
                                   per_worker_buffer_size=buffer_size),
      worker_init_fn=_worker_init)


def local_batch_size(global_batch: int, process_count: int) -> int:
  if global_batch % process_count:
    raise ValueError(
        f"batch size {global_batch} does not divide over {process_count} "
        f"processes; make it a multiple of {process_count}")
  return global_batch // process_count


NO_SHARDING = grain.sharding.NoSharding()


def make_train_batches(config: ml_collections.ConfigDict,
                       source: VideoSource, *,
                       shard: grain.sharding.ShardOptions = NO_SHARDING
                       ) -> grain.MapDataset:
  """Random-access training batches: element n is this process's part of
  global batch n (see the module docstring).

  `shard` names this process (the trainer passes
  `grain.sharding.ShardByJaxProcess()`); every process reads every record.
  """
  records = list(source.records)
  if not records:
    raise ValueError(f"{source.root}: no training videos")
  ds = grain.MapDataset.source(records).shuffle(seed=config.seed).repeat()
  ds = ds.random_map(TrainClip(ClipOptions.from_config(config.data)),
                     seed=config.seed + 1)
  ds = ReplaceFailedMapDataset(ds, stride=len(records))
  return ProcessBatchesMapDataset(ds, config.train.batch_size,
                                  shard.shard_index, shard.shard_count)


def make_train_dataset(config: ml_collections.ConfigDict,
                       source: VideoSource, *,
                       shard: grain.sharding.ShardOptions = NO_SHARDING,
                       start_batch: int = 0) -> grain.IterDataset:
  """Training batches from global batch `start_batch` on, with workers."""
  data = config.data
  ds = make_train_batches(config, source, shard=shard)[start_batch:]
  ds = ds.to_iter_dataset(grain.ReadOptions(
      num_threads=1, prefetch_buffer_size=data.worker_buffer_size))
  return _with_workers(ds, data.num_workers, data.worker_buffer_size)


def make_eval_dataset(config: ml_collections.ConfigDict, source: VideoSource,
                      *, shard: grain.sharding.ShardOptions = NO_SHARDING,
                      batch_size: int | None = None) -> grain.IterDataset:
  """One pass over every video of `source`, padded to whole global batches.

  Every process yields the same number of batches (`shard` says which videos
  are this process's; none is dropped); `mask` marks real videos.
  """
  data = config.data
  global_batch = batch_size or config.eval.batch_size
  batch = local_batch_size(global_batch, shard.shard_count)
  num_batches = math.ceil(len(source) / global_batch)
  # A fixed shuffle: metrics do not depend on the order, and batches (the
  # first one is visualized) then mix classes instead of holding one.
  order = np.random.default_rng(0).permutation(len(source))
  mine = [source.records[i] for i in order][
      shard.shard_index::shard.shard_count]
  mine += [dict(_padding=True)] * (num_batches * batch - len(mine))
  ds = grain.MapDataset.source(mine).map(
      EvalClip(ClipOptions.from_config(data)))
  ds = ds.to_iter_dataset(grain.ReadOptions(
      num_threads=max(1, data.eval_threads), prefetch_buffer_size=2 * batch))
  return ds.batch(batch, drop_remainder=True)


def example_element(config: ml_collections.ConfigDict,
                    source: VideoSource) -> dict[str, Any]:
  """One training example decoded like the pipeline does, for shapes."""
  clip = TrainClip(ClipOptions.from_config(config.data))
  for i, record in enumerate(source.records[:64]):
    element = clip.random_map(record, np.random.default_rng(i))
    if FAILED not in element:
      return element
  raise RuntimeError(f"{source.root}: none of the first 64 videos decodes")


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
  num_classes: int
  class_names: tuple[str, ...]
  num_train: int
  num_eval: int
  root: str


def load_sources(config: ml_collections.ConfigDict
                 ) -> tuple[VideoSource, VideoSource]:
  """The training and evaluation sources named by config.data."""
  return (make_source(config.data, config.data.train_split),
          make_source(config.data, config.data.eval_split))


def dataset_info(train: VideoSource, evaluation: VideoSource) -> DatasetInfo:
  return DatasetInfo(num_classes=train.num_classes,
                     class_names=train.class_names, num_train=len(train),
                     num_eval=len(evaluation), root=train.root)
