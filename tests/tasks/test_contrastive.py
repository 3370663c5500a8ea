"""Contrastive pretraining: NT-Xent against a direct formula, global
negatives (same loss on 1 and 8 devices), and the frame-order pretext."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from vidjax.data.pipeline import DatasetInfo
from vidjax.tasks import contrastive
from vidjax.tasks import frame_order
from vidjax.train import sharding

# One program per input shape: eagerly, each op compiles its own.
nt_xent = jax.jit(contrastive.nt_xent)
alter_time = jax.jit(frame_order.alter_time, static_argnames="mode")


def test_nt_xent_matches_a_direct_computation():
  z1 = jax.random.normal(jax.random.key(0), (5, 7))
  z2 = jax.random.normal(jax.random.key(1), (5, 7))
  loss, _ = nt_xent(z1, z2, 0.5)
  z = np.concatenate([z1, z2])
  z /= np.linalg.norm(z, axis=1, keepdims=True)
  want = []
  for i in range(10):
    pos = (i + 5) % 10
    others = [j for j in range(10) if j != i]
    denom = np.sum(np.exp(z[i] @ z[others].T / 0.5))
    want.append(-(z[i] @ z[pos] / 0.5 - np.log(denom)))
  np.testing.assert_allclose(loss, want, rtol=1e-5)


def test_padding_is_never_a_negative():
  z1 = jax.random.normal(jax.random.key(0), (4, 3))
  z2 = jax.random.normal(jax.random.key(1), (4, 3))
  valid = jnp.array([1.0, 1.0, 1.0, 0.0])
  loss, _ = nt_xent(z1, z2, 0.2, valid)
  ref, _ = nt_xent(z1[:3], z2[:3], 0.2)
  np.testing.assert_allclose(np.asarray(loss)[[0, 1, 2, 4, 5, 6]], ref,
                             rtol=1e-5)


def _config(name, **task):
  return ml_collections.ConfigDict(dict(
      seed=0, task=task,
      model=dict(name="videomae", variant="tiny"),
      train=dict(ema_decay=0.0),
      optimizer=dict(name="sgd", learning_rate=0.1, schedule="constant",
                     warmup_steps=0, end_learning_rate_factor=0.0,
                     weight_decay=0.0, momentum=0.0, nesterov=False,
                     grad_clip_norm=0.0, b1=0.9, b2=0.999, eps=1e-8),
      name=name))


INFO = DatasetInfo(num_classes=8, class_names=tuple("abcdefgh"),
                   num_train=8, num_eval=8, root="")


def test_contrastive_loss_is_the_same_on_1_and_8_devices():
  """Negatives come from the global batch: sharding it over 8 devices
  changes neither the loss nor the gradients."""
  task = contrastive.Task(_config("c", temperature=0.1, projection_hidden=16,
                                  projection_dim=8), INFO, 10)
  video = jax.random.uniform(jax.random.key(0), (8, 2, 4, 16, 16, 3))
  state = jax.jit(task.init_state)(jax.random.key(1), {"video": video})

  def loss_and_grads(params, batch):
    (loss, _), grads = jax.value_and_grad(task.loss, has_aux=True)(
        params, state.model_state, batch, jax.random.key(2))
    return loss, grads

  out = {}
  for n in (1, 8):
    mesh = sharding.make_mesh(n)
    batch = sharding.global_batch({"video": np.asarray(video)}, mesh)
    assert len(batch["video"].sharding.device_set) == n
    params = jax.device_put(state.params, sharding.replicated(mesh))
    with jax.set_mesh(mesh):
      out[n] = jax.jit(loss_and_grads)(params, batch)
  np.testing.assert_allclose(out[1][0], out[8][0], rtol=1e-5)
  # And it is not the mean of per-device losses over 1-video sub-batches
  # (which would have no negatives at all: loss 0 for 2 clips per device).
  assert float(out[8][0]) > 0.5
  for a, b in zip(jax.tree.leaves(out[1][1]), jax.tree.leaves(out[8][1])):
    np.testing.assert_allclose(a, b, atol=1e-5 * max(1.0, np.abs(a).max()))


def test_frame_order_alteration():
  video = np.broadcast_to(np.arange(8.0, dtype=np.float32)[
      None, :, None, None, None], (64, 8, 2, 2, 3))
  for mode in ("shuffle", "arrow"):
    clips, altered = alter_time(jax.random.key(0), video, mode)
    order = np.asarray(clips[:, :, 0, 0, 0]).astype(int)
    altered = np.asarray(altered)
    assert 0.2 < altered.mean() < 0.8
    for o, a in zip(order, altered):
      assert sorted(o) == list(range(8))
      smooth = (np.all(np.diff(o) == 1) or np.all(np.diff(o) == -1))
      if not a:
        assert list(o) == list(range(8))
      elif mode == "arrow":
        assert list(o) == list(range(7, -1, -1))
      else:
        assert not smooth


def test_frame_order_task_trains_heads_beside_the_backbone():
  """Bars moving right (shuffled clips jump): steps run, parameters keep the
  classifier's names next to the heads, so init_from finds them."""
  task = frame_order.Task(_config("f", mode="shuffle", head_hidden=16),
                          INFO, 10)
  t, size = 4, 16
  video = np.zeros((8, t, size, size, 3), np.float32)
  for i in range(8):
    for f in range(t):
      video[i, f, :, (i + 3 * f) % size] = 1.0
  state = jax.jit(task.init_state)(jax.random.key(0), {"video": video})
  step = jax.jit(task.train_step)
  for i in range(3):
    state, metrics = step(state, {"video": video}, jax.random.key(i))
  assert np.isfinite(float(metrics["loss"]))
  assert "order" in state.params["heads"]
  assert set(state.params) == {"backbone", "fc_norm", "heads"}
