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
      source="synthetic_motion",  # a module of vidjax.data.sources
      root="",  # the dataset folder (videos); unused by the generator
      annotations_dir="",  # where the split/label files live; "" = root
      fold=1,  # UCF101/HMDB51 split number (1, 2 or 3)
      kinetics_layout="auto",  # "trimmed", "untrimmed" or "auto" files
      # Read every video from a folder of pre-extracted frames instead:
      # <frames_root>/<path relative to root without extension>/*.jpg.
      frames_root="",
      frames_fps=30.0,  # rate the frames were extracted at
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
          # Extra clips per class in an "unlabeled" split (same generator,
          # other seeds) for self-supervised pretraining; split names join
          # with "+": train_split="train+unlabeled".
          unlabeled_per_class=0,
          seed=0,
      ),
      num_frames=8,  # frames per clip
      stride=2,  # dense sampler: take every stride-th frame
      # "dense": num_frames frames every stride frames at a random start
      # (evenly spaced clips at evaluation); "tsn": the video cut into
      # num_frames segments, one frame from each (random in training,
      # centred in evaluation); "uniform": num_frames frames evenly spaced
      # over the whole video.
      sampler="dense",
      # "frame": frame numbers (frame i is on screen at i / fps); "time":
      # a grid of timestamps at sample_fps, reading the frame on screen at
      # each (variable-frame-rate files, equal time spans across videos).
      sample_by="frame",
      sample_fps=0.0,  # "time" grid rate; 0 = each video's average rate
      # Videos shorter than a clip: "loop", "repeat_last", or "none" (the
      # video is skipped and counted as a decode failure).
      pad_mode="loop",
      image_size=48,  # square crop fed to the model
      mean=KINETICS_MEAN,
      std=KINETICS_STD,
      label_keys=(),  # extra per-video labels to batch as label_<key>
      train_per_class=0,  # > 0: only the first N training videos per class
      train_views=1,  # clips per video per training example
      # Training augmentations, in the order applied; one random parameter
      # set per clip (all frames alike). At most one of random_resized_crop,
      # multi_scale_crop and scale_jitter may be on; with none, the short
      # side is resized to image_size and the centre cropped.
      augment=dict(
          random_resized_crop=True,
          crop_scale=(0.4, 1.0),  # fraction of the frame area
          crop_ratio=(3 / 4, 4 / 3),
          multi_scale_crop=False,  # TSN: crop sides from the short side
          multi_scale_scales=(1.0, 0.875, 0.75, 0.66),
          multi_scale_max_distort=1,  # max steps between height and width
          # (min, max) short side in pixels, then a random image_size crop
          # (SlowFast's (256, 320) for 224); (0, 0) = off.
          scale_jitter=(0, 0),
          # Off by default: mirroring turns leftward into rightward motion.
          horizontal_flip=False,
          rotation=0.0,  # max degrees, uniform in [-rotation, rotation]
          # RandAugment (num ops per clip, magnitude 0-10 and its noise);
          # 0 layers = off. timm's rand-m9-mstd0.5 is (2, 9.0, 0.5).
          randaugment_layers=0,
          randaugment_magnitude=9.0,
          randaugment_magnitude_std=0.5,
          color_jitter=0.0,  # brightness/contrast/saturation strength
          color_jitter_prob=0.8,
          grayscale_prob=0.0,
          blur_prob=0.0,
          blur_sigma=(0.1, 2.0),  # pixels
          noise_prob=0.0,
          noise_std=(0.0, 0.05),  # of the [0, 1] range
          # Random erasing, after normalization (one box for all frames).
          erase_prob=0.0,
          erase_scale=(0.02, 1 / 3),
          erase_ratio=(0.3, 3.3),
          erase_value="random",  # "random" (N(0, 1) noise) or "zero"
          # Batch-level mixing: labels become soft [B, K]. With both alphas
          # > 0, cutmix is chosen with probability mix_switch_prob.
          mixup_alpha=0.0,
          cutmix_alpha=0.0,
          mix_prob=1.0,  # probability that a batch is mixed at all
          mix_switch_prob=0.5,
      ),
      # The audio track of each clip, as batch keys `audio` [B, S] (mono
      # waveform), `audio_logmel` [B, F, num_mel_bins] and `has_audio` [B]
      # (0 where the video has no audio track: zeros then).
      audio=dict(
          enabled=False,
          sample_rate=16000,
          duration=2.0,  # seconds, centred on the clip
          num_mel_bins=64,
          window_ms=25.0,
          hop_ms=10.0,
      ),
      eval_clips=1,  # evenly spaced clips per video at evaluation
      eval_crops=1,  # 1 (centre) or 3 (spread along the long side)
      eval_resize=1.0,  # short side = image_size * eval_resize, then crop
      num_workers=2,  # Grain worker processes for training (0: in-process)
      worker_buffer_size=2,
      eval_threads=2,
  ))


