"""The protocol every embedding backend follows, and helpers shared by the backends.

Example:
    >>> import numpy as np
    >>> l2_normalize(np.array([[3.0, 4.0]])).tolist()
    [[0.6000000238418579, 0.800000011920929]]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from cinerec.errors import ModelError


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors; similarity is the dot product.

    Attributes:
        name: identity of the model *and its weights*; the embedding cache is keyed by it, so
            two embedders with the same name must give the same vectors (a fine-tuned model
            carries a hash of its weights in the name).
        dim: length of every vector.
        max_seq_tokens: tokens the model reads per text; longer texts are cut at the end
            (None: the backend reads the whole text, e.g. windowed or convolutional models).
    """

    name: str
    dim: int
    max_seq_tokens: int | None

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), dim)`` float32, rows L2-normalised (documents: movie descriptions)."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """``(dim,)`` float32, L2-normalised (a search query, e.g. a free-text taste)."""
        ...

    def count_tokens(self, text: str) -> int:
        """How many tokens the model would read for ``text`` before any cut."""
        ...


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as float32; all-zero rows stay zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32, copy=False)


def embed_batched(
    name: str,
    encode: Callable[[list[str]], np.ndarray],
    texts: Sequence[str],
    *,
    batch_size: int,
    dim: int,
) -> np.ndarray:
    """Run ``encode`` over ``texts`` in batches and check the stacked result."""
    texts = list(texts)
    if not texts:
        return np.zeros((0, dim), np.float32)
    parts = [encode(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
    return check_output(name, np.vstack(parts), len(texts), dim)


def check_output(name: str, vectors: np.ndarray, n: int, dim: int) -> np.ndarray:
    """Validate a backend's output shape and values; :class:`ModelError` when wrong."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.shape != (n, dim):
        raise ModelError(
            f"Embedder {name!r} returned shape {vectors.shape}, expected {(n, dim)}; "
            "reinstall the backend package"
        )
    if not np.isfinite(vectors).all():
        raise ModelError(f"Embedder {name!r} returned NaN or inf; reinstall the backend package")
    return l2_normalize(vectors)
