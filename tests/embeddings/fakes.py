"""A real, tiny embedder for tests: hashed bag of words, deterministic and instant."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np

from cinerec.embeddings.base import l2_normalize

_WORD = re.compile(r"\w+")


class HashingEmbedder:
    """Each word adds 1 to a hashed coordinate; texts sharing words are similar.

    Records every text it embeds in ``calls`` so tests can see what was (re)computed.
    """

    def __init__(self, name: str = "fake-hash", dim: int = 64, max_seq_tokens: int | None = None):
        self.name = name
        self.dim = dim
        self.max_seq_tokens = max_seq_tokens
        self.calls: list[str] = []

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, np.float32)
        for word in _WORD.findall(text.lower()):
            vector[zlib.crc32(word.encode()) % self.dim] += 1.0
        if not vector.any():
            vector[0] = 1.0
        return vector

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.extend(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return l2_normalize(np.stack([self._vector(t) for t in texts]))

    def embed_query(self, text: str) -> np.ndarray:
        return l2_normalize(self._vector(text))

    def count_tokens(self, text: str) -> int:
        return len(_WORD.findall(text)) + 2
