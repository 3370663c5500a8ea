"""Apply a trained enhancement model (denoising, super-resolution, style) to a
video file.

  python -m vidjax.enhance --config configs/denoising/dncnn_synthetic.py \
      --checkpoint /tmp/dncnn --input in.mp4 --output out.mp4 --sigma 25

--config is the config the model was trained with (the same file and
variant; overrides such as --config.model.variant=... work as in launch.py),
--checkpoint the training workdir (or its checkpoints/ folder); the newest
checkpoint is used unless --step names another.

The video is decoded as a stream and processed in temporal windows of
--window frames. Windows overlap by the model's temporal context on either
side (2 frames for FastDVDnet, 0 for per-frame models; --overlap for
recurrent BasicVSR, default 4), frames past the ends of the video are
mirrored, and only the central frames of each window are kept, so every
output frame sees the context it was trained with. Frames are edge-padded to
a multiple of 8 pixels for the models' downsampling and cropped back after.
The output is encoded (H.264 by default) at the input's frame rate, the
input's audio track is copied unchanged, and the file is written under a
temporary name in the output's folder and renamed at the end, so an
interrupted run never leaves a partial output.

Bad inputs stop with a message naming the file: a missing, empty or
unreadable file, a file without a video stream, or a video whose frames are
too large to process one window at a time in the memory available (the
compiled program's own estimate against --max_memory_gb, default: the
memory available now).

--simulate first applies the task's degradation to the input (Gaussian
noise of --sigma for denoising, the bicubic downscaling for
super-resolution), to demonstrate a model on clean footage;
--side_by_side writes the (degraded) input and the output next to each
other (low-resolution input enlarged by pixel repetition).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
from typing import Any, Callable, Iterator

import av
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from vidjax import tasks
from vidjax.data.decode import DecodeError, open_video
from vidjax.data.pipeline import DatasetInfo
from vidjax.tasks import _enhancement
from vidjax.train import checkpoint as checkpoint_lib

PAD_MULTIPLE = 8
DEFAULT_RECURRENT_OVERLAP = 4


class EnhanceError(Exception):
  """A clear, user-facing reason why a video cannot be processed."""


# -- the model -------------------------------------------------------------


def _checkpoint_dir(path: str) -> str:
  path = os.path.abspath(os.path.expanduser(path))
  nested = os.path.join(path, "checkpoints")
  if os.path.isdir(nested):
    return nested
  if not os.path.isdir(path):
    raise EnhanceError(f"{path}: no such checkpoint folder")
  return path


@dataclasses.dataclass(frozen=True)
class Model:
  """A trained enhancement model: the task and the weights `enhance` uses
  (the moving average of the weights when the run kept one)."""

  task: _enhancement.EnhancementTask
  params: Any
  model_state: Any
  step: int


def _shapes(tree: Any) -> Any:
  return jax.tree.map(lambda x: (tuple(x.shape), jnp.dtype(x.dtype).name),
                      tree)


def load_model(config: ml_collections.ConfigDict, checkpoint: str,
               step: int | None = None) -> Model:
  """The enhancement task of `config` and its trained weights from
  `checkpoint` (a workdir or its checkpoints/ folder), read onto this host
  by `checkpoint.load_state` whatever topology saved them."""
  task_cls = tasks.get_task_class(config.task.name)
  if not issubclass(task_cls, _enhancement.EnhancementTask):
    raise EnhanceError(f"config.task.name={config.task.name!r} does not "
                       "transform videos; use a denoising, super_resolution "
                       "or style_transfer config")
  info = DatasetInfo(num_classes=0, class_names=(), num_train=1, num_eval=1,
                     root="")
  task = task_cls(config, info, max(1, int(config.train.num_steps)))
  directory = _checkpoint_dir(checkpoint)
  steps = sorted(int(n) for n in os.listdir(directory) if n.isdigit())
  if not steps:
    raise EnhanceError(f"{directory}: no checkpoint found (train first "
                       "with launch.py --workdir ...)")
  if step is not None and step not in steps:
    raise EnhanceError(f"{directory}: no checkpoint at step {step}; have "
                       f"{steps}")
  try:
    step, state = checkpoint_lib.load_state(directory, step)
  except Exception as e:  # pylint: disable=broad-except
    raise EnhanceError(f"{directory}: cannot read the checkpoint "
                       f"({type(e).__name__}: {str(e)[:300]})") from e
  params = state.get("ema_params") or state["params"]
  model_state = state.get("model_state") or {}
  # The weights must be those of the model this config builds.
  d = config.data
  spec = {"video": jax.ShapeDtypeStruct(
      (1, d.num_frames, d.image_size, d.image_size, 3), jnp.float32)}
  want = jax.eval_shape(task.init_state, jax.random.key(0), spec)
  if _shapes(params) != _shapes(want.params):
    raise EnhanceError(
        f"{directory}: the checkpoint at step {step} does not hold the "
        f"weights of {config.task.name}/{config.model.name} (variant "
        f"{config.model.get('variant')!r}) that --config builds; pass the "
        "config (and variant) the run was trained with")
  return Model(task, params, model_state, int(step))


# -- windows ---------------------------------------------------------------


def reflect(index: int, length: int) -> int:
  """index mirrored into [0, length) without repeating the edge frame."""
  if length <= 1:
    return 0
  period = 2 * (length - 1)
  index %= period
  return index if index < length else period - index


@dataclasses.dataclass(frozen=True)
class WindowPlan:
  """Windows of `window` frames; each keeps `core` frames after `context`."""

  window: int
  context: int

  @property
  def core(self) -> int:
    return self.window - 2 * self.context

  def indices(self, start: int, num_frames: int) -> np.ndarray:
    """The window's frame indices (mirrored past both ends of the video)."""
    return np.asarray([reflect(i, num_frames) for i in
                       range(start - self.context,
                             start - self.context + self.window)])


