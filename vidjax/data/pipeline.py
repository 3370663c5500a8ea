"""Grain pipelines from a video source to batches of decoded, augmented clips.

Training: all records -> shuffle (reshuffled every epoch) -> repeat -> decode
a random clip and augment it (`random_map`, seeded by the element's index) ->
replace a file that fails by a later element, counting it -> cut the example
stream into global batches, of which this process builds only its rows ->
mixup/cutmix over those rows (optional, seeded by the examples) -> worker
processes (`mp_prefetch`). Batch n is therefore a pure function of the seed
and n: the same for any number of workers, and (without mixup/cutmix, which
pairs examples within a process's rows) any number of processes, so a run
gives the same result on 1 or 8 devices, 1 or 2 hosts, and resumes at any
step by starting the stream at that batch.

Evaluation: records -> this process's shard, padded so every process yields
the same number of batches -> decode fixed clips (evenly spaced in time, one or
three spatial crops) -> batch. Padding and files that fail are zeros with
`mask = 0`, so metrics weighted by the mask count every real video once.

A batch is a dict of numpy arrays: `video` float32 [B, T, H, W, 3] (or
[B, V, T, H, W, 3] with V views), `label` int32 [B] (float32 [B, K] soft
labels when training with mixup/cutmix), `video_id` int32 [B]; evaluation
adds `mask` float32 [B]. With config.data.audio.enabled: `audio` [B, S],
`audio_logmel` [B, F, M] and `has_audio` [B] (views add a V axis). Keys starting with "_" are pipeline
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

from vidjax.data import audio as audio_lib
from vidjax.data import decode
from vidjax.data import sampling
from vidjax.data import transforms
from vidjax.data.decode import DecodeError
from vidjax.data.sources import VideoSource, make_source, subsample_per_class

FAILED = "_failed"  # key of the marker element a failed decode produces
DECODE_FAILURES = "_decode_failures"
MIX_SEED = "_mix_seed"  # per-example seed for batch-level mixup/cutmix
MAX_CONSECUTIVE_FAILURES = 1000
SAMPLE_BY = ("frame", "time")


@dataclasses.dataclass(frozen=True)
class AugmentOptions:
  """Training augmentations (config.data.augment; see configs/common.py)."""

  random_resized_crop: bool = True
  crop_scale: tuple[float, float] = (0.08, 1.0)
  crop_ratio: tuple[float, float] = (3 / 4, 4 / 3)
  multi_scale_crop: bool = False
  multi_scale_scales: tuple[float, ...] = transforms.MULTI_SCALE_SCALES
  multi_scale_max_distort: int = 1
  scale_jitter: tuple[int, int] = (0, 0)
  horizontal_flip: bool = False
  rotation: float = 0.0
  randaugment_layers: int = 0
  randaugment_magnitude: float = 9.0
  randaugment_magnitude_std: float = 0.5
  color_jitter: float = 0.0
  color_jitter_prob: float = 0.8
  grayscale_prob: float = 0.0
  blur_prob: float = 0.0
  blur_sigma: tuple[float, float] = (0.1, 2.0)
  noise_prob: float = 0.0
  noise_std: tuple[float, float] = (0.0, 0.05)
  erase_prob: float = 0.0
  erase_scale: tuple[float, float] = (0.02, 1 / 3)
  erase_ratio: tuple[float, float] = (0.3, 3.3)
  erase_value: str = "random"
  mixup_alpha: float = 0.0
  cutmix_alpha: float = 0.0
  mix_prob: float = 1.0
  mix_switch_prob: float = 0.5

  def __post_init__(self):
    crops = [name for name, on in (
        ("random_resized_crop", self.random_resized_crop),
        ("multi_scale_crop", self.multi_scale_crop),
        ("scale_jitter", tuple(self.scale_jitter) != (0, 0))) if on]
    if len(crops) > 1:
      raise ValueError(f"config.data.augment: choose one of {crops} (turn "
                       "the others off; scale_jitter is off at (0, 0))")

  @classmethod
  def from_config(cls, aug: ml_collections.ConfigDict) -> "AugmentOptions":
    fields = {f.name for f in dataclasses.fields(cls)}
    given = {k: (tuple(v) if isinstance(v, (list, tuple)) else v)
             for k, v in aug.items() if k in fields}
    return cls(**given)

  @property
  def mixes(self) -> bool:
    return self.mixup_alpha > 0 or self.cutmix_alpha > 0


@dataclasses.dataclass(frozen=True)
class AudioOptions:
  """config.data.audio; see configs/common.py."""

  enabled: bool = False
  sample_rate: int = 16000
  duration: float = 2.0
  num_mel_bins: int = 64
  window_ms: float = 25.0
  hop_ms: float = 10.0

  @classmethod
  def from_config(cls, a: ml_collections.ConfigDict | None) -> "AudioOptions":
    if a is None:
      return cls()
    fields = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in a.items() if k in fields})

  @property
  def num_samples(self) -> int:
    return int(round(self.duration * self.sample_rate))


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
  sampler: str = "dense"
  sample_by: str = "frame"
  sample_fps: float = 0.0
  num_classes: int = 0  # needed by mixup/cutmix only
  # training
  views: int = 1
  augment: AugmentOptions = AugmentOptions()
  audio: AudioOptions = AudioOptions()
  # evaluation
  eval_clips: int = 1
  eval_crops: int = 1
  eval_resize: float = 1.0  # short side resized to image_size * eval_resize

  def __post_init__(self):
    if self.sampler not in sampling.SAMPLERS:
      raise ValueError(f"config.data.sampler must be one of "
                       f"{sampling.SAMPLERS}, got {self.sampler!r}")
    if self.sample_by not in SAMPLE_BY:
      raise ValueError(f"config.data.sample_by must be one of {SAMPLE_BY}, "
                       f"got {self.sample_by!r}")
    if self.pad_mode not in sampling.PAD_MODES:
      raise ValueError(f"config.data.pad_mode must be one of "
                       f"{sampling.PAD_MODES}, got {self.pad_mode!r}")
    if self.sample_fps < 0:
      raise ValueError(f"config.data.sample_fps must be >= 0, got "
                       f"{self.sample_fps}")

  @classmethod
  def from_config(cls, data: ml_collections.ConfigDict,
                  num_classes: int = 0) -> "ClipOptions":
    return cls(
        num_frames=data.num_frames, stride=data.stride,
        pad_mode=data.pad_mode, image_size=data.image_size,
        mean=tuple(data.mean), std=tuple(data.std),
        label_keys=tuple(data.label_keys),
        sampler=data.get("sampler", "dense"),
        sample_by=data.get("sample_by", "frame"),
        sample_fps=float(data.get("sample_fps", 0.0)),
        num_classes=num_classes, views=data.train_views,
        augment=AugmentOptions.from_config(data.augment),
        audio=AudioOptions.from_config(data.get("audio")),
        eval_clips=data.eval_clips, eval_crops=data.eval_crops,
        eval_resize=data.eval_resize)

  @property
  def eval_views(self) -> int:
    return self.eval_clips * self.eval_crops

  def video_shape(self, views: int) -> tuple[int, ...]:
    clip = (self.num_frames, self.image_size, self.image_size, 3)
    return clip if views == 1 else (views,) + clip

  def clip_span(self) -> int:
    """Grid positions one clip needs (dense sampler; others adapt)."""
    if self.sampler == "dense":
      return sampling.clip_span(self.num_frames, self.stride)
    return 1


@dataclasses.dataclass(frozen=True)
class FrameGrid:
  """The positions clips are sampled from, for one record.

  By frame: positions are the video's frames `first .. first + num - 1`
  (the record's start/end segment, or all). By time: positions are times
  `start + k / rate` for k < num, at `sample_fps` (0: the video's rate),
  each read as the frame on screen then.
  """

  num: int
  by_time: bool
  first: int = 0
  start: float = 0.0
  rate: float = 1.0  # positions per second

  def times(self, positions: np.ndarray) -> np.ndarray:
    """Seconds from the video's start of grid positions."""
    positions = np.asarray(positions, np.float64)
    if self.by_time:
      return self.start + positions / self.rate
    return (self.first + positions) / self.rate

  def read(self, reader: decode.Reader, positions: np.ndarray) -> np.ndarray:
    """uint8 [len(positions), H, W, 3]."""
    positions = np.asarray(positions, np.int64)
    if self.by_time:
      return reader.read_times(self.times(positions))
    return reader.read(self.first + positions)


def frame_grid(info: decode.VideoInfo, record: dict[str, Any],
               opts: ClipOptions) -> FrameGrid:
  """The grid of `record` (honouring its start/end seconds) in `info`."""
  duration = info.duration
  start = float(record.get("start") or 0.0)
  end = record.get("end")
  end = duration if end is None else min(float(end), duration)
  if start >= duration or end <= start:
    raise DecodeError(info.path, f"segment [{start:g}, "
                      f"{record.get('end')}] s is outside the video "
                      f"({duration:.3g} s)")
  if opts.sample_by == "time":
    rate = opts.sample_fps or info.fps
    num = max(1, int(math.floor((end - start) * rate + 1e-6)))
    return FrameGrid(num=num, by_time=True, start=start, rate=rate)
  if "start" not in record and "end" not in record:
    return FrameGrid(num=info.num_frames, by_time=False, rate=info.fps)
  first = int(round(start * info.fps))
  last = min(info.num_frames, max(first + 1, int(round(end * info.fps))))
  return FrameGrid(num=last - first, by_time=False, first=first,
                   rate=info.fps)


def open_grid(record: dict[str, Any], opts: ClipOptions
              ) -> tuple[decode.Reader, FrameGrid]:
  """Opens a record and finds its grid; the checks the pipeline and
  `python -m vidjax.data check` share. Raises DecodeError."""
  reader = decode.open_record(record)
  try:
    grid = frame_grid(reader.info, record, opts)
    if opts.pad_mode == "none" and grid.num < opts.clip_span():
      raise DecodeError(reader.path, f"fewer frames than a clip needs "
                        f"({grid.num} < {opts.clip_span()})")
  except BaseException:
    reader.close()
    raise
  return reader, grid


def _labels(record: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
  out = {"label": np.int32(record["label"]),
         "video_id": np.int32(record["video_id"])}
  for k in keys:
    out[f"label_{k}"] = np.int32(record[k])
  return out


def _finish(video: np.ndarray, opts: ClipOptions) -> np.ndarray:
  return transforms.normalize(video, opts.mean, opts.std)


def _audio_features(reader: decode.Reader, grid: FrameGrid,
                    positions: np.ndarray, opts: AudioOptions
                    ) -> dict[str, np.ndarray]:
  """Waveform and log-mel of the window of `opts.duration` centred on the
  clip (clamped to the video's start)."""
  times = grid.times(positions)
  centre = 0.5 * (float(times.min()) + float(times.max()))
  start = max(0.0, centre - opts.duration / 2)
  try:
    wave = reader.read_audio(start, opts.duration, opts.sample_rate)
  except DecodeError as e:
    logging.warning("Audio of %s cannot be decoded (%s); using silence",
                    e.path, e.reason)
    wave = None
  has = wave is not None
  if wave is None:
    wave = np.zeros(opts.num_samples, np.float32)
  return {"audio": wave,
          "audio_logmel": audio_lib.log_mel_spectrogram(
              wave, opts.sample_rate, opts.num_mel_bins, opts.window_ms,
              opts.hop_ms),
          "has_audio": np.float32(has)}


def _stack_views(views: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
  if len(views) == 1:
    return views[0]
  return {k: np.stack([v[k] for v in views]) for k in views[0]}


class TrainClip(grain.transforms.RandomMap):
  """Decodes `views` random clips of a record and augments each on its own."""

  def __init__(self, opts: ClipOptions):
    self.opts = opts

  def _augment(self, frames: np.ndarray,
               rng: np.random.Generator) -> np.ndarray:
    o, a = self.opts, self.opts.augment
    size = o.image_size
    if a.random_resized_crop:
      frames = transforms.random_resized_crop(frames, rng, size,
                                              a.crop_scale, a.crop_ratio)
    elif a.multi_scale_crop:
      frames = transforms.multi_scale_crop(frames, rng, size,
                                           a.multi_scale_scales,
                                           a.multi_scale_max_distort)
    elif tuple(a.scale_jitter) != (0, 0):
      frames = transforms.short_side_jitter_crop(frames, rng, size,
                                                 a.scale_jitter)
    else:
      frames = transforms.centre_crop(
          transforms.resize_short_side(frames, size), size)
    if a.horizontal_flip:
      frames = transforms.random_horizontal_flip(frames, rng)
    if a.rotation > 0:
      frames = transforms.random_rotation(frames, rng, a.rotation)
    if a.randaugment_layers > 0:
      frames = transforms.randaugment(frames, rng, a.randaugment_layers,
                                      a.randaugment_magnitude,
                                      a.randaugment_magnitude_std)
    video = transforms.to_float(frames)
    if a.color_jitter > 0:
      s = a.color_jitter
      video = transforms.random_color_jitter(video, rng, s, s, s,
                                             min(0.5, s / 4),
                                             a.color_jitter_prob)
    if a.grayscale_prob > 0:
      video = transforms.random_grayscale(video, rng, a.grayscale_prob)
    if a.blur_prob > 0:
      video = transforms.random_gaussian_blur(video, rng, a.blur_prob,
                                              a.blur_sigma)
    if a.noise_prob > 0:
      video = transforms.random_gaussian_noise(video, rng, a.noise_prob,
                                               a.noise_std)
    video = _finish(video, o)
    if a.erase_prob > 0:
      video = transforms.random_erasing(video, rng, a.erase_prob,
                                        a.erase_scale, a.erase_ratio,
                                        a.erase_value)
    return video

  def random_map(self, record: dict[str, Any],
                 rng: np.random.Generator) -> dict[str, Any]:
    o = self.opts
    try:
      reader, grid = open_grid(record, o)
      with reader:
        views = []
        for _ in range(o.views):
          try:
            idx = sampling.train_indices(o.sampler, grid.num, o.num_frames,
                                         o.stride, rng, o.pad_mode)
          except sampling.ShortVideoError as e:
            raise DecodeError(reader.path, str(e)) from e
          view = {"video": self._augment(grid.read(reader, idx), rng)}
          if o.audio.enabled:
            view.update(_audio_features(reader, grid, idx, o.audio))
          views.append(view)
    except DecodeError as e:
      return {FAILED: e.path, "reason": e.reason}
    out = dict(_stack_views(views), **_labels(record, o.label_keys))
    if o.augment.mixes:
      out[MIX_SEED] = rng.integers(0, 2**63 - 1, dtype=np.int64)
    return out


class MixBatch(grain.transforms.Map):
  """Batch-level mixup/cutmix: soft labels `label` float32 [B, K].

  The randomness comes from the examples' own seeds (drawn by `TrainClip`
  from Grain's per-element generator), so a batch mixes the same way with
  any number of workers and after a restore.
  """

  def __init__(self, opts: ClipOptions):
    if opts.num_classes < 1:
      raise ValueError("mixup/cutmix need the number of classes")
    self.opts = opts

  def map(self, batch: dict[str, Any]) -> dict[str, Any]:
    a = self.opts.augment
    batch = dict(batch)
    seeds = batch.pop(MIX_SEED)
    rng = np.random.default_rng([int(s) for s in np.ravel(seeds)])
    batch["video"], batch["label"] = transforms.mix_batch(
        batch["video"], batch["label"], self.opts.num_classes, rng,
        a.mixup_alpha, a.cutmix_alpha, a.mix_prob, a.mix_switch_prob)
    return batch


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
  """Fixed views of a record: evenly spaced clips x spatial crops.

  Views are ordered clip-major: view c * eval_crops + k is crop k of clip c.
  """

  def __init__(self, opts: ClipOptions):
    self.opts = opts

  def map(self, record: dict[str, Any]) -> dict[str, Any]:
    o = self.opts
    if record.get("_padding"):
      return self._empty(record, failures=0)
    try:
      reader, grid = open_grid(record, o)
      with reader:
        try:
          idx = sampling.eval_indices(o.sampler, grid.num, o.num_frames,
                                      o.stride, o.eval_clips, o.pad_mode)
        except sampling.ShortVideoError as e:
          raise DecodeError(reader.path, str(e)) from e
        frames = grid.read(reader, idx.reshape(-1))
        sounds = ([_audio_features(reader, grid, i, o.audio) for i in idx]
                  if o.audio.enabled else None)
    except DecodeError as e:
      logging.warning("Skipping video that cannot be decoded: %s", e)
      return self._empty(record, failures=1)
    short = max(o.image_size, int(round(o.image_size * o.eval_resize)))
    frames = transforms.resize_short_side(frames, short)
    views = []
    for c, clip in enumerate(
        frames.reshape((o.eval_clips, o.num_frames) + frames.shape[1:])):
      for crop in _spatial_crops(clip, o.image_size, o.eval_crops):
        view = {"video": _finish(transforms.to_float(crop), o)}
        if sounds is not None:
          view.update(sounds[c])
        views.append(view)
    return dict(_stack_views(views), mask=np.float32(1.0),
                **{DECODE_FAILURES: np.int32(0)},
                **_labels(record, o.label_keys))

  def _empty(self, record: dict[str, Any], failures: int) -> dict[str, Any]:
    o = self.opts
    out = dict(video=np.zeros(o.video_shape(o.eval_views), np.float32),
               mask=np.float32(0.0), label=np.int32(0),
               video_id=np.int32(-1), **{DECODE_FAILURES: np.int32(failures)})
    if o.audio.enabled:
      a = o.audio
      lead = () if o.eval_views == 1 else (o.eval_views,)
      frames = audio_lib.frame_count(
          a.num_samples, int(round(a.sample_rate * a.window_ms / 1000)),
          int(round(a.sample_rate * a.hop_ms / 1000)))
      out.update(audio=np.zeros(lead + (a.num_samples,), np.float32),
                 audio_logmel=np.full(lead + (frames, a.num_mel_bins),
                                      np.log(audio_lib.LOG_OFFSET),
                                      np.float32),
                 has_audio=np.zeros(lead, np.float32))
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
  opts = ClipOptions.from_config(config.data, source.num_classes)
  ds = ds.random_map(TrainClip(opts), seed=config.seed + 1)
  ds = ReplaceFailedMapDataset(ds, stride=len(records))
  ds = ProcessBatchesMapDataset(ds, config.train.batch_size,
                                shard.shard_index, shard.shard_count)
  if opts.augment.mixes:
    ds = ds.map(MixBatch(opts))
  return ds


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
      EvalClip(ClipOptions.from_config(data, source.num_classes)))
  ds = ds.to_iter_dataset(grain.ReadOptions(
      num_threads=max(1, data.eval_threads), prefetch_buffer_size=2 * batch))
  return ds.batch(batch, drop_remainder=True)


def example_element(config: ml_collections.ConfigDict,
                    source: VideoSource) -> dict[str, Any]:
  """One training example decoded like the pipeline does, for shapes."""
  clip = TrainClip(ClipOptions.from_config(config.data, source.num_classes))
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
  train = make_source(config.data, config.data.train_split)
  per_class = config.data.get("train_per_class", 0)
  if per_class:
    train = subsample_per_class(train, per_class)
  return train, make_source(config.data, config.data.eval_split)


def dataset_info(train: VideoSource, evaluation: VideoSource) -> DatasetInfo:
  return DatasetInfo(num_classes=train.num_classes,
                     class_names=train.class_names, num_train=len(train),
                     num_eval=len(evaluation), root=train.root)
