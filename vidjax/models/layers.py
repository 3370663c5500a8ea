"""Building blocks shared by the model families: transformer blocks, convolutions."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

Dtype = Any


class MlpBlock(nn.Module):
  """Transformer feed-forward block: Dense -> GELU -> Dense."""

  mlp_dim: int
  dropout_rate: float = 0.0
  activation: Callable[[jax.Array], jax.Array] = nn.gelu
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    d = x.shape[-1]
    x = nn.Dense(self.mlp_dim, dtype=self.dtype, name="fc1",
                 kernel_init=nn.initializers.xavier_uniform(),
                 bias_init=nn.initializers.normal(1e-6))(x)
    x = self.activation(x)
    x = nn.Dropout(self.dropout_rate)(x, deterministic=not train)
    x = nn.Dense(d, dtype=self.dtype, name="fc2",
                 kernel_init=nn.initializers.xavier_uniform(),
                 bias_init=nn.initializers.normal(1e-6))(x)
    return nn.Dropout(self.dropout_rate)(x, deterministic=not train)


class MultiHeadAttention(nn.Module):
  """Self-attention through `jax.nn.dot_product_attention`.

  On GPU with bfloat16 inputs XLA can dispatch it to cuDNN's fused (flash)
  kernel; elsewhere it lowers to plain XLA. Input/output [B, L, D].
  """

  num_heads: int
  qkv_bias: bool = True
  # VideoMAE has query and value biases but no key bias; None: qkv_bias.
  key_bias: bool | None = None
  dtype: Dtype = jnp.float32
  implementation: str | None = None  # None: let JAX choose; "cudnn"; "xla"

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    d = x.shape[-1]
    if d % self.num_heads:
      raise ValueError(f"width {d} is not divisible by {self.num_heads} heads")
    head_dim = d // self.num_heads
    dense = lambda name, bias: nn.DenseGeneral(  # noqa: E731
        (self.num_heads, head_dim), use_bias=bias, dtype=self.dtype,
        kernel_init=nn.initializers.xavier_uniform(), name=name)
    q = dense("query", self.qkv_bias)(x)
    k = dense("key", self.qkv_bias if self.key_bias is None
              else self.key_bias)(x)
    v = dense("value", self.qkv_bias)(x)
    out = jax.nn.dot_product_attention(q, k, v,
                                       implementation=self.implementation)
    return nn.DenseGeneral(d, axis=(-2, -1), dtype=self.dtype, name="out",
                           kernel_init=nn.initializers.xavier_uniform())(out)


class EncoderBlock(nn.Module):
  """Pre-norm transformer block (ViT): x + MHA(LN(x)); x + MLP(LN(x))."""

  num_heads: int
  mlp_dim: int
  dropout_rate: float = 0.0
  layer_norm_eps: float = 1e-6
  # nn.gelu is the tanh approximation (HF's "gelu_fast", ViViT); VideoMAE and
  # TimeSformer use the exact erf form: exact_gelu.
  activation: Callable[[jax.Array], jax.Array] = nn.gelu
  qkv_bias: bool = True
  key_bias: bool | None = None
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    y = nn.LayerNorm(epsilon=self.layer_norm_eps, dtype=self.dtype,
                     name="norm1")(x)
    y = MultiHeadAttention(self.num_heads, self.qkv_bias, self.key_bias,
                           dtype=self.dtype, name="attn")(y)
    x = x + nn.Dropout(self.dropout_rate)(y, deterministic=not train)
    y = nn.LayerNorm(epsilon=self.layer_norm_eps, dtype=self.dtype,
                     name="norm2")(x)
    return x + MlpBlock(self.mlp_dim, self.dropout_rate, self.activation,
                        dtype=self.dtype, name="mlp")(y, train=train)


class Encoder(nn.Module):
  """A stack of `EncoderBlock`s and a final LayerNorm; [B, L, D] -> [B, L, D].

  `remat=True` recomputes each block's activations in the backward pass
  instead of storing them: less memory for long clips, about a third more
  compute.
  """

  depth: int
  num_heads: int
  mlp_dim: int
  dropout_rate: float = 0.0
  remat: bool = False
  dtype: Dtype = jnp.float32
  layer_norm_eps: float = 1e-6
  activation: Callable[[jax.Array], jax.Array] = nn.gelu
  qkv_bias: bool = True
  key_bias: bool | None = None
  final_norm: bool = True  # VideoMAE with mean pooling has none

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    block = nn.remat(EncoderBlock, static_argnums=(2,)) if self.remat \
        else EncoderBlock
    for i in range(self.depth):
      x = block(self.num_heads, self.mlp_dim, self.dropout_rate,
                self.layer_norm_eps, self.activation, self.qkv_bias,
                self.key_bias, dtype=self.dtype, name=f"block{i}")(x, train)
    if not self.final_norm:
      return x
    return nn.LayerNorm(epsilon=self.layer_norm_eps, dtype=self.dtype,
                        name="norm")(x)


def exact_gelu(x: jax.Array) -> jax.Array:
  """GELU with erf (PyTorch's default nn.GELU, HF's "gelu")."""
  return nn.gelu(x, approximate=False)


class Conv3D(nn.Module):
  """A 3D convolution of [B, T, H, W, C] padded like PyTorch's (k // 2).

  Kernels that are purely spatial (1 x k x k) or purely temporal (k x 1 x 1
  without spatial stride) run as 2D convolutions over reshaped tensors: the
  same arithmetic and the same [kt, kh, kw, C, F] parameter as nn.Conv's,
  but XLA's CPU backend runs 2D convolutions several times faster than 3D
  ones. Full k x k x k kernels use the 3D convolution (folding time into
  channels was measured slower to differentiate on CPU).
  """

  features: int
  kernel: Sequence[int]
  strides: Sequence[int] = (1, 1, 1)
  use_bias: bool = False
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    kt, kh, kw = self.kernel
    st, sh, sw = self.strides
    b, t, h, w, c = x.shape
    kernel = self.param("kernel", nn.initializers.variance_scaling(
        2.0, "fan_out", "normal"), (kt, kh, kw, c, self.features))
    x, kernel = nn.dtypes.promote_dtype(x, kernel, dtype=self.dtype)
    pad = lambda k: (k // 2, k // 2)  # noqa: E731
    dn2 = ("NHWC", "HWIO", "NHWC")
    if kt == 1:
      y = jax.lax.conv_general_dilated(
          x[:, ::st].reshape((-1, h, w, c)), kernel[0], (sh, sw),
          (pad(kh), pad(kw)), dimension_numbers=dn2)
      y = y.reshape((b, -1) + y.shape[1:])
    elif kh == kw == 1 and sh == sw == 1:
      y = jax.lax.conv_general_dilated(
          x.reshape(b, t, h * w, c), kernel[:, 0], (st, 1),
          (pad(kt), (0, 0)), dimension_numbers=dn2)
      y = y.reshape(b, -1, h, w, self.features)
    else:
      y = jax.lax.conv_general_dilated(
          x, kernel, (st, sh, sw), (pad(kt), pad(kh), pad(kw)),
          dimension_numbers=("NDHWC", "DHWIO", "NDHWC"))
    if self.use_bias:
      bias = self.param("bias", nn.initializers.zeros, (self.features,))
      y = y + bias.astype(y.dtype)
    return y



def batch_norm(train: bool, dtype: Dtype, name: str,
               scale_init=nn.initializers.ones) -> nn.BatchNorm:
  """BatchNorm with PyTorch's defaults (momentum 0.1 there is 0.9 here)."""
  return nn.BatchNorm(use_running_average=not train, momentum=0.9,
                      epsilon=1e-5, dtype=dtype, scale_init=scale_init,
                      name=name)