def make_plan(task, window: int, overlap: int | None) -> WindowPlan:
  context = task.temporal_context
  if overlap is not None:
    context = overlap
  elif context is None:
    context = DEFAULT_RECURRENT_OVERLAP
  if window < 2 * context + 1:
    raise EnhanceError(f"--window={window} leaves no frame between the "
                       f"{context} context frames on either side; use at "
                       f"least {2 * context + 1}")
  return WindowPlan(window, context)


# -- memory ----------------------------------------------------------------


def available_memory_bytes() -> int:
  device = jax.devices()[0]
  if device.platform != "cpu":
    stats = device.memory_stats() or {}
    if "bytes_limit" in stats:
      return int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))
  try:
    with open("/proc/meminfo") as f:
      for line in f:
        if line.startswith("MemAvailable:"):
          return int(line.split()[1]) * 1024
  except OSError:
    pass
  return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))


def _compile(model: Model, shape, options, limit: int):
  fn = jax.jit(lambda p, s, v: model.task.enhance(p, s, v, **options))
  spec = jax.ShapeDtypeStruct(shape, jnp.float32)
  compiled = fn.lower(model.params, model.model_state, spec).compile()
  stats = compiled.memory_analysis()
  if stats is not None:
    need = (stats.temp_size_in_bytes + stats.argument_size_in_bytes +
            stats.output_size_in_bytes)
    if need > limit:
      gib = 1024 ** 3
      raise EnhanceError(
          f"processing a window of {shape[1]} frames of {shape[3]}x"
          f"{shape[2]} needs about {need / gib:.2f} GiB, more than the "
          f"{limit / gib:.2f} GiB available (--max_memory_gb); use a smaller "
          "--window or a video of smaller frames")
  return compiled


# -- decoding and encoding -------------------------------------------------


def probe(path: str):
  """Checks that `path` is a readable video; returns its VideoInfo."""
  try:
    with open_video(path) as reader:
      info = reader.info
  except DecodeError as e:
    raise EnhanceError(f"{e.path}: cannot read a video: {e.reason}") from e
  return info


def _decode(container, video_stream, audio_stream,
            on_audio: Callable[[Any], None]) -> Iterator[np.ndarray]:
  streams = [video_stream] + ([audio_stream] if audio_stream else [])
  try:
    for packet in container.demux(streams):
      if packet.stream is video_stream:
        for frame in packet.decode():
          yield frame.to_ndarray(format="rgb24")
      elif packet.dts is not None:
        on_audio(packet)
  except av.error.FFmpegError as e:
    raise EnhanceError(f"{container.name}: decoding failed ({e})") from e