def representation_eval(**overrides) -> ml_collections.ConfigDict:
  """config.eval.representation: frozen-feature linear probe and k-NN at the
  end of a pretraining run (vidjax/train/representation.py)."""
  return ml_collections.ConfigDict(dict(dict(
      enabled=True,
      train_split="train",  # labeled videos the probe is fitted on
      per_class=0,  # > 0: only the first N of them per class (few labels)
      knn_k=10,
      knn_temperature=0.07,
      probe_steps=500,  # full-batch AdamW steps of the logistic regression
      probe_learning_rate=0.01,
      probe_weight_decay=1e-3,
      batch_size=0,  # 0: config.eval.batch_size
  ), **overrides))


def base_config() -> ml_collections.ConfigDict:
  c = ml_collections.ConfigDict()
  c.seed = 0
  # Pretrained weights for a fresh run: a folder written by
  # `python -m vidjax.models.convert` or a vidjax workdir. The head is
  # re-initialised for another class count, position embeddings resized for
  # another clip, 2D kernels inflated into 3D ones; the log lists each
  # change (vidjax/train/pretrained.py). "" = random initialisation.
  c.init_from = ""
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
      ema_warmup=True,  # decay min(ema_decay, (1+step)/(10+step))
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
      # Transfer learning (vidjax/train/optimizers.py): "full",
      # "linear_probe" (head only), "last_k" (last finetune_last_k blocks
      # and the head) or "layer_decay" (learning rate x layer_decay per
      # block below the head, the VideoMAE recipe). Frozen parameters take
      # no optimizer state.
      finetune="full",
      finetune_last_k=1,
      layer_decay=0.75,
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
  # Only the last step's checkpoint: each save, even of a tiny state, costs
  # ~0.4 s; the tests that resume from earlier steps set their own.
  c.checkpoint.every_steps = 0
  c.logging.progress_bar = False


def synthetic_classification(model: str, arg: str | None,
                             variants: tuple[str, ...] = (), *,
                             dropout_rate: float = 0.0,
                             learning_rate: float = 3e-3,
                             warmup_steps: int = 40,
                             weight_decay: float = 5e-4,
                             **model_fields) -> ml_collections.ConfigDict:
  """One zoo family on the synthetic motion data, at the shared budget.

  Every family trains on the same clips (8 frames, stride 2, 32 px) for the
  same 500 steps of 32 clips, so the README's zoo table compares models and
  not recipes; only the optimizer's rates differ between CNNs (the
  defaults) and transformers. `arg` picks a model size from `variants`
  ("tiny" for tests); `model_fields` sets model fields (remat, pooling, norm,
  or the starting variant).
  """
  args = parse_arg(arg)
  c = base_config()
  c.task.label_smoothing = 0.1
  c.model.update(name=model, variant="tiny")
  c.model.dropout_rate = dropout_rate
  for key, value in model_fields.items():
    c.model[key] = value
  c.data.update(num_frames=8, stride=2, image_size=32)
  c.train.update(batch_size=32, num_epochs=0.0, num_steps=500)
  c.eval.every_steps = 125
  c.optimizer.update(learning_rate=learning_rate, warmup_steps=warmup_steps,
                     weight_decay=weight_decay)
  c.checkpoint.every_steps = 125
  for variant in variants:
    if variant in args:
      c.model.variant = variant
  if "tiny" in args:
    apply_tiny(c)
  return c