class ResBlock(nn.Module):
  """A ResNet block on [B, T, H, W, C]: basic (two 3x3) or bottleneck.

  Parameter names follow torchvision's ResNet (conv1/bn1, ..., downsample),
  so image ResNets convert one to one. `temporal_kernel` is the time extent
  of the first convolution (I3D and SlowFast inflate the bottleneck's first
  1x1 to kt x 1 x 1); 1 makes the block a per-frame 2D block. The stride
  sits on the 3x3 convolution (torchvision's "ResNet v1.5").
  """

  features: int  # output width / 4 for bottlenecks (torchvision's planes)
  bottleneck: bool
  spatial_stride: int = 1
  temporal_kernel: int = 1
  temporal_stride: int = 1
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    s, st, kt = self.spatial_stride, self.temporal_stride, self.temporal_kernel
    out = self.features * (4 if self.bottleneck else 1)
    conv = lambda f, k, stride, name: Conv3D(  # noqa: E731
        f, k, stride, dtype=self.dtype, name=name)
    bn = lambda name, **kw: batch_norm(train, self.dtype, name, **kw)  # noqa: E731
    if self.bottleneck:
      y = nn.relu(bn("bn1")(conv(self.features, (kt, 1, 1), (1, 1, 1),
                                 "conv1")(x)))
      y = nn.relu(bn("bn2")(conv(self.features, (1, 3, 3), (st, s, s),
                                 "conv2")(y)))
      y = bn("bn3")(conv(out, (1, 1, 1), (1, 1, 1), "conv3")(y))
    else:
      y = nn.relu(bn("bn1")(conv(self.features, (kt, 3, 3), (st, s, s),
                                 "conv1")(x)))
      y = bn("bn2")(conv(out, (1, 3, 3), (1, 1, 1), "conv2")(y))
    if s != 1 or st != 1 or x.shape[-1] != out:
      x = bn("downsample_bn")(conv(out, (1, 1, 1), (st, s, s),
                                   "downsample")(x))
    return nn.relu(x + y)