def _pad(frames: np.ndarray, multiple: int) -> np.ndarray:
  h, w = frames.shape[-3:-1]
  ph, pw = -h % multiple, -w % multiple
  if not ph and not pw:
    return frames
  return np.pad(frames, ((0, 0),) * (frames.ndim - 3) +
                ((0, ph), (0, pw), (0, 0)), mode="edge")


def enhance_file(config: ml_collections.ConfigDict, checkpoint: str,
                 input_path: str, output_path: str, *, window: int = 16,
                 overlap: int | None = None, options: dict | None = None,
                 step: int | None = None, simulate: bool = False,
                 side_by_side: bool = False, codec: str = "libx264",
                 crf: int = 18, max_memory_bytes: int | None = None,
                 progress: bool = False, seed: int = 0) -> dict[str, Any]:
  """Processes `input_path` into `output_path`; returns a summary."""
  info = probe(input_path)
  model = load_model(config, checkpoint, step)
  task = model.task
  opts = task.enhance_options(dict(options or {}))
  plan = make_plan(task, window, overlap)
  scale = task.output_scale
  h, w = info.height, info.width
  if simulate and scale > 1:
    if h % scale or w % scale:
      h, w = h // scale * scale, w // scale * scale  # crop to the scale
    h, w = h // scale, w // scale
  hp, wp = h + (-h % PAD_MULTIPLE), w + (-w % PAD_MULTIPLE)
  limit = max_memory_bytes or available_memory_bytes()
  run = _compile(model, (1, plan.window, hp, wp, 3), opts, limit)
  out_h, out_w = h * scale, w * scale
  enc_w = out_w * (2 if side_by_side else 1)
  enc_h, enc_w = out_h + out_h % 2, enc_w + enc_w % 2  # 4:2:0 needs even

  degrade = None
  if simulate:
    degrade = jax.jit(lambda v, k: task.simulate(v, k, **opts))
  key = jax.random.key(seed)

  out_dir = os.path.dirname(os.path.abspath(output_path)) or "."
  if not os.path.isdir(out_dir):
    raise EnhanceError(f"{out_dir}: output folder does not exist")
  base, ext = os.path.splitext(os.path.basename(output_path))
  fd, tmp = tempfile.mkstemp(prefix=f".{base}.tmp-", suffix=ext or ".mp4",
                             dir=out_dir)
  os.close(fd)
  pbar = None
  frames_out = 0
  try:
    with av.open(input_path) as src, av.open(tmp, "w") as dst:
      vin = src.streams.video[0]
      ain = src.streams.audio[0] if src.streams.audio else None
      rate = vin.average_rate or vin.guessed_rate
      vout = dst.add_stream(codec, rate=rate)
      vout.width, vout.height, vout.pix_fmt = enc_w, enc_h, "yuv420p"
      if codec in ("libx264", "libx265"):
        vout.options = {"crf": str(crf), "preset": "medium"}
      aout = dst.add_stream_from_template(ain) if ain is not None else None

      def mux_audio(packet):
        packet.stream = aout
        dst.mux(packet)

      if progress:
        import tqdm  # pylint: disable=g-import-not-at-top
        pbar = tqdm.tqdm(total=info.num_frames, unit="frame",
                         desc=os.path.basename(input_path))

      buffer: dict[int, np.ndarray] = {}  # decoded (degraded) input frames
      next_core = 0

      def process(start: int, total: int) -> None:
        nonlocal frames_out, key
        idx = plan.indices(start, total)
        clip = np.stack([buffer[i] for i in idx])[None]
        out = np.asarray(run(model.params, model.model_state,
                             jnp.asarray(_pad(clip, PAD_MULTIPLE))))
        out = out[0, :, :out_h, :out_w]
        count = min(plan.core, total - start)
        for j in range(plan.context, plan.context + count):
          frame = out[j]
          if side_by_side:
            src_frame = buffer[idx[j]]
            if scale > 1:
              src_frame = np.repeat(np.repeat(src_frame, scale, 0), scale, 1)
            frame = np.concatenate([src_frame, frame], axis=1)
          frame = _pad(frame[None], 2)[0]
          img = (np.clip(frame, 0, 1) * 255 + 0.5).astype(np.uint8)
          for packet in vout.encode(av.VideoFrame.from_ndarray(
              img, format="rgb24")):
            dst.mux(packet)
          frames_out += 1
          if pbar is not None:
            pbar.update(1)
        # Forget frames no later window reads: a window mirrored at the end
        # of the video reads back up to a window's length; the first frames
        # stay for mirroring at the start.
        keep_from = start + plan.core - plan.window
        for i in [i for i in buffer if plan.context < i < keep_from]:
          del buffer[i]

      decoded = 0
      for frame in _decode(src, vin, ain, mux_audio if aout else lambda p: None):
        x = frame.astype(np.float32) / 255.0
        if degrade is not None:
          if scale > 1:
            x = x[:h * scale, :w * scale]
          x = np.asarray(degrade(jnp.asarray(x)[None, None],
                                 jax.random.fold_in(key, decoded)))[0, 0]
        buffer[decoded] = x
        decoded += 1
        # A core chunk is ready once its last context frame is decoded.
        while next_core + plan.core + plan.context <= decoded:
          process(next_core, 1 << 62)  # the end is not known yet
          next_core += plan.core
      if decoded == 0:
        raise EnhanceError(f"{input_path}: no video frame could be decoded")
      # Mirroring at the end needs the true length: redo the tail windows.
      while next_core < decoded:
        process(next_core, decoded)
        next_core += plan.core
      for packet in vout.encode():
        dst.mux(packet)
    os.replace(tmp, output_path)
  except BaseException:
    if os.path.exists(tmp):
      os.remove(tmp)
    raise
  finally:
    if pbar is not None:
      pbar.close()
  return {"input": input_path, "output": output_path, "frames": frames_out,
          "fps": float(rate), "input_size": (info.width, info.height),
          "output_size": (enc_w, enc_h), "audio": ain is not None,
          "window": plan.window, "context": plan.context,
          "step": model.step}


