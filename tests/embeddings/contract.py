"""The contract every embedder keeps; a new backend gets it by adding one subclass.

A subclass sets ``registry_name`` (its name in :data:`cinerec.embeddings.registry.EMBEDDERS`,
or None for a test double) and the ``embedder`` fixture. The promises are those of
:class:`cinerec.embeddings.base.Embedder`: unit-length float32 rows of ``dim`` values, the
same vector for the same text, an empty batch in, an empty matrix out.
"""

from __future__ import annotations

import numpy as np
import pytest

from cinerec.embeddings.base import Embedder

TEXTS = [
    "Alien (1979). Genres: Horror, Sci-Fi. A crew in deep space meets a deadly creature.",
    "Aliens (1986). Genres: Action, Horror, Sci-Fi. Marines fight creatures on a colony.",
    "Notting Hill (1999). Genres: Comedy, Romance. A bookseller falls for a film star.",
]


class EmbedderContract:
    """Mixin: subclasses set ``registry_name`` and override the ``embedder`` fixture."""

    registry_name: str | None = None

    @pytest.fixture
    def embedder(self) -> Embedder:
        raise NotImplementedError

    def test_follows_protocol(self, embedder: Embedder) -> None:
        assert isinstance(embedder, Embedder)
        assert embedder.name and embedder.dim > 0
        assert embedder.max_seq_tokens is None or embedder.max_seq_tokens > 0

    def test_passages_are_unit_float32_rows(self, embedder: Embedder) -> None:
        vectors = embedder.embed_passages(TEXTS)
        assert vectors.shape == (len(TEXTS), embedder.dim) and vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)

    def test_same_text_same_vector(self, embedder: Embedder) -> None:
        once = embedder.embed_passages(TEXTS[:1])
        twice = embedder.embed_passages([TEXTS[0], TEXTS[0]])
        np.testing.assert_allclose(twice, np.vstack([once, once]), atol=1e-5)

    def test_empty_batch(self, embedder: Embedder) -> None:
        assert embedder.embed_passages([]).shape == (0, embedder.dim)

    def test_query_is_a_unit_vector_nearest_its_topic(self, embedder: Embedder) -> None:
        query = embedder.embed_query("space creature horror")
        assert query.shape == (embedder.dim,) and query.dtype == np.float32
        assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-4
        vectors = embedder.embed_passages(TEXTS)
        assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]  # Alien is nearer Aliens

    def test_counts_tokens(self, embedder: Embedder) -> None:
        short, long = embedder.count_tokens("Heat"), embedder.count_tokens(TEXTS[0])
        assert 0 < short < long
