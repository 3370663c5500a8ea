"""Prompts from class names and the word tokenizer."""

import numpy as np

from vidjax.data import text

CLASSES = ("MoveLeft", "RotateClockwise", "Grow")


def test_class_phrases_and_round_trip():
  assert text.class_phrase("RotateClockwise") == "rotate clockwise"
  assert text.class_phrase("apply_eye_makeup") == "apply eye makeup"
  tok = text.Tokenizer.for_classes(CLASSES, max_len=6)
  ids = tok.encode("A video of Move LEFT!")
  assert ids.shape == (6,) and ids.dtype == np.int32
  assert tok.decode(ids) == "a video of move left"
  assert tok.unknown_words("move sideways") == ["sideways"]
  assert tok.encode("sideways")[0] == text.UNK_ID
  prompts = tok.class_prompt_ids(CLASSES)
  assert prompts.shape == (3, len(text.TEMPLATES), 6)
  assert tok.decode(prompts[2, 1]) == "a video of grow"
