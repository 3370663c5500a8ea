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
          # Extra clips per class in an "unlabeled" split (same generator,
          # other seeds) for self-supervised pretraining; split names join
          # with "+": train_split="train+unlabeled".
          unlabeled_per_class=0,
          seed=0,
      ),
      num_frames=8,  # frames per clip
      stride=2,  # take every stride-th frame
      pad_mode="loop",  # videos shorter than a clip: "loop" or "repeat_last"
      image_size=48,  # square crop fed to the model
      mean=KINETICS_MEAN,
      std=KINETICS_STD,
      label_keys=(),  # extra per-video labels to batch as label_<key>
      train_per_class=0,  # > 0: only the first N training videos per class
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
      keep_latest=1,
      keep_best=True,
      best_metric="",  # "" = the task's choice (top1 for classification)
      best_mode="",  # "max" or "min"; "" = the task's choice
      async_save=True,
  ))
  c.logging = ml_collections.ConfigDict(dict(
      progress_bar=True,
      tensorboard=True,
  ))
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
