"""Video diffusion: DDPM training, DDIM sampling, classifier-free guidance.

config.task:
  prediction: "eps" (the noise) or "v" (v = alpha * eps - sigma * x0,
    Salimans & Ho 2022); the loss is the mean squared error of it.
  num_timesteps: T, the number of discrete noise levels of the cosine
    schedule (Nichol & Dhariwal 2021); the model sees t = i / T.
  condition: "none", "class" (a learned class embedding) or "text" (prompts
    made from the class names, `vidjax.data.text`, encoded by a text encoder
    trained here).
  cond_drop_prob: probability of training an example unconditionally (the
    null condition), which classifier-free guidance needs.
  guidance_scale: w in uncond + w * (cond - uncond); 1 is plain conditional
    sampling, 0 unconditional.
  sample_steps: DDIM steps at evaluation (1..T; T gives every level).
  eta: DDIM stochasticity; 0 deterministic, 1 the DDPM posterior's variance.
  feature_network: see `vidjax.tasks._generative`.

The model is `video_unet` on clips in [-1, 1]; predictions of x0 are
clipped to [-1, 1] while sampling.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from vidjax.data import text as text_lib
from vidjax.tasks import _generative
from vidjax.train.state import TrainState

PREDICTIONS = ("eps", "v")
CONDITIONS = ("none", "class", "text")


# -- schedule ----------------------------------------------------------------

def cosine_alpha_bars(num_timesteps: int, s: float = 0.008,
                      max_beta: float = 0.999) -> np.ndarray:
  """alpha_bar_i for i = 0..T (alpha_bar_0 = 1), float64 [T + 1].

  Nichol & Dhariwal's cosine schedule: f(u) = cos((u + s) / (1 + s) pi/2)^2,
  beta_i = min(1 - f(i/T) / f((i-1)/T), max_beta) (the clip keeps the last
  level from being pure noise with alpha exactly 0).
  """
  u = np.arange(num_timesteps + 1, dtype=np.float64) / num_timesteps
  f = np.cos((u + s) / (1 + s) * np.pi / 2) ** 2
  betas = np.minimum(1.0 - f[1:] / f[:-1], max_beta)
  return np.concatenate([[1.0], np.cumprod(1.0 - betas)])


def signal_noise(alpha_bar: jax.Array) -> tuple[jax.Array, jax.Array]:
  """(alpha, sigma) = (sqrt(alpha_bar), sqrt(1 - alpha_bar))."""
  return jnp.sqrt(alpha_bar), jnp.sqrt(1.0 - alpha_bar)


# -- parameterizations: x_t = alpha x0 + sigma eps ---------------------------

def v_from(x0: jax.Array, eps: jax.Array, alpha, sigma) -> jax.Array:
  return alpha * eps - sigma * x0


def x0_eps_from_v(x_t: jax.Array, v: jax.Array, alpha, sigma
                  ) -> tuple[jax.Array, jax.Array]:
  return alpha * x_t - sigma * v, sigma * x_t + alpha * v


def x0_from_eps(x_t: jax.Array, eps: jax.Array, alpha, sigma) -> jax.Array:
  return (x_t - sigma * eps) / alpha


def eps_from_x0(x_t: jax.Array, x0: jax.Array, alpha, sigma) -> jax.Array:
  return (x_t - alpha * x0) / sigma


def to_x0_eps(output: jax.Array, x_t: jax.Array, alpha, sigma,
              prediction: str) -> tuple[jax.Array, jax.Array]:
  """(x0, eps) from the model's output of the given kind."""
  if prediction == "v":
    return x0_eps_from_v(x_t, output, alpha, sigma)
  return x0_from_eps(x_t, output, alpha, sigma), output


def cfg_combine(cond: jax.Array, uncond: jax.Array,
                scale: float) -> jax.Array:
  """Classifier-free guidance: uncond + scale * (cond - uncond)."""
  return uncond + scale * (cond - uncond)


# -- sampling ----------------------------------------------------------------

def ddim_timesteps(num_timesteps: int, num_steps: int) -> np.ndarray:
  """Descending levels T = i_0 > ... > i_S = 0, evenly spaced, int32."""
  if not 1 <= num_steps <= num_timesteps:
    raise ValueError(f"sample_steps must be in [1, {num_timesteps}], got "
                     f"{num_steps}")
  return np.round(np.linspace(num_timesteps, 0, num_steps + 1)).astype(
      np.int32)


