"""Text prompts for class-labelled video and a small word-level tokenizer.

Text-conditioned generation here trains its own text encoder (an embedding
and a small transformer, `vidjax.models.video_unet.TextEncoder`); no
pretrained text model is downloaded. The training text comes from the class
names: "MoveLeft" becomes the phrase "move left", said in several ways by
`TEMPLATES` ("a video of move left", ...), so the encoder learns that
different wordings mean one motion. The vocabulary is every word of those
prompts plus padding and unknown-word tokens; it is a pure function of the
class names, so nothing but the dataset has to be saved to rebuild it.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

PAD = "<pad>"
UNK = "<unk>"
PAD_ID, UNK_ID = 0, 1

TEMPLATES = (
    "{}",
    "a video of {}",
    "a clip of shapes that {}",
    "shapes {}",
    "{} motion",
)


def class_phrase(name: str) -> str:
  """'MoveLeft' -> 'move left'; 'apply_eye_makeup' -> 'apply eye makeup'."""
  spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
  return " ".join(words(spaced))


def words(text: str) -> list[str]:
  """Lower-case words of `text` (letters and digits; the rest separates)."""
  return re.findall(r"[a-z0-9]+", text.lower())


def class_prompts(class_names: Sequence[str],
                  templates: Sequence[str] = TEMPLATES) -> list[list[str]]:
  """[class][template] -> prompt text."""
  return [[t.format(class_phrase(c)) for t in templates] for c in class_names]


class Tokenizer:
  """Word-level tokenizer with a fixed vocabulary; ids [max_len] int32."""

  def __init__(self, vocabulary: Sequence[str], max_len: int):
    self.vocabulary = (PAD, UNK) + tuple(
        w for w in vocabulary if w not in (PAD, UNK))
    self.ids = {w: i for i, w in enumerate(self.vocabulary)}
    self.max_len = max_len

  @classmethod
  def for_classes(cls, class_names: Sequence[str], max_len: int = 8,
                  templates: Sequence[str] = TEMPLATES) -> "Tokenizer":
    vocab = sorted({w for prompts in class_prompts(class_names, templates)
                    for p in prompts for w in words(p)})
    return cls(vocab, max_len)

  def __len__(self) -> int:
    return len(self.vocabulary)

  def unknown_words(self, text: str) -> list[str]:
    return [w for w in words(text) if w not in self.ids]

  def encode(self, text: str) -> np.ndarray:
    """Token ids, padded with PAD_ID (0) or cut to max_len."""
    ids = [self.ids.get(w, UNK_ID) for w in words(text)][:self.max_len]
    return np.asarray(ids + [PAD_ID] * (self.max_len - len(ids)), np.int32)

  def encode_batch(self, texts: Sequence[str]) -> np.ndarray:
    return np.stack([self.encode(t) for t in texts]) if texts else \
        np.zeros((0, self.max_len), np.int32)

  def decode(self, ids: np.ndarray) -> str:
    return " ".join(self.vocabulary[i] for i in np.asarray(ids)
                    if i != PAD_ID)

  def class_prompt_ids(self, class_names: Sequence[str],
                       templates: Sequence[str] = TEMPLATES) -> np.ndarray:
    """Token ids of every class's prompts, int32 [K, len(templates), L]."""
    return np.stack([self.encode_batch(p)
                     for p in class_prompts(class_names, templates)])
