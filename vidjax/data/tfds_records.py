"""Clips stored as TFDS ArrayRecord files, written and read without TensorFlow.

`python -m vidjax.data prepare` (see `vidjax.data.prepare`) converts any
source into a folder::

    OUT/
      _work/<split>/<video_id>.pkl     one converted video (resumable stage)
      _work/<split>/<video_id>.failed  why a video could not be converted
      vidjax_clips/1.0.0/              the TFDS dataset: ArrayRecord shards,
                                       dataset_info.json, metadata.json

Each example holds one video (its start/end segment only), resampled to a
chosen frame rate and short side, as JPEG bytes per frame (`format="jpeg"`:
random access to any frame) or as one re-encoded H.264 clip
(`format="video"`: several times smaller, decoded by seeking like a file),
with its label, name and optionally its audio as 16-bit PCM. Only TF-free
features are used (`tfds.features.Video` needs TensorFlow).

`config.data.source = "tfds"` with `config.data.root = OUT` reads it back:
records index the ArrayRecord files (`tfds.data_source`), and the same
Grain pipeline samples, decodes and augments clips from them.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import pickle
from pathlib import Path
from typing import Any, Iterator

import av
import numpy as np

from vidjax.data import decode
from vidjax.data import transforms

NAME = "vidjax_clips"
VERSION = "1.0.0"
FORMATS = ("jpeg", "video")
_CHUNK = 64  # frames decoded and encoded at a time: bounds memory


@dataclasses.dataclass(frozen=True)
class PrepareOptions:
  """How videos are stored.

  short_side: frames are resized so the shorter side is this (0: keep).
  fps: frames per second stored, by timestamp (0: keep every frame).
  format: "jpeg" (one JPEG per frame) or "video" (an H.264 clip).
  audio_rate: store the audio track as mono PCM at this rate (0: none).
  """

  short_side: int = 256
  fps: float = 0.0
  format: str = "jpeg"
  jpeg_quality: int = 90
  crf: int = 20  # H.264 quality of format="video" (lower is better)
  audio_rate: int = 0

  def __post_init__(self):
    if self.format not in FORMATS:
      raise ValueError(f"format must be one of {FORMATS}, got "
                       f"{self.format!r}")
    if self.short_side < 0 or self.fps < 0 or self.audio_rate < 0:
      raise ValueError(f"short_side, fps and audio_rate must be >= 0: {self}")


def _resize(frames: np.ndarray, short_side: int, even: bool) -> np.ndarray:
  h, w = frames.shape[1:3]
  if short_side:
    scale = short_side / min(h, w)
    h, w = max(1, int(round(h * scale))), max(1, int(round(w * scale)))
  if even:  # 4:2:0 video needs even sides
    h, w = max(2, h - h % 2), max(2, w - w % 2)
  return transforms.resize(frames, h, w)


def _encode_jpeg(frame: np.ndarray, quality: int) -> bytes:
  from PIL import Image  # pylint: disable=g-import-not-at-top
  buf = io.BytesIO()
  Image.fromarray(frame).save(buf, format="JPEG", quality=quality)
  return buf.getvalue()


class _ClipEncoder:
  """H.264 in MP4, in memory, with a keyframe every second (cheap seeks)."""

  def __init__(self, fps: float, crf: int):
    self._buf = io.BytesIO()
    self._container = av.open(self._buf, mode="w", format="mp4")
    rate = int(round(fps)) if abs(fps - round(fps)) < 1e-6 else None
    from fractions import Fraction  # pylint: disable=g-import-not-at-top
    self._stream = self._container.add_stream(
        "libx264", rate=rate or Fraction(fps).limit_denominator(1001))
    self._stream.pix_fmt = "yuv420p"
    self._stream.options = {"crf": str(crf), "preset": "fast",
                            "g": str(max(1, int(round(fps))))}
    self._opened = False

  def add(self, frames: np.ndarray) -> None:
    if not self._opened:
      self._stream.width, self._stream.height = frames.shape[2], frames.shape[1]
      self._opened = True
    for f in frames:
      self._container.mux(self._stream.encode(
          av.VideoFrame.from_ndarray(f, format="rgb24")))

  def finish(self) -> bytes:
    self._container.mux(self._stream.encode())
    self._container.close()
    return self._buf.getvalue()


def convert_record(record: dict[str, Any], opts: PrepareOptions,
                   name: str) -> dict[str, Any]:
  """One source record -> one example (numpy / bytes). Raises DecodeError."""
  # Imported here: the pipeline imports this module lazily (via decode).
  from vidjax.data import pipeline  # pylint: disable=g-import-not-at-top
  clip = pipeline.ClipOptions(
      num_frames=1, stride=1, pad_mode="loop", image_size=1, mean=(0.0,),
      std=(1.0,), sample_by="time" if opts.fps else "frame",
      sample_fps=opts.fps)
  reader, grid = pipeline.open_grid(record, clip)
  with reader:
    rate = grid.rate if grid.by_time else reader.info.fps
    jpegs: list[bytes] = []
    encoder = _ClipEncoder(rate, opts.crf) if opts.format == "video" else None
    shape = None
    for lo in range(0, grid.num, _CHUNK):
      frames = grid.read(reader, np.arange(lo, min(grid.num, lo + _CHUNK)))
      frames = _resize(frames, opts.short_side, even=encoder is not None)
      shape = frames.shape[1:3]
      if encoder is not None:
        encoder.add(frames)
      else:
        jpegs.extend(_encode_jpeg(f, opts.jpeg_quality) for f in frames)
    video = encoder.finish() if encoder is not None else b""
    audio = np.zeros(0, np.int16)
    if opts.audio_rate:
      start = float(grid.times(np.asarray([0]))[0])
      wave = reader.read_audio(start, grid.num / rate, opts.audio_rate)
      if wave is not None:
        audio = np.round(np.clip(wave, -1, 1) * 32767).astype(np.int16)
  return dict(frames=jpegs, video=video, label=int(record["label"]),
              video_id=int(record["video_id"]), name=name, fps=float(rate),
              num_frames=int(grid.num), height=int(shape[0]),
              width=int(shape[1]), audio=audio,
              audio_rate=int(opts.audio_rate if audio.size else 0))


# -- the builder ---------------------------------------------------------------


def _builder_class():
  """Defined on first use: importing TFDS costs a second."""
  global _BUILDER
  if _BUILDER is not None:
    return _BUILDER
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

  class VidjaxClips(tfds.core.GeneratorBasedBuilder):
    """Converted videos of any vidjax source (see the module docstring)."""

    VERSION = tfds.core.Version(VERSION)
    # TFDS looks for a checksums file next to a builder's code; with none,
    # that lookup needs `importlib_resources`, which TFDS does not install.
    code_path = None

    def __init__(self, *, work_dir: str | None = None,
                 metadata: dict[str, Any] | None = None, **kwargs):
      self._work_dir = work_dir
      self._metadata = metadata or {}
      super().__init__(**kwargs)

    def _info(self):
      f = tfds.features
      return tfds.core.DatasetInfo(
          builder=self,
          description=__doc__,
          features=f.FeaturesDict({
              "frames": f.Sequence(f.Tensor(shape=(), dtype=np.object_)),
              "video": f.Tensor(shape=(), dtype=np.object_),
              "label": f.Scalar(dtype=np.int64),
              "video_id": f.Scalar(dtype=np.int64),
              "name": f.Text(),
              "fps": f.Scalar(dtype=np.float32),
              "num_frames": f.Scalar(dtype=np.int64),
              "height": f.Scalar(dtype=np.int64),
              "width": f.Scalar(dtype=np.int64),
              "audio": f.Tensor(shape=(None,), dtype=np.int16),
              "audio_rate": f.Scalar(dtype=np.int64),
          }),
          # Example i of a split is the i-th converted video (the labels in
          # metadata.json are listed in that order).
          disable_shuffling=True,
          metadata=tfds.core.MetadataDict(self._metadata),
      )

    def _split_generators(self, dl_manager):
      del dl_manager
      return {split: self._generate_examples(split)
              for split in self._metadata["splits"]}

    def _generate_examples(self, split):
      for key in self._metadata["splits"][split]["keys"]:
        with open(Path(self._work_dir) / split / f"{key}.pkl", "rb") as fh:
          yield key, pickle.load(fh)

  _BUILDER = VidjaxClips
  return _BUILDER


_BUILDER = None


def write_dataset(out_dir: str | os.PathLike, work_dir: str | os.PathLike,
                  metadata: dict[str, Any]) -> Path:
  """Writes the ArrayRecord dataset from converted examples; returns its
  folder. A finished dataset is left as it is."""
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  builder = _builder_class()(data_dir=str(out_dir), work_dir=str(work_dir),
                             metadata=metadata, file_format="array_record")
  tfds.disable_progress_bar()  # the caller shows its own
  builder.download_and_prepare(
      download_dir=str(Path(work_dir) / "downloads"))
  return Path(builder.data_dir)


# -- reading -------------------------------------------------------------------


def find_dataset_dir(root: str | os.PathLike) -> Path:
  """The prepared dataset at or below `root` (the folder holding
  dataset_info.json)."""
  root = Path(root).expanduser()
  if (root / "dataset_info.json").is_file():
    return root
  found = sorted(p.parent for p in root.glob(f"**/{NAME}/*/dataset_info.json"))
  if len(found) != 1:
    what = "no" if not found else f"{len(found)}"
    raise FileNotFoundError(
        f"{root}: {what} prepared datasets ({NAME}/<version>/"
        "dataset_info.json) found; run `python -m vidjax.data prepare` or "
        "point config.data.root at one")
  return found[0]


def read_metadata(dataset_dir: str | os.PathLike) -> dict[str, Any]:
  path = Path(dataset_dir) / "metadata.json"
  if not path.is_file():
    raise FileNotFoundError(f"{path}: not a dataset written by vidjax "
                            "prepare (no metadata.json)")
  with open(path) as f:
    return json.load(f)


_DATA_SOURCES: dict[tuple[str, str], Any] = {}


def data_source(dataset_dir: str, split: str):
  """The split's `tfds` data source, opened once per process."""
  key = (str(dataset_dir), split)
  if key not in _DATA_SOURCES:
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
    builder = tfds.builder_from_directory(str(dataset_dir))
    _DATA_SOURCES[key] = builder.as_data_source(split=split)
  return _DATA_SOURCES[key]