def ddim_step(x0: jax.Array, eps: jax.Array, alpha_bar_prev: jax.Array,
              alpha_bar: jax.Array, eta: float, noise: jax.Array
              ) -> jax.Array:
  """x at the earlier level from x0 and eps predicted at the later one.

  Song et al. (2021), eq. 12: sigma_eta = eta * sqrt((1 - a_prev) / (1 - a)
  * (1 - a / a_prev)); eta = 1 is the DDPM posterior q(x_prev | x_t, x0).
  """
  var = eta ** 2 * (1 - alpha_bar_prev) / (1 - alpha_bar) * (
      1 - alpha_bar / alpha_bar_prev)
  direction = jnp.sqrt(jnp.maximum(1 - alpha_bar_prev - var, 0.0))
  return jnp.sqrt(alpha_bar_prev) * x0 + direction * eps + jnp.sqrt(
      var) * noise


def ddim_sample(predict: Callable[[jax.Array, jax.Array], jax.Array],
                x_T: jax.Array, alpha_bars: np.ndarray, num_steps: int,
                prediction: str, rng: jax.Array, eta: float = 0.0,
                clip: bool = True) -> jax.Array:
  """Runs DDIM from noise x_T down to level 0; returns x0.

  predict(x_t, t [B] in [0, 1]) -> the model output (eps or v).
  """
  num_timesteps = len(alpha_bars) - 1
  levels = ddim_timesteps(num_timesteps, num_steps)
  bars = jnp.asarray(alpha_bars, jnp.float32)
  b = x_T.shape[0]

  def body(x, inputs):
    i, j, key = inputs
    a, a_prev = bars[i], bars[j]
    alpha, sigma = signal_noise(a)
    out = predict(x, jnp.full((b,), i / num_timesteps, jnp.float32))
    x0, eps = to_x0_eps(out, x, alpha, sigma, prediction)
    if clip:
      x0 = jnp.clip(x0, -1.0, 1.0)
      eps = eps_from_x0(x, x0, alpha, sigma)
    noise = jax.random.normal(key, x.shape, x.dtype)
    return ddim_step(x0, eps, a_prev, a, eta, noise), None

  keys = jax.random.split(rng, num_steps)
  x, _ = jax.lax.scan(body, x_T, (jnp.asarray(levels[:-1]),
                                  jnp.asarray(levels[1:]), keys))
  return x


