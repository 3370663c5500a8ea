"""BasicVSR: bidirectional recurrent video super-resolution with flow warping.

Chan et al., "BasicVSR: The Search for Essential Components in Video
Super-Resolution and Beyond", CVPR 2021. A small optical-flow network
(SPyNet-like, below) estimates the flow between neighbouring low-resolution
frames; a backward branch propagates features from the last frame to the
first and a forward branch from the first to the last, each warping the
propagated features onto the current frame with the flow and refining them
with residual blocks. At every frame the two branches are fused, upsampled
by pixel shuffle and added to the bilinear upsampling of the frame.

`skip="bicubic"` adds the bicubic upsampling (the task's degradation's
inverse baseline) instead, and `zero_init_last=True` starts the last
convolution at zero, so the untrained model is exactly that upsampling.
Neither is in the paper (bilinear skip, default initialization).

Alignment is learned: the flow network starts at zero flow (its last layers
are zero-initialized) and is trained end to end through the warping by the
super-resolution loss only. (The paper initializes SPyNet from weights
pre-trained for optical flow, which cannot be downloaded here.)

Input low-resolution video [B, T, h, w, 3] in [0, 1]; output
[B, T, h*scale, w*scale, 3]. Frames are propagated in a Python loop: the
compiled program grows with T, so keep evaluation windows to tens of frames.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp

from vidjax.ops import resize
from vidjax.ops import warp

# Frames of context an output frame reads on either side (recurrent: every output frame reads the whole clip).
TEMPORAL_CONTEXT = None

VARIANTS = {
    "tiny": dict(features=8, num_blocks=1, flow_levels=2,
                 flow_features=(8, 16, 8, 8), flow_kernel=3),
    "small": dict(features=32, num_blocks=4, flow_levels=3,
                  flow_features=(16, 32, 16, 8), flow_kernel=5),
    "paper": dict(features=64, num_blocks=30, flow_levels=6,
                  flow_features=(32, 64, 32, 16), flow_kernel=7),
}


class FlowLevel(nn.Module):
  """SPyNet's basic module: [ref, warped support, flow] -> flow residual."""

  features: Sequence[int]
  kernel: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    k = (self.kernel, self.kernel)
    for i, f in enumerate(self.features):
      x = nn.relu(nn.Conv(f, k, dtype=self.dtype, name=f"conv{i}")(x))
    return nn.Conv(2, k, dtype=self.dtype, kernel_init=nn.initializers.zeros,
                   name=f"conv{len(self.features)}")(x)


class FlowNet(nn.Module):
  """SPyNet-like coarse-to-fine flow: warp(support, flow) aligns to ref.

  ref, support [N, H, W, 3] in [0, 1] -> flow [N, H, W, 2] (dx, dy). Frames
  are edge-padded to a multiple of 2^(levels - 1) and the flow cropped back.
  """

  levels: int = 3
  features: Sequence[int] = (16, 32, 16, 8)
  kernel: int = 5
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, ref: jax.Array, support: jax.Array) -> jax.Array:
    n, h, w, _ = ref.shape
    m = 2 ** (self.levels - 1)
    ph, pw = -h % m, -w % m
    pad = lambda a: jnp.pad(a, ((0, 0), (0, ph), (0, pw), (0, 0)),  # noqa: E731
                            mode="edge")
    pyramid = [(pad(ref) - 0.5, pad(support) - 0.5)]
    for _ in range(self.levels - 1):
      r, s = pyramid[-1]
      pool = lambda a: nn.avg_pool(a, (2, 2), (2, 2))  # noqa: E731
      pyramid.append((pool(r), pool(s)))
    flow = None
    for level in reversed(range(self.levels)):
      r, s = pyramid[level]
      lh, lw = r.shape[1:3]
      if flow is None:
        flow = jnp.zeros((n, lh, lw, 2), r.dtype)
      else:
        flow = warp.resize_flow(flow, lh, lw)
      x = jnp.concatenate([r, warp.flow_warp(s, flow), flow], axis=-1)
      flow = flow + FlowLevel(self.features, self.kernel, self.dtype,
                              name=f"level{level}")(x)
    return flow[:, :h, :w]