class ResNet(nn.Module):
  """A ResNet trunk on [B, T, H, W, C] -> [B, T', H', W', C'].

  With every temporal kernel 1 it is the 2D image ResNet applied to each
  frame (TSN, LRCN); I3D inflates some kernels in time. `temporal_kernels`
  gives, per stage, the kernel of each block in turn (cycled, as PySlowFast
  writes [3, 1] for "alternate"). Names follow torchvision (stem_conv is its
  conv1), so ImageNet ResNets convert and 2D kernels inflate by name.
  """

  depths: Sequence[int] = (3, 4, 6, 3)
  widths: Sequence[int] = (64, 128, 256, 512)
  bottleneck: bool = True
  stem_width: int = 64
  stem_temporal_kernel: int = 1
  temporal_kernels: Sequence[Sequence[int]] = ((1,), (1,), (1,), (1,))
  # I3D (PySlowFast) halves time with a max pool after the first stage.
  layer1_temporal_pool: int = 1
  remat: bool = False
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    x = Conv3D(self.stem_width, (self.stem_temporal_kernel, 7, 7), (1, 2, 2),
               dtype=self.dtype, name="stem_conv")(x)
    x = nn.relu(batch_norm(train, self.dtype, "stem_bn")(x))
    x = nn.max_pool(x, (1, 3, 3), (1, 2, 2), ((0, 0), (1, 1), (1, 1)))
    for stage, (width, depth) in enumerate(zip(self.widths, self.depths)):
      if stage == 1 and self.layer1_temporal_pool > 1:
        p = self.layer1_temporal_pool
        x = nn.max_pool(x, (p, 1, 1), (p, 1, 1))
      kernels = self.temporal_kernels[stage]
      block = remat_block(ResBlock, self.remat)
      for b in range(depth):
        x = block(width, self.bottleneck,
                     spatial_stride=2 if stage > 0 and b == 0 else 1,
                     temporal_kernel=kernels[b % len(kernels)],
                     dtype=self.dtype,
                     name=f"layer{stage + 1}_{b}")(x, train)
    return x


def remat_block(block: type[nn.Module], remat: bool) -> type[nn.Module]:
  """`block`, recomputing its activations in the backward pass if `remat`.

  Less activation memory for long clips for about a third more compute; the
  block must take `train` as its second positional argument (static).
  """
  return nn.remat(block, static_argnums=(2,)) if remat else block


RESNET_DEPTHS = {18: ((2, 2, 2, 2), False), 34: ((3, 4, 6, 3), False),
                 50: ((3, 4, 6, 3), True), 101: ((3, 4, 23, 3), True)}
