"""Audio features on host numpy arrays: log-mel spectrograms of waveforms.

A waveform is mono float32 [S] in [-1, 1] at `sample_rate` Hz (see
`VideoReader.read_audio`). The spectrogram follows the common recipe of
audio-visual models (e.g. AudioSet VGGish-style front ends): a Hann window
of `window_ms`, a hop of `hop_ms`, the power spectrum mapped onto
`num_mel_bins` triangular filters spaced evenly on the HTK mel scale, then
log(x + 1e-6).
"""

from __future__ import annotations

import numpy as np

LOG_OFFSET = 1e-6


def hz_to_mel(hz):
  """HTK mel scale."""
  return 2595.0 * np.log10(1.0 + np.asarray(hz, np.float64) / 700.0)


def mel_to_hz(mel):
  return 700.0 * (10.0 ** (np.asarray(mel, np.float64) / 2595.0) - 1.0)


def mel_filterbank(num_mel_bins: int, fft_length: int, sample_rate: int,
                   lower_hz: float = 0.0,
                   upper_hz: float | None = None) -> np.ndarray:
  """Triangular filters, float32 [fft_length // 2 + 1, num_mel_bins].

  Filter m rises linearly from mel point m to m + 1 and falls to m + 2, the
  num_mel_bins + 2 points being evenly spaced in mel between lower_hz and
  upper_hz (default: the Nyquist frequency). Peaks are 1.
  """
  upper_hz = sample_rate / 2.0 if upper_hz is None else upper_hz
  if not 0 <= lower_hz < upper_hz <= sample_rate / 2.0:
    raise ValueError(f"need 0 <= lower_hz < upper_hz <= {sample_rate / 2}, "
                     f"got {lower_hz}, {upper_hz}")
  bins_hz = np.linspace(0.0, sample_rate / 2.0, fft_length // 2 + 1)
  edges = mel_to_hz(np.linspace(hz_to_mel(lower_hz), hz_to_mel(upper_hz),
                                num_mel_bins + 2))
  lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
  f = bins_hz[:, None]
  rising = (f - lower) / (centre - lower)
  falling = (upper - f) / (upper - centre)
  return np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)


def frame_count(num_samples: int, window: int, hop: int) -> int:
  return 1 + max(num_samples - window, 0) // hop


def log_mel_spectrogram(waveform: np.ndarray, sample_rate: int,
                        num_mel_bins: int = 64, window_ms: float = 25.0,
                        hop_ms: float = 10.0, lower_hz: float = 0.0,
                        upper_hz: float | None = None) -> np.ndarray:
  """float32 [num_frames, num_mel_bins] of a mono waveform [S].

  num_frames = 1 + (S - window) // hop (the waveform is zero-padded to one
  window if shorter); the FFT length is the next power of two >= window.
  """
  waveform = np.asarray(waveform, np.float32)
  if waveform.ndim != 1:
    raise ValueError(f"waveform must be mono [S], got shape {waveform.shape}")
  window = int(round(sample_rate * window_ms / 1000.0))
  hop = int(round(sample_rate * hop_ms / 1000.0))
  if window < 2 or hop < 1:
    raise ValueError(f"window {window_ms} ms / hop {hop_ms} ms are too short "
                     f"at {sample_rate} Hz")
  if waveform.size < window:
    waveform = np.pad(waveform, (0, window - waveform.size))
  n = frame_count(waveform.size, window, hop)
  frames = np.lib.stride_tricks.sliding_window_view(
      waveform, window)[::hop][:n]
  fft_length = 1 << (window - 1).bit_length()
  hann = np.hanning(window + 1)[:-1].astype(np.float32)  # periodic Hann
  power = np.abs(np.fft.rfft(frames * hann, n=fft_length)) ** 2
  mel = power.astype(np.float32) @ mel_filterbank(
      num_mel_bins, fft_length, sample_rate, lower_hz, upper_hz)
  return np.log(mel + LOG_OFFSET).astype(np.float32)
