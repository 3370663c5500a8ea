"""FVD and conditional-accuracy sums, with a feature network whose features
are worked out by hand (smooth motion vs shuffled frames)."""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from vidjax.metrics import generation

# One program per input shape: eagerly, each op compiles its own.
batch_sums = jax.jit(generation.batch_sums,
                     static_argnames=("network", "num_classes"))
shuffle_frames = jax.jit(generation.shuffle_frames)


class MotionFeatures:
  """Features: mean |frame difference| and mean intensity; class 0 =
  'smooth' (small frame differences), class 1 = 'jerky'."""

  def __call__(self, video):
    diff = jnp.mean(jnp.abs(jnp.diff(video, axis=1)), axis=(1, 2, 3, 4))
    mean = jnp.mean(video, axis=(1, 2, 3, 4))
    logits = jnp.stack([0.15 - diff, diff - 0.15], axis=-1)
    return jnp.stack([diff, mean], axis=-1), logits


@functools.partial(jax.jit, static_argnames=("n", "t", "w"))
def _clips(key, n, t=8, w=16):
  """Sine gratings drifting one pixel per frame, random phase and speed."""
  k1, k2 = jax.random.split(key)
  phase = jax.random.uniform(k1, (n, 1, 1)) * 2 * jnp.pi
  speed = jax.random.uniform(k2, (n, 1, 1), minval=0.5, maxval=1.0)
  x = jnp.arange(w)[None, None, :]
  frames = jnp.arange(t)[None, :, None]
  row = 0.5 + 0.5 * jnp.sin(2 * jnp.pi * (x + speed * frames) / w + phase)
  return jnp.broadcast_to(row[:, :, None, :, None], (n, t, 4, w, 3))


def test_shuffle_frames_permutes_each_clip():
  video = np.arange(3 * 6, dtype=np.float32).reshape(3, 6, 1, 1, 1)
  out = np.asarray(shuffle_frames(video, jax.random.key(0)))
  for i in range(3):
    assert sorted(out[i].ravel()) == list(video[i].ravel())
  assert not np.array_equal(out, video)


def test_same_distribution_beats_shuffled_frames():
  real = _clips(jax.random.key(0), 96)
  generated = _clips(jax.random.key(1), 96)
  labels, mask = jnp.zeros(96, jnp.int32), jnp.ones(96)
  sums = batch_sums(MotionFeatures(), real, generated, labels, mask,
                    jax.random.key(2), num_classes=2)
  out = generation.finalize(jax.tree.map(np.asarray, sums))
  assert out["fvd"] < 0.1 * out["fvd_shuffled"], out
  assert out["fvd_ratio_to_shuffled"] < 0.1
  assert out["real_top1"] == 1.0 and out["cond_top1"] == 1.0
  assert out["shuffled_top1"] < 0.2


def test_padding_is_ignored_and_batches_add_up():
  net = MotionFeatures()
  # Batches put together and sums added on the host: jnp would compile a
  # program per operation.
  real = np.asarray(_clips(jax.random.key(0), 12))
  gen = np.asarray(_clips(jax.random.key(1), 12))
  labels = np.zeros(12, np.int32)
  key = jax.random.key(3)
  whole = batch_sums(net, real, gen, labels, np.ones(12, np.float32), key, 2)
  # The same clips in two batches, the second padded with junk.
  pad = np.full((4,) + real.shape[1:], 7.0, np.float32)
  a = batch_sums(net, real[:8], gen[:8], labels[:8], np.ones(8, np.float32),
                 key, 2)
  b = batch_sums(
      net, np.concatenate([real[8:], pad]), np.concatenate([gen[8:], pad]),
      np.zeros(8, np.int32),
      np.concatenate([np.ones(4), np.zeros(4)]).astype(np.float32), key, 2)
  added = jax.tree.map(np.add, jax.device_get(a), jax.device_get(b))
  for k in ("real_sum", "real_outer", "generated_sum", "real_count",
            "generated_confusion"):
    np.testing.assert_allclose(added[k], whole[k], rtol=1e-5, err_msg=k)


def test_split_halves_with_hand_made_features():
  net = MotionFeatures()

  @jax.jit  # one program: eagerly, each op compiles its own
  def features(key):
    real = _clips(key, 64)
    shuffled = generation.shuffle_frames(real, jax.random.key(1))
    return net(real)[0], net(shuffled)[0]

  out = generation.split_halves_fvd(*map(np.asarray,
                                         features(jax.random.key(0))))
  assert out["clips_per_half"] == 32
  assert out["real_halves"] < 0.1 * out["shuffled_halves"]