# -- command line ----------------------------------------------------------

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "The config the model was trained with (file[:variant]).",
    lock_config=True)
_CHECKPOINT = flags.DEFINE_string(
    "checkpoint", None, "Training workdir or its checkpoints/ folder.")
_INPUT = flags.DEFINE_string("input", None, "Input video file.")
_OUTPUT = flags.DEFINE_string("output", None, "Output video file (.mp4).")
_SIGMA = flags.DEFINE_float(
    "sigma", None, "Denoising: noise level of the input, 0-255 scale.")
_WINDOW = flags.DEFINE_integer("window", 16, "Frames per processing window.")
_OVERLAP = flags.DEFINE_integer(
    "overlap", None, "Context frames on either side of a window (default: "
    "the model's temporal context; 4 for recurrent models).")
_STEP = flags.DEFINE_integer("step", None, "Checkpoint step (default: newest).")
_SIMULATE = flags.DEFINE_bool(
    "simulate", False, "Degrade the input first (noise / downscaling), to "
    "demonstrate on clean footage.")
_SIDE = flags.DEFINE_bool("side_by_side", False,
                          "Write input and output next to each other.")
_CRF = flags.DEFINE_integer("crf", 18, "H.264 quality (lower is better).")
_MAX_MEMORY = flags.DEFINE_float(
    "max_memory_gb", None, "Memory one window may use (default: what is "
    "available now).")
_PROGRESS = flags.DEFINE_bool("progress", True, "Show a progress bar.")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  limit = None if _MAX_MEMORY.value is None else int(
      _MAX_MEMORY.value * 1024 ** 3)
  try:
    summary = enhance_file(
        _CONFIG.value, _CHECKPOINT.value, _INPUT.value, _OUTPUT.value,
        window=_WINDOW.value, overlap=_OVERLAP.value,
        options={"sigma": _SIGMA.value}, step=_STEP.value,
        simulate=_SIMULATE.value, side_by_side=_SIDE.value, crf=_CRF.value,
        max_memory_bytes=limit, progress=_PROGRESS.value)
  except (EnhanceError, ValueError) as e:
    print(f"error: {e}", file=sys.stderr, flush=True)
    sys.exit(2)
  logging.info("enhance: %s", summary)
  print(f"wrote {summary['output']}: {summary['frames']} frames at "
        f"{summary['fps']:g} fps, {summary['output_size'][0]}x"
        f"{summary['output_size'][1]}"
        f"{', audio copied' if summary['audio'] else ''}", flush=True)


if __name__ == "__main__":
  flags.mark_flags_as_required(["config", "checkpoint", "input", "output"])
  app.run(main)
