"""Feed-forward video style transfer with perceptual and temporal losses.

The style network (`config.model`, e.g. `style_net`) stylises each frame.
It is trained with Johnson et al.'s perceptual losses, measured by a fixed
feature network, plus a temporal consistency loss.

The fixed feature network. Perceptual losses usually come from an
ImageNet-trained VGG-16, whose weights cannot be downloaded here. This task
uses a VGG-style stack (`FeatureNet`: three stages of two 3x3 conv + ReLU,
average pooling between stages) whose weights are random, He-initialized
from `config.task.feature_seed`, and never trained. Gram matrices of random
convolutional features are a known, working texture descriptor
(Ustyuzhaninov et al., "What does it take to generate natural textures?",
ICLR 2017; He et al., "A Powerful Generative Model Using Random Weights for
the Deep Image Representation", NeurIPS 2016); they capture colours, edges
and their statistics but not the semantic parts a trained VGG sees. The
weights are rebuilt from the seed, so they are not part of the checkpoint.

The style image is procedural (`style_image`, nothing is downloaded):
"mosaic" (Voronoi cells in a saturated palette with dark grout) or "waves"
(oriented colour bands).

Losses, each relative so the weights are scale-free:
- content: ||F(out) - F(x)||^2 / ||F(x)||^2 at `content_layer`;
- style: sum over layers of ||G(out) - G(style)||^2 / ||G(style)||^2, with
  G the Gram matrix of a layer's features divided by its number of pixels;
- total variation of the output;
- temporal (weight 0 disables it): a second view of each frame moved by a
  known motion (a random rotation and translation per clip, at most
  `max_rotation_deg` and `max_shift` pixels), x' = warp(x, flow); the loss
  is the masked mean of (S(x') - warp(S(x), flow))^2 over pixels the motion
  keeps inside the frame. The motion is exact, so no flow estimator is
  needed (the "known motion" option of the issue; cf. Wang et al., "Consistent
  Video Style Transfer via Compound Regularization", AAAI 2020).

Evaluation reports the content and style losses and `warp_error`: the
temporal loss's masked mean squared difference under fixed random motions,
for every model whether or not it trained with the temporal loss. The
warping error of stylised consecutive frames with estimated optical flow
(Lai et al. 2018) is computed by `scripts/enhancement_table.py`.
"""

from __future__ import annotations

import math
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from vidjax.ops import warp
from vidjax.tasks import _enhancement

STYLES = ("mosaic", "waves")