class ExampleReader(decode.Reader):
  """A prepared example: its frames (JPEG or encoded clip) and audio."""

  def __init__(self, example: dict[str, Any], path: str):
    self.path = path
    video = example["video"]
    if video:
      self._inner = decode.VideoReader(bytes(video), name=path)
    else:
      self._inner = decode.ImageSequenceReader(
          [bytes(b) for b in example["frames"]], float(example["fps"]), path)
    info = self._inner.info
    self.info = dataclasses.replace(
        info, num_frames=int(example["num_frames"]),
        has_audio=bool(example["audio_rate"]))
    self._audio = np.asarray(example["audio"])
    self._audio_rate = int(example["audio_rate"])

  def read(self, indices):
    return self._inner.read(indices)

  def read_times(self, times):
    return self._inner.read_times(times)

  def read_audio(self, start, duration, sample_rate):
    if not self._audio_rate:
      return None
    wave = self._audio.astype(np.float32) / 32767.0
    n = int(round(duration * sample_rate))
    t = start + np.arange(n) / sample_rate
    src_t = np.arange(wave.size) / self._audio_rate
    out = np.interp(t, src_t, wave, left=0.0, right=0.0) if wave.size else (
        np.zeros(n))
    return out.astype(np.float32)

  def close(self):
    self._inner.close()


def open_example(record: dict[str, Any]) -> ExampleReader:
  path = record["path"]
  try:
    example = data_source(record["tfds_dir"],
                          record["tfds_split"])[record["tfds_index"]]
  except (OSError, IndexError, KeyError, ValueError) as e:
    raise decode.DecodeError(path, f"unreadable record ({e})") from e
  return ExampleReader(example, path)


def iter_examples(dataset_dir: str, split: str) -> Iterator[dict[str, Any]]:
  ds = data_source(dataset_dir, split)
  for i in range(len(ds)):
    yield ds[i]
