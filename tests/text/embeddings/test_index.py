from __future__ import annotations

import numpy as np
import pytest

from cinerec.errors import ModelError
from cinerec.text.embeddings.index import ExactIndex, HNSWIndex, build_index


@pytest.fixture(scope="module")
def data() -> tuple[list[int], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((2000, 32)).astype(np.float32)
    queries = rng.standard_normal((50, 32)).astype(np.float32)
    return list(range(5000, 7000)), vectors, queries


def test_exact_is_brute_force(data: tuple[list[int], np.ndarray, np.ndarray]) -> None:
    ids, vectors, queries = data
    index = ExactIndex(ids, vectors)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    for q in queries[:5]:
        expected = [ids[p] for p in np.argsort(-(unit @ q), kind="stable")[:10]]
        assert [i for i, _ in index.search(q, 10)] == expected


def test_hnsw_agrees_with_exact(data: tuple[list[int], np.ndarray, np.ndarray]) -> None:
    ids, vectors, queries = data
    exact, hnsw = ExactIndex(ids, vectors), HNSWIndex(ids, vectors)
    overlap = [
        len({i for i, _ in exact.search(q, 10)} & {i for i, _ in hnsw.search(q, 10)}) / 10
        for q in queries
    ]
    assert np.mean(overlap) >= 0.95
    q = queries[0] / np.linalg.norm(queries[0])
    top_id, top_score = hnsw.search(q, 1)[0]
    unit = vectors[ids.index(top_id)] / np.linalg.norm(vectors[ids.index(top_id)])
    assert top_score == pytest.approx(float(unit @ q), abs=1e-4)  # scores are cosines


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_exclude_and_k(kind: str, data: tuple[list[int], np.ndarray, np.ndarray]) -> None:
    ids, vectors, queries = data
    index = build_index(ids, vectors, kind=kind)
    assert index.kind == kind and len(index) == len(ids)
    best = [i for i, _ in index.search(queries[0], 5)]
    rest = index.search(queries[0], 5, exclude=best[:3])
    assert not {i for i, _ in rest} & set(best[:3]) and len(rest) == 5
    scores = [s for _, s in rest]
    assert scores == sorted(scores, reverse=True)
    assert index.search(queries[0], 0) == []
    assert len(index.search(queries[0], 10_000)) == len(ids)


def test_auto_is_exact_for_a_small_catalog() -> None:
    assert build_index([1, 2], np.eye(2, dtype=np.float32)).kind == "exact"


def test_bad_input_rejected() -> None:
    with pytest.raises(ModelError, match="one vector per id"):
        build_index([1, 2, 3], np.eye(2, dtype=np.float32))
    with pytest.raises(ModelError, match="distinct ids"):
        build_index([1, 1], np.eye(2, dtype=np.float32))
    with pytest.raises(ModelError, match="Unknown index kind"):
        build_index([1], np.eye(1, dtype=np.float32), kind="faiss")