def style_image(name: str, size: int, seed: int = 0) -> np.ndarray:
  """A procedural style image, float32 [size, size, 3] in [0, 1]."""
  rng = np.random.default_rng(seed)
  yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
  if name == "mosaic":
    palette = np.asarray([[0.95, 0.75, 0.10], [0.10, 0.35, 0.80],
                          [0.85, 0.15, 0.15], [0.15, 0.65, 0.35],
                          [0.95, 0.95, 0.90], [0.55, 0.20, 0.60]], np.float32)
    points = rng.uniform(size=(max(12, size // 5), 2)).astype(np.float32)
    d = (yy[..., None] - points[:, 0]) ** 2 + (xx[..., None] - points[:, 1]) ** 2
    order = np.sort(d, axis=-1)
    cell = np.argmin(d, axis=-1)
    colours = palette[rng.integers(0, len(palette), len(points))][cell]
    edge = np.sqrt(order[..., 1]) - np.sqrt(order[..., 0])
    grout = np.clip(edge * size / 2.0, 0.0, 1.0)[..., None]
    image = colours * grout + 0.08 * (1 - grout)
  elif name == "waves":
    image = np.zeros((size, size, 3), np.float32)
    for c, phase in enumerate(rng.uniform(0, 2 * np.pi, 3)):
      theta = rng.uniform(0, np.pi)
      u = np.cos(theta) * xx + np.sin(theta) * yy
      image[..., c] = 0.5 + 0.5 * np.sin(2 * np.pi * 6 * u + phase +
                                         2.0 * np.sin(2 * np.pi * 2 * yy))
  else:
    raise ValueError(f"config.task.style must be one of {STYLES}, got "
                     f"{name!r}")
  return np.clip(image, 0, 1).astype(np.float32)


class FeatureNet(nn.Module):
  """Fixed VGG-style features: a list of [N, h, w, C] maps, one per stage
  (after the second conv + ReLU of each stage)."""

  widths: Sequence[int] = (32, 64, 128)

  @nn.compact
  def __call__(self, x: jax.Array) -> list[jax.Array]:
    x = x - 0.5
    feats = []
    init = nn.initializers.he_normal()
    for i, w in enumerate(self.widths):
      if i:
        x = nn.avg_pool(x, (2, 2), (2, 2))
      for j in range(2):
        x = nn.relu(nn.Conv(w, (3, 3), kernel_init=init,
                            name=f"conv{i + 1}_{j + 1}")(x))
      feats.append(x)
    return feats


def gram(f: jax.Array) -> jax.Array:
  """[N, h, w, C] -> [N, C, C], divided by the number of pixels."""
  n, h, w, c = f.shape
  f = f.reshape(n, h * w, c).astype(jnp.float32)
  return jnp.einsum("npc,npd->ncd", f, f) / (h * w)


def random_motion(rng: jax.Array, n: int, h: int, w: int, max_shift: float,
                  max_rotation_deg: float) -> jax.Array:
  """Flows [n, h, w, 2] of random rigid motions (rotation about the centre,
  then translation), one per image."""
  k1, k2 = jax.random.split(rng)
  shift = jax.random.uniform(k1, (n, 1, 1, 2), minval=-max_shift,
                             maxval=max_shift)
  angle = jax.random.uniform(k2, (n, 1, 1), minval=-1.0, maxval=1.0) * (
      max_rotation_deg * math.pi / 180.0)
  ys, xs = jnp.meshgrid(jnp.arange(h, dtype=jnp.float32) - (h - 1) / 2,
                        jnp.arange(w, dtype=jnp.float32) - (w - 1) / 2,
                        indexing="ij")
  c, s = jnp.cos(angle), jnp.sin(angle)
  fx = c * xs - s * ys - xs
  fy = s * xs + c * ys - ys
  return jnp.stack([fx, fy], axis=-1) + shift


class Task(_enhancement.EnhancementTask):
  best_metric = "loss"
  best_mode = "min"

  def __init__(self, config, info, num_train_steps):
    _enhancement.require_unit_range(config, "style_transfer")
    t = config.task
    _enhancement.check_choice(t.style, STYLES, "config.task.style")
    if not 0 <= t.content_layer < len(t.feature_widths):
      raise ValueError(f"config.task.content_layer={t.content_layer} is not "
                       f"a stage of feature_widths {tuple(t.feature_widths)}")
    super().__init__(config, info, num_train_steps)
    self.features = FeatureNet(tuple(t.feature_widths))
    style = style_image(t.style, t.style_size, t.feature_seed)
    self.style = style
    self.feature_params = self.features.init(
        jax.random.key(t.feature_seed), jnp.zeros((1, 16, 16, 3)))
    self.style_grams = [np.asarray(gram(f))[0] for f in self.features.apply(
        self.feature_params, jnp.asarray(style)[None])]

  def model_inputs(self, video):
    return (video,)

  def _frames(self, video: jax.Array) -> jax.Array:
    return video.reshape((-1,) + video.shape[-3:])

  def perceptual_losses(self, out: jax.Array, content: jax.Array
                        ) -> dict[str, jax.Array]:
    """Per-image content, style and TV losses of frames [N, H, W, 3]."""
    t = self.config.task
    feats_out = self.features.apply(self.feature_params, out)
    feats_in = self.features.apply(self.feature_params, content)
    k = t.content_layer
    fo, fi = feats_out[k], jax.lax.stop_gradient(feats_in[k])
    content_loss = jnp.sum((fo - fi) ** 2, axis=(1, 2, 3)) / jnp.maximum(
        jnp.sum(fi ** 2, axis=(1, 2, 3)), 1e-8)
    style_loss = 0.0
    for f, g_style in zip(feats_out, self.style_grams):
      g_style = jnp.asarray(g_style)
      style_loss = style_loss + jnp.sum((gram(f) - g_style) ** 2,
                                        axis=(1, 2)) / jnp.sum(g_style ** 2)
    tv = (jnp.mean(jnp.abs(out[:, 1:] - out[:, :-1]), axis=(1, 2, 3)) +
          jnp.mean(jnp.abs(out[:, :, 1:] - out[:, :, :-1]), axis=(1, 2, 3)))
    return {"content_loss": content_loss, "style_loss": style_loss,
            "tv_loss": tv}

  def _motion(self, rng, frames):
    t = self.config.task
    n, h, w, _ = frames.shape
    return random_motion(rng, n, h, w, t.max_shift, t.max_rotation_deg)

  def temporal_error(self, stylise, frames, out, flow) -> jax.Array:
    """Per-image masked mean of (S(warp(x)) - warp(S(x)))^2."""
    moved = warp.flow_warp(frames, flow)
    out_moved = stylise(moved)
    mask = warp.valid_mask(flow)
    diff = (out_moved - warp.flow_warp(out, flow)) ** 2 * mask
    return jnp.sum(diff, axis=(1, 2, 3)) / jnp.maximum(
        3.0 * jnp.sum(mask, axis=(1, 2, 3)), 1.0)

  def _weighted(self, parts: dict[str, jax.Array]) -> jax.Array:
    t = self.config.task
    total = (t.content_weight * parts["content_loss"] +
             t.style_weight * parts["style_loss"] +
             t.tv_weight * parts["tv_loss"])
    if t.temporal_weight > 0:
      total = total + t.temporal_weight * parts["warp_error"]
    return total

  def loss(self, params, model_state, batch, rng):
    frames = self._frames(batch["video"])
    motion_rng, dropout_rng = jax.random.split(rng)

    def stylise(x):
      out, _ = self.run_model(params, model_state, (x,), train=True,
                              rng=dropout_rng)
      return out

    out = stylise(frames)
    parts = {k: v.mean() for k, v in self.perceptual_losses(out,
                                                            frames).items()}
    if self.config.task.temporal_weight > 0:
      flow = self._motion(motion_rng, frames)
      parts["warp_error"] = self.temporal_error(stylise, frames, out,
                                                flow).mean()
    return self._weighted(parts), (parts, model_state)

  def eval_step(self, state, batch, rng):
    video, mask = batch["video"], batch["mask"]
    b, t = video.shape[:2]
    frames = self._frames(video)
    params = self.eval_params(state)

    def stylise(x):
      out, _ = self.run_model(params, state.model_state, (x,), train=False)
      return out

    out = stylise(frames)
    parts = self.perceptual_losses(out, frames)
    parts["warp_error"] = self.temporal_error(
        stylise, frames, out, self._motion(rng, frames))
    per_video = {k: v.reshape(b, t).mean(axis=1) for k, v in parts.items()}
    per_video["loss"] = self._weighted(per_video)
    sums = {k: jnp.sum(v * mask) for k, v in per_video.items()}
    sums["count"] = jnp.sum(mask)
    mid = t // 2
    return sums, {"stylised": out.reshape(video.shape)[:, mid]}

  def finalize_eval(self, sums):
    n = max(float(sums["count"]), 1.0)
    out = {k: float(v) / n for k, v in sums.items() if k != "count"}
    out["num_videos"] = float(sums["count"])
    return out

  def visualize(self, batch, examples):
    video = np.asarray(batch["video"])
    frames = video[:, video.shape[1] // 2]
    h, w = frames.shape[1:3]
    reps = (-(-h // self.style.shape[0]), -(-w // self.style.shape[1]), 1)
    style = np.tile(self.style, reps)[:h, :w]
    styles = np.broadcast_to(style, frames.shape)
    return {"content_stylised_style": _enhancement.side_by_side(
        [frames, examples["stylised"], styles], batch["mask"])}

  def enhance(self, params, model_state, video):
    out, _ = self.run_model(params, model_state, (video,), train=False)
    return _enhancement.clip01(out)
