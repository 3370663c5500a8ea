"""Defaults every config starts from, and the shared variant parser.

Every field is listed here so the locked config rejects misspelt overrides
(`--config.train.num_step=5` is an error, not a silently ignored flag).
"""

from __future__ import annotations

import ml_collections

# Mean and std of Kinetics-400 frames, as used by PySlowFast and torchvision.
KINETICS_MEAN = (0.45, 0.45, 0.45)
KINETICS_STD = (0.225, 0.225, 0.225)


def synthetic_motion_data() -> ml_collections.ConfigDict:
  """The embedded default dataset: motion-only classes, generated on use."""
  return ml_collections.ConfigDict(dict(
      source="synthetic_motion",
      root="",  # the dataset folder (UCF101 layout); unused by the generator
      annotations_dir="",  # where classInd.txt etc. live; "" = root
      fold=1,  # UCF101-style split number
      train_split="train",
      eval_split="test",
      synthetic=dict(
          cache_dir="",  # "" = $VIDJAX_CACHE or ~/.cache/vidjax
          progress=True,
          clips_per_class=64,
          num_groups=8,
          test_groups=2,
          num_frames=32,
          fps=16,
          size=48,
          max_objects=3,
          seed=0,
      ),
      num_frames=8,  # frames per clip
      stride=2,  # take every stride-th frame
      pad_mode="loop",  # videos shorter than a clip: "loop" or "repeat_last"
      image_size=48,  # square crop fed to the model
      mean=KINETICS_MEAN,
      std=KINETICS_STD,
      label_keys=(),  # extra per-video labels to batch as label_<key>
      train_views=1,  # clips per video per training example
      augment=dict(
          random_resized_crop=True,
          crop_scale=(0.4, 1.0),  # fraction of the frame area
          crop_ratio=(3 / 4, 4 / 3),
          # Off by default: mirroring turns leftward into rightward motion.
          horizontal_flip=False,
          color_jitter=0.0,  # brightness/contrast/saturation strength
          color_jitter_prob=0.8,
      ),
      eval_clips=1,  # evenly spaced clips per video at evaluation
      eval_crops=1,  # 1 (centre) or 3 (spread along the long side)
      eval_resize=1.0,  # short side = image_size * eval_resize, then crop
      num_workers=2,  # Grain worker processes for training (0: in-process)
      worker_buffer_size=2,
      eval_threads=2,
  ))


def base_config() -> ml_collections.ConfigDict:
  c = ml_collections.ConfigDict()
  c.seed = 0
  c.task = ml_collections.ConfigDict(dict(name="classification"))
  c.model = ml_collections.ConfigDict(dict(name="", variant="",
                                           dtype="float32"))
  c.data = synthetic_motion_data()
  c.train = ml_collections.ConfigDict(dict(
      batch_size=32,  # global, over all devices and processes
      num_steps=0,  # > 0 overrides num_epochs
      num_epochs=10.0,
      log_every=10,
      num_devices=-1,  # -1: every device
      ema_decay=0.0,  # > 0 keeps an EMA of the weights and evaluates it
      # Layout of the train state over the mesh (see vidjax/train/sharding.py):
      # "data" replicates it, "fsdp" splits each parameter and its optimizer
      # slots over the data axis.
      sharding="data",
      fsdp_min_size=4096,  # smaller arrays stay replicated under fsdp
      # Devices per tensor-parallel group (the mesh's "model" axis); > 1
      # splits transformer heads and MLPs. Must divide the local devices.
      model_parallel=1,
      # Micro-batches per optimizer step (gradients averaged, run one after
      # another): the same step with 1/k of the activation memory.
      grad_accum_steps=1,
      # What a non-finite loss or gradient does: "stop" with a report, or
      # "restore_and_skip": reload the last checkpoint, skip the batch that
      # produced it, and go on (at most max_nonfinite_restores times).
      nonfinite="stop",
      max_nonfinite_restores=3,
      skip_batches=(),  # training batch indices never used (bad data)
      # Fault injection for tests: these batch indices are filled with NaN.
      inject_nan_batches=(),
  ))
  c.eval = ml_collections.ConfigDict(dict(
      batch_size=32,
      every_steps=0,  # 0: only at the end
  ))
  c.optimizer = ml_collections.ConfigDict(dict(
      name="adamw",
      learning_rate=1e-3,
      schedule="warmup_cosine",
      warmup_steps=50,
      end_learning_rate_factor=0.0,
      weight_decay=1e-4,
      b1=0.9,
      b2=0.999,
      eps=1e-8,
      momentum=0.9,
      nesterov=False,
      grad_clip_norm=1.0,
  ))
  c.checkpoint = ml_collections.ConfigDict(dict(
      every_steps=100,
      # The newest checkpoints kept (2: a fallback if the newest is corrupt),
      # besides the best one by best_metric when keep_best.
      keep_latest=2,
      keep_best=True,
      best_metric="",  # "" = the task's choice (top1 for classification)
      best_mode="",  # "max" or "min"; "" = the task's choice
      async_save=True,
  ))
  c.logging = ml_collections.ConfigDict(dict(
      progress_bar=True,
      tensorboard=True,
  ))
  # Profiler trace of this many steps from profile_start_step, written to
  # <workdir>/profile (open in TensorBoard's profile tab or ui.perfetto.dev).
  c.profile_steps = 0
  c.profile_start_step = 10
  return c


def parse_arg(arg: str | None) -> dict[str, str]:
  """'tiny,steps=5' -> {'tiny': '', 'steps': '5'}."""
  out = {}
  for part in (arg or "").split(","):
    part = part.strip()
    if part:
      key, _, value = part.partition("=")
      out[key.strip()] = value.strip()
  return out


def apply_tiny(c: ml_collections.ConfigDict) -> None:
  """Shrinks a config so one step runs in seconds (tests, smoke runs)."""
  c.data.synthetic.update(clips_per_class=3, num_groups=3, test_groups=1,
                          num_frames=12, size=32, progress=False)
  c.data.update(num_frames=4, stride=2, image_size=16, num_workers=0,
                eval_threads=1)
  c.train.update(batch_size=8, num_steps=2, log_every=1)
  c.eval.update(batch_size=8, every_steps=0)
  c.optimizer.warmup_steps = 1
  c.checkpoint.every_steps = 1
  c.logging.progress_bar = False