class Task(_generative.GenerativeTask):

  def __init__(self, config, info, num_train_steps):
    cfg = config.task
    if cfg.prediction not in PREDICTIONS:
      raise ValueError(f"config.task.prediction must be one of {PREDICTIONS},"
                       f" got {cfg.prediction!r}")
    if cfg.condition not in CONDITIONS:
      raise ValueError(f"config.task.condition must be one of {CONDITIONS}, "
                       f"got {cfg.condition!r}")
    self.tokenizer = text_lib.Tokenizer.for_classes(info.class_names)
    self.prompt_ids = self.tokenizer.class_prompt_ids(info.class_names)
    super().__init__(config, info, num_train_steps)
    self.alpha_bars = cosine_alpha_bars(cfg.num_timesteps)

  def model_kwargs(self) -> dict[str, Any]:
    cond = self.config.task.condition
    kwargs = {"num_classes": self.info.num_classes if cond == "class" else 0,
              "vocab_size": len(self.tokenizer) if cond == "text" else 0}
    if cond == "text":
      kwargs["text_max_len"] = self.tokenizer.max_len
    return kwargs

  # -- conditioning ------------------------------------------------------------

  def condition(self, labels: jax.Array, rng: jax.Array | None = None,
                tokens: jax.Array | None = None) -> dict[str, jax.Array]:
    """Model keyword arguments for class labels [B] (or prompt tokens).

    Text conditioning turns each label into one of its class's prompts:
    a random wording with `rng`, the first template ("move left") without.
    """
    cond = self.config.task.condition
    if cond == "class":
      return {"labels": labels}
    if cond == "text":
      if tokens is None:
        prompts = jnp.asarray(self.prompt_ids)
        if rng is None:
          template = jnp.zeros_like(labels)
        else:
          template = jax.random.randint(rng, labels.shape, 0,
                                        prompts.shape[1])
        tokens = prompts[labels, template]
      return {"tokens": tokens}
    return {}

  # -- model -------------------------------------------------------------------

  def init_state(self, rng, batch):
    x = _generative.to_model(batch["video"])
    b = x.shape[0]
    variables = dict(self.model.init(
        {"params": rng, "dropout": rng}, x, jnp.zeros((b,)),
        drop=jnp.zeros((b,), bool), train=False,
        **self.condition(batch["label"])))
    params = variables.pop("params")
    return TrainState.create(params=params, tx=self.tx,
                             model_state=variables,
                             ema=self.config.train.ema_decay > 0)

  def _apply(self, params, x, t, cond, drop, *, train=False, rng=None):
    kwargs = dict(cond, drop=drop, train=train)
    if train:
      kwargs["rngs"] = {"dropout": rng}
    return self.model.apply({"params": params}, x, t, **kwargs)

  def _per_example_loss(self, params, batch, rng, train):
    cfg = self.config.task
    x0 = _generative.to_model(batch["video"])
    b = x0.shape[0]
    level_rng, noise_rng, drop_rng, text_rng, dropout_rng = jax.random.split(
        rng, 5)
    levels = jax.random.randint(level_rng, (b,), 1, cfg.num_timesteps + 1)
    bars = jnp.asarray(self.alpha_bars, jnp.float32)[levels]
    alpha, sigma = signal_noise(bars.reshape((b,) + (1,) * (x0.ndim - 1)))
    eps = jax.random.normal(noise_rng, x0.shape)
    x_t = alpha * x0 + sigma * eps
    drop = jax.random.bernoulli(drop_rng, cfg.cond_drop_prob, (b,))
    out = self._apply(params, x_t, levels / cfg.num_timesteps,
                      self.condition(batch["label"], text_rng), drop,
                      train=train, rng=dropout_rng)
    target = eps if cfg.prediction == "eps" else v_from(x0, eps, alpha, sigma)
    return jnp.mean(jnp.square(out - target).reshape(b, -1), axis=-1)

  def loss(self, params, model_state, batch, rng):
    loss = jnp.mean(self._per_example_loss(params, batch, rng, True))
    return loss, ({"mse": loss}, model_state)

  def eval_loss_sums(self, state, batch, rng):
    per_example = self._per_example_loss(self.eval_params(state), batch, rng,
                                         False)
    return {"loss": jnp.sum(per_example * batch["mask"])}

  # -- sampling ----------------------------------------------------------------

  def guided_predict(self, params, cond: dict[str, jax.Array],
                     scale: float) -> Callable:
    """predict(x_t, t) with classifier-free guidance at `scale`.

    Runs the conditional and the null-condition halves as one batch.
    """
    if self.config.task.condition == "none" or scale == 1.0:
      return lambda x, t: self._apply(params, x, t, cond, None)

    def predict(x, t):
      b = x.shape[0]
      both = jax.tree.map(lambda a: jnp.concatenate([a, a]), cond)
      drop = jnp.concatenate([jnp.zeros((b,), bool), jnp.ones((b,), bool)])
      out = self._apply(params, jnp.concatenate([x, x]),
                        jnp.concatenate([t, t]), both, drop)
      return cfg_combine(out[:b], out[b:], scale)

    return predict

  def sample(self, params, rng, labels, *, tokens=None, steps=None,
             guidance_scale=None, eta=None):
    """Clips [B, T, H, W, 3] in [0, 1] for labels [B] (or prompt tokens)."""
    cfg, data = self.config.task, self.config.data
    b = labels.shape[0]
    noise_rng, step_rng = jax.random.split(rng)
    shape = (b, data.num_frames, data.image_size, data.image_size, 3)
    scale = cfg.guidance_scale if guidance_scale is None else guidance_scale
    predict = self.guided_predict(
        params, self.condition(labels, tokens=tokens), scale)
    x0 = ddim_sample(predict, jax.random.normal(noise_rng, shape),
                     self.alpha_bars, steps or cfg.sample_steps,
                     cfg.prediction, step_rng,
                     eta=cfg.eta if eta is None else eta)
    return _generative.to_pixels(x0)