def _last_init(zero: bool):
  return nn.initializers.zeros if zero else nn.linear.default_kernel_init


class ResidualTrunk(nn.Module):
  """Input conv + LeakyReLU, then residual blocks (conv-ReLU-conv)."""

  features: int
  num_blocks: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    x = nn.leaky_relu(nn.Conv(self.features, (3, 3), dtype=self.dtype,
                              name="conv_in")(x), 0.1)
    for i in range(self.num_blocks):
      y = nn.relu(nn.Conv(self.features, (3, 3), dtype=self.dtype,
                          name=f"block{i}_conv1")(x))
      x = x + nn.Conv(self.features, (3, 3), dtype=self.dtype,
                      name=f"block{i}_conv2")(y)
    return x


class Model(nn.Module):
  scale: int = 4
  features: int = 64
  num_blocks: int = 30
  flow_levels: int = 3
  flow_features: Sequence[int] = (16, 32, 16, 8)
  flow_kernel: int = 5
  skip: str = "bilinear"
  zero_init_last: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, lr: jax.Array, *, train: bool = False) -> jax.Array:
    del train
    chex.assert_rank(lr, 5)
    if self.scale < 1 or self.scale & (self.scale - 1):
      raise ValueError(f"BasicVSR upsamples by a power of 2, got "
                       f"{self.scale}")
    b, t, h, w, c = lr.shape
    x = lr.astype(self.dtype)
    flownet = FlowNet(self.flow_levels, self.flow_features, self.flow_kernel,
                      self.dtype, name="flownet")
    if t > 1:
      cur = x[:, :-1].reshape(-1, h, w, c)
      nxt = x[:, 1:].reshape(-1, h, w, c)
      # Both directions in one call: to_prev aligns frame i+1 to frame i
      # (backward branch), to_next aligns frame i to frame i+1 (forward).
      flows = flownet(jnp.concatenate([cur, nxt]), jnp.concatenate([nxt, cur]))
      to_prev, to_next = jnp.split(flows.reshape(2, b, t - 1, h, w, 2), 2)
      to_prev, to_next = to_prev[0], to_next[0]
    backward = ResidualTrunk(self.features, self.num_blocks, self.dtype,
                             name="backward_trunk")
    forward = ResidualTrunk(self.features, self.num_blocks, self.dtype,
                            name="forward_trunk")
    fusion = nn.Conv(self.features, (1, 1), dtype=self.dtype, name="fusion")
    ups = [nn.Conv(self.features * 4, (3, 3), dtype=self.dtype,
                   name=f"upconv{i}") for i in range(int(math.log2(
                       self.scale)))]
    conv_hr = nn.Conv(self.features, (3, 3), dtype=self.dtype, name="conv_hr")
    conv_last = nn.Conv(c, (3, 3), dtype=self.dtype,
                        kernel_init=_last_init(self.zero_init_last),
                        name="conv_last")

    feat = jnp.zeros((b, h, w, self.features), self.dtype)
    back_feats = [None] * t
    for i in reversed(range(t)):
      if i < t - 1:
        feat = warp.flow_warp(feat, to_prev[:, i])
      feat = backward(jnp.concatenate([x[:, i], feat], axis=-1))
      back_feats[i] = feat

    feat = jnp.zeros((b, h, w, self.features), self.dtype)
    outputs = []
    for i in range(t):
      if i > 0:
        feat = warp.flow_warp(feat, to_next[:, i - 1])
      feat = forward(jnp.concatenate([x[:, i], feat], axis=-1))
      y = nn.leaky_relu(fusion(jnp.concatenate([back_feats[i], feat], -1)),
                        0.1)
      for up in ups:
        y = nn.leaky_relu(resize.pixel_shuffle(up(y), 2), 0.1)
      y = conv_last(nn.leaky_relu(conv_hr(y), 0.1))
      outputs.append(y + resize.upsample(x[:, i], self.scale, self.skip))
    return jnp.stack(outputs, axis=1).astype(lr.dtype)
