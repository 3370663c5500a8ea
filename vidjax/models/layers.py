"""Building blocks shared by the transformer families."""

from __future__ import annotations

from typing import Any, Callable

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
    k = dense("key", self.qkv_bias)(x)
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
  activation: Callable[[jax.Array], jax.Array] = nn.gelu
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    y = nn.LayerNorm(epsilon=self.layer_norm_eps, dtype=self.dtype,
                     name="norm1")(x)
    y = MultiHeadAttention(self.num_heads, dtype=self.dtype, name="attn")(y)
    x = x + nn.Dropout(self.dropout_rate)(y, deterministic=not train)
    y = nn.LayerNorm(epsilon=self.layer_norm_eps, dtype=self.dtype,
                     name="norm2")(x)
    return x + MlpBlock(self.mlp_dim, self.dropout_rate, self.activation,
                        dtype=self.dtype, name="mlp")(y, train=train)


REMAT_POLICIES = {
    # Save nothing inside a block: least memory, the whole block is rerun.
    "nothing_saveable": jax.checkpoint_policies.nothing_saveable,
    # Keep matmul outputs, recompute the cheap elementwise ops around them.
    "dots_saveable": jax.checkpoint_policies.dots_saveable,
    "dots_with_no_batch_dims_saveable":
        jax.checkpoint_policies.dots_with_no_batch_dims_saveable,
    # Keep everything: the same memory as no remat (for comparisons).
    "everything_saveable": jax.checkpoint_policies.everything_saveable,
}


def remat_policy(name: str):
  if name not in REMAT_POLICIES:
    raise ValueError(f"config.model.remat_policy={name!r}; choose one of "
                     f"{sorted(REMAT_POLICIES)}")
  return REMAT_POLICIES[name]


class Encoder(nn.Module):
  """A stack of `EncoderBlock`s and a final LayerNorm; [B, L, D] -> [B, L, D].

  `remat=True` recomputes each block's activations in the backward pass
  instead of storing them: less memory for long clips, more compute.
  `remat_policy` (a name in REMAT_POLICIES) says what is still saved.
  """

  depth: int
  num_heads: int
  mlp_dim: int
  dropout_rate: float = 0.0
  remat: bool = False
  dtype: Dtype = jnp.float32
  remat_policy: str = "nothing_saveable"

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    block = EncoderBlock
    if self.remat:
      block = nn.remat(EncoderBlock, static_argnums=(2,),
                       policy=remat_policy(self.remat_policy))
    for i in range(self.depth):
      x = block(self.num_heads, self.mlp_dim, self.dropout_rate,
                dtype=self.dtype, name=f"block{i}")(x, train)
    return nn.LayerNorm(epsilon=1e-6, dtype=self.dtype, name="norm")(x)

