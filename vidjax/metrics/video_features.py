"""A frozen, project-trained video classifier as a feature extractor (FVD).

The Fréchet video distance of Unterthiner et al. uses an I3D network trained
on Kinetics-400. Those weights cannot be downloaded here (no network at run
time, and none ship with the project), so vidjax computes the same statistic
with a classifier it trains itself on the data the generators learn from
(`configs/generation/fvd_features_synthetic.py`: an R(2+1)D trained on the
synthetic motion clips at the generators' resolution). Its numbers are
comparable between models evaluated with the same feature network, not with
published FVDs.

The features are the input of the classifier's final layer (the module named
`head`, the pooled clip representation); the logits serve as the judge of
conditional generation (does a clip generated for "MoveLeft" get classified
as MoveLeft?).
"""

from __future__ import annotations

import json
import os
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from vidjax.data.pipeline import DatasetInfo

HEAD = "head"


class FeatureNetwork:
  """Features [B, D] and logits [B, K] of clips [B, T, H, W, 3] in [0, 1].

  `variables` are kept as host numpy arrays: inside a jitted evaluation step
  they become constants, so the network needs no place in the train state
  and works under any device mesh.
  """

  def __init__(self, model: nn.Module, variables: Any, *,
               mean: Sequence[float], std: Sequence[float], num_frames: int,
               image_size: int, class_names: Sequence[str],
               source: str = "(in memory)"):
    self.model = model
    self.variables = jax.tree.map(np.asarray, jax.device_get(variables))
    self.mean = np.asarray(mean, np.float32)
    self.std = np.asarray(std, np.float32)
    self.num_frames = num_frames
    self.image_size = image_size
    self.class_names = tuple(class_names)
    self.source = source

  @classmethod
  def load(cls, workdir: str | os.PathLike,
           info: DatasetInfo | None = None) -> "FeatureNetwork":
    """The classifier trained by `launch.py` in `workdir` (newest step).

    `workdir` holds the run's `config.json` and `checkpoints/`. `info`: the
    dataset the generators use (its class names); read from the run's data
    config when not given.
    """
    # pylint: disable=g-import-not-at-top
    from vidjax import models
    from vidjax.data import pipeline
    from vidjax.train import checkpoint
    # pylint: enable=g-import-not-at-top
    workdir = os.path.abspath(os.fspath(workdir))
    config_path = os.path.join(workdir, "config.json")
    if not os.path.isfile(config_path):
      raise FileNotFoundError(
          f"{config_path} not found: the FVD feature network is a workdir of "
          "a classification run (python launch.py --config configs/"
          "generation/fvd_features_synthetic.py --workdir DIR)")
    with open(config_path) as f:
      config = ml_collections.ConfigDict(json.load(f))
    if config.task.name != "classification":
      raise ValueError(f"{workdir}: the FVD feature network must be a "
                       "classification run, got task "
                       f"{config.task.name!r}")
    step, state = checkpoint.load_state(os.path.join(workdir, "checkpoints"))
    params = state.get("ema_params") or state["params"]
    num_classes = int(params[HEAD]["kernel"].shape[-1])
    if info is None:
      info = pipeline.dataset_info(*pipeline.load_sources(config))
    if info.num_classes != num_classes:
      raise ValueError(f"{workdir}: the classifier has {num_classes} classes, "
                       f"the dataset {info.num_classes}")
    model = models.build(config.model, num_classes=num_classes)
    data = config.data
    return cls(model, {"params": params, **(state.get("model_state") or {})},
               mean=data.mean, std=data.std, num_frames=data.num_frames,
               image_size=data.image_size, class_names=info.class_names,
               source=f"{workdir}/checkpoints/{step}")

  def check_compatible(self, num_frames: int, image_size: int,
                       class_names: Sequence[str]) -> None:
    """Raises unless generated clips have the shape the network was trained
    on and the same classes (features of other shapes are not comparable)."""
    if (num_frames, image_size) != (self.num_frames, self.image_size):
      raise ValueError(
          f"the feature network {self.source} was trained on "
          f"{self.num_frames} frames of {self.image_size}px, the generator "
          f"makes {num_frames} frames of {image_size}px; train one with "
          "config.data.num_frames / image_size set like the generator's")
    if tuple(class_names) != self.class_names:
      raise ValueError(f"the feature network {self.source} knows classes "
                       f"{self.class_names}, the data has {tuple(class_names)}")

  def __call__(self, video: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(features [B, D], logits [B, K]) of clips in [0, 1]; jittable."""
    x = (video.astype(jnp.float32) - self.mean) / self.std
    captured = {}

    def grab_head_input(next_fun, args, kwargs, context):
      if context.module.name == HEAD and context.method_name == "__call__":
        captured["features"] = args[0]
      return next_fun(*args, **kwargs)

    with nn.intercept_methods(grab_head_input):
      logits = self.model.apply(self.variables, x, train=False)
    if "features" not in captured:
      raise ValueError(f"{type(self.model).__name__} has no final layer named "
                       f"{HEAD!r}; the feature network must be a classifier "
                       "whose last layer is called 'head'")
    return (captured["features"].astype(jnp.float32),
            logits.astype(jnp.float32))
