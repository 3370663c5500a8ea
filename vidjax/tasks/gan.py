"""Video GAN: a generator and two discriminators, two optimizers, one step.

config.task:
  loss: "hinge" or "nonsaturating" (the logistic loss with the generator
    maximizing log D(G(z))).
  r1_gamma: weight of the R1 penalty (gamma / 2) * E ||grad_x D(x)||^2 on
    real clips (Mescheder et al., 2018); 0 disables.
  conditional: class-conditional generator and clip discriminator.
  frame_disc_weight: weight of the frame discriminator's losses.
  disc_learning_rate: the discriminators' peak rate (config.optimizer's
    other fields are shared); config.optimizer.learning_rate is the
    generator's.
  feature_network: see `vidjax.tasks._generative`.
config.train.ema_decay > 0 keeps an EMA of the generator; evaluation and
`vidjax.generate` sample from it.

The state's `params` is {"generator", "discriminator"} and its `opt_state`
holds one optimizer state for each; each train step first updates the
discriminators on a real batch and a generated one, then the generator
against the updated discriminators (both from one key).
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import optax

from vidjax.models import video_gan
from vidjax.tasks import _generative
from vidjax.train import optimizers
from vidjax.train.state import TrainState, ema_update

LOSSES = ("hinge", "nonsaturating")


def discriminator_loss(real_logits: jax.Array, fake_logits: jax.Array,
                       kind: str) -> jax.Array:
  if kind == "hinge":
    return (jnp.mean(jax.nn.relu(1.0 - real_logits)) +
            jnp.mean(jax.nn.relu(1.0 + fake_logits)))
  return (jnp.mean(jax.nn.softplus(-real_logits)) +
          jnp.mean(jax.nn.softplus(fake_logits)))


def generator_loss(fake_logits: jax.Array, kind: str) -> jax.Array:
  if kind == "hinge":
    return -jnp.mean(fake_logits)
  return jnp.mean(jax.nn.softplus(-fake_logits))


def r1_penalty(discriminator: Callable[[jax.Array], jax.Array],
               real: jax.Array) -> jax.Array:
  """E_x ||grad_x D(x)||^2 over a batch [B, ...]; D maps it to logits [B].

  Each logit depends only on its own example, so the gradient of their sum
  holds every example's gradient.
  """
  grads = jax.grad(lambda x: jnp.sum(discriminator(x)))(real)
  return jnp.mean(jnp.sum(jnp.square(grads).reshape(real.shape[0], -1),
                          axis=-1))


class Task(_generative.GenerativeTask):

  def __init__(self, config, info, num_train_steps):
    if config.task.loss not in LOSSES:
      raise ValueError(f"config.task.loss must be one of {LOSSES}, got "
                       f"{config.task.loss!r}")
    if config.model.name != "video_gan":
      raise ValueError("the gan task trains config.model.name='video_gan', "
                       f"got {config.model.name!r}")
    super().__init__(config, info, num_train_steps)
    d_opt = config.optimizer.copy_and_resolve_references()
    d_opt.learning_rate = config.task.disc_learning_rate
    self.d_tx, self.d_schedule = optimizers.make_optimizer(d_opt,
                                                           num_train_steps)
    self.conditional = bool(config.task.conditional)

  def model_kwargs(self) -> dict[str, Any]:
    data = self.config.data
    return {"num_frames": data.num_frames, "image_size": data.image_size,
            "num_classes": (self.info.num_classes
                            if self.config.task.conditional else 0)}

  def _labels(self, labels: jax.Array) -> jax.Array | None:
    return labels if self.conditional else None

  def _variables(self, generator=None, discriminator=None) -> dict[str, Any]:
    params = {}
    if generator is not None:
      params["generator"] = generator
    if discriminator is not None:
      params.update(discriminator)
    return {"params": params}

  def generate(self, generator: Any, z: jax.Array,
               labels: jax.Array | None) -> jax.Array:
    """Clips in [-1, 1] from noise z [B, latent_dim]."""
    return self.model.apply(self._variables(generator=generator), z,
                            self._labels(labels),
                            method=video_gan.Model.generate)

  def discriminate(self, discriminator: Any, video: jax.Array,
                   labels: jax.Array | None) -> tuple[jax.Array, jax.Array]:
    return self.model.apply(self._variables(discriminator=discriminator),
                            video, self._labels(labels),
                            method=video_gan.Model.discriminate)

  def _noise(self, rng: jax.Array, batch: int) -> jax.Array:
    return jax.random.normal(rng, (batch, self.model.latent_dim))

  def init_state(self, rng, batch):
    video = _generative.to_model(batch["video"])
    labels = self._labels(batch["label"])
    z = self._noise(rng, video.shape[0])
    params = self.model.init(rng, z, video, labels,
                             method=video_gan.Model.init_all)["params"]
    generator = params["generator"]
    discriminator = {k: params[k] for k in video_gan.DISCRIMINATORS}
    return TrainState(
        step=jnp.zeros((), jnp.int32),
        params={"generator": generator, "discriminator": discriminator},
        opt_state={"generator": self.tx.init(generator),
                   "discriminator": self.d_tx.init(discriminator)},
        model_state={},
        ema_params=generator if self.config.train.ema_decay > 0 else None)

  def _disc_logits(self, discriminator, video, labels):
    """Per-clip logits of both discriminators and their weighted sum."""
    clip, frame = self.discriminate(discriminator, video, labels)
    return clip, frame, clip + self.config.task.frame_disc_weight * frame

  def train_step(self, state, batch, rng):
    cfg = self.config.task
    kind = cfg.loss
    real = _generative.to_model(batch["video"])
    labels = batch["label"]
    b = real.shape[0]
    d_rng, g_rng = jax.random.split(rng)
    generator = state.params["generator"]
    discriminator = state.params["discriminator"]
    fake = jax.lax.stop_gradient(
        self.generate(generator, self._noise(d_rng, b), labels))

    def d_loss_fn(d):
      real_clip, real_frame, _ = self._disc_logits(d, real, labels)
      fake_clip, fake_frame, _ = self._disc_logits(d, fake, labels)
      loss = (discriminator_loss(real_clip, fake_clip, kind) +
              cfg.frame_disc_weight *
              discriminator_loss(real_frame, fake_frame, kind))
      r1 = jnp.zeros(())
      if cfg.r1_gamma > 0:
        r1 = r1_penalty(lambda x: self._disc_logits(d, x, labels)[2], real)
        loss = loss + 0.5 * cfg.r1_gamma * r1
      return loss, dict(r1=r1, d_real=jnp.mean(real_clip),
                        d_fake=jnp.mean(fake_clip),
                        d_real_frame=jnp.mean(real_frame),
                        d_fake_frame=jnp.mean(fake_frame))

    (d_loss, d_metrics), d_grads = jax.value_and_grad(
        d_loss_fn, has_aux=True)(discriminator)
    d_updates, d_opt_state = self.d_tx.update(
        d_grads, state.opt_state["discriminator"], discriminator)
    discriminator = optax.apply_updates(discriminator, d_updates)

    def g_loss_fn(g):
      video = self.generate(g, self._noise(g_rng, b), labels)
      clip, frame, _ = self._disc_logits(discriminator, video, labels)
      return (generator_loss(clip, kind) +
              cfg.frame_disc_weight * generator_loss(frame, kind))

    g_loss, g_grads = jax.value_and_grad(g_loss_fn)(generator)
    g_updates, g_opt_state = self.tx.update(
        g_grads, state.opt_state["generator"], generator)
    generator = optax.apply_updates(generator, g_updates)

    ema = state.ema_params
    if ema is not None:
      ema = ema_update(ema, generator, self.config.train.ema_decay,
                       state.step + 1,
                       self.config.train.get("ema_warmup", True))
    new_state = state.replace(
        step=state.step + 1,
        params={"generator": generator, "discriminator": discriminator},
        opt_state={"generator": g_opt_state, "discriminator": d_opt_state},
        ema_params=ema)
    return new_state, dict(
        d_metrics, d_loss=d_loss, g_loss=g_loss, loss=d_loss + g_loss,
        grad_norm=optax.global_norm((g_grads, d_grads)),
        g_grad_norm=optax.global_norm(g_grads),
        d_grad_norm=optax.global_norm(d_grads),
        param_norm=optax.global_norm(new_state.params))

  def sample_params(self, state):
    return (state.params["generator"] if state.ema_params is None
            else state.ema_params)

  def sample(self, params, rng, labels, **kwargs):
    del kwargs
    video = self.generate(params, self._noise(rng, labels.shape[0]), labels)
    return _generative.to_pixels(video)

  def eval_loss_sums(self, state, batch, rng):
    """Mean clip-discriminator logit on real evaluation clips."""
    del rng
    clip, _ = self.discriminate(state.params["discriminator"],
                                _generative.to_model(batch["video"]),
                                batch["label"])
    return {"d_real": jnp.sum(clip * batch["mask"])}
