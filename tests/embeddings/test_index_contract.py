"""The contract every VectorIndex passes: exact numpy, hnswlib HNSW and pgvector HNSW.

A new index gets the whole suite by subclassing :class:`VectorIndexContract` and saying how
to build one. Exact indexes must return exactly the brute-force top k; approximate ones must
agree at recall@10 >= :data:`MIN_RECALL`. Every index returns, best first, ids with their
true score (the dot product of the query with the unit stored vector).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence

import numpy as np
import pytest
from sqlalchemy import Engine, create_engine, text

from cinerec.embeddings.index import ExactIndex, HNSWIndex, VectorIndex
from tests.conftest import PgvectorServer

MIN_RECALL = 0.95
N, DIM = 1000, 24
IDS = list(range(5000, 5000 + N))


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((N, DIM)).astype(np.float32)
    queries = rng.standard_normal((40, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True), queries


def brute_force(vectors: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    scores = vectors @ query
    return [IDS[p] for p in np.argsort(-scores, kind="stable")[:k]]


class VectorIndexContract:
    """Shared tests; a subclass implements :meth:`make` and says whether it is exact."""

    exact = True
    kind = ""

    def make(self, ids: Sequence[int], vectors: np.ndarray) -> VectorIndex:
        raise NotImplementedError

    def test_kind_and_length(self, data: tuple[np.ndarray, np.ndarray]) -> None:
        index = self.make(IDS, data[0])
        assert index.kind == self.kind and len(index) == N

    def test_top_k_matches_brute_force(self, data: tuple[np.ndarray, np.ndarray]) -> None:
        vectors, queries = data
        index = self.make(IDS, vectors)
        found = [[i for i, _ in index.search(q, 10)] for q in queries]
        expected = [brute_force(vectors, q, 10) for q in queries]
        if self.exact:
            assert found == expected
        else:
            pairs = zip(found, expected, strict=True)
            recall = np.mean([len(set(f) & set(e)) / 10 for f, e in pairs])
            assert recall >= MIN_RECALL
            assert all(len(f) == 10 for f in found)

    def test_scores_are_true_and_best_first(self, data: tuple[np.ndarray, np.ndarray]) -> None:
        vectors, queries = data
        index = self.make(IDS, vectors)
        for query in (queries[0], 3.0 * queries[1] / np.linalg.norm(queries[1])):
            hits = index.search(query, 20)
            scores = [s for _, s in hits]
            assert scores == sorted(scores, reverse=True)
            true = {IDS[p]: float(vectors[p] @ query) for p in range(N)}
            assert all(s == pytest.approx(true[i], abs=1e-4) for i, s in hits)

    def test_exclude(self, data: tuple[np.ndarray, np.ndarray]) -> None:
        vectors, queries = data
        index = self.make(IDS, vectors)
        best = [i for i, _ in index.search(queries[0], 5)]
        rest = index.search(queries[0], 5, exclude=[*best[:3], 999_999])  # one unknown id
        assert len(rest) == 5 and not {i for i, _ in rest} & set(best[:3])
        assert [i for i, _ in rest][:2] == best[3:]
        own = index.search(vectors[7], 1, exclude={IDS[7]})
        assert own and own[0][0] != IDS[7]

    def test_k_larger_than_n_returns_everything(self, data: tuple[np.ndarray, np.ndarray]) -> None:
        vectors, queries = data
        index = self.make(IDS, vectors)
        everything = index.search(queries[0], 10 * N)
        assert sorted(i for i, _ in everything) == IDS
        if self.exact:
            assert [i for i, _ in everything] == brute_force(vectors, queries[0], N)
        assert len(index.search(queries[0], 10 * N, exclude=IDS[:10])) == N - 10
        assert index.search(queries[0], N, exclude=IDS) == []

    def test_zero_k(self, data: tuple[np.ndarray, np.ndarray]) -> None:
        assert self.make(IDS, data[0]).search(data[1][0], 0) == []

    def test_empty(self) -> None:
        index = self.make([], np.zeros((0, DIM), np.float32))
        assert len(index) == 0
        assert index.search(np.ones(DIM, np.float32), 10) == []


class TestExactIndex(VectorIndexContract):
    kind = "exact"

    def make(self, ids: Sequence[int], vectors: np.ndarray) -> VectorIndex:
        return ExactIndex(ids, vectors)


class TestHNSWIndex(VectorIndexContract):
    kind = "hnsw"
    exact = False

    def make(self, ids: Sequence[int], vectors: np.ndarray) -> VectorIndex:
        return HNSWIndex(ids, vectors)


@pytest.fixture(scope="module")
def pgvector_engine(pgvector_server: PgvectorServer) -> Iterator[Engine]:
    engine = create_engine(pgvector_server.new_database())
    yield engine
    engine.dispose()


@pytest.mark.db
class TestPgVectorIndex(VectorIndexContract):
    kind = "pgvector"
    exact = False

    @pytest.fixture(autouse=True)
    def _engine(self, pgvector_engine: Engine) -> None:
        self.engine = pgvector_engine

    def make(self, ids: Sequence[int], vectors: np.ndarray) -> VectorIndex:
        from cinerec.db.vectors import sync_vectors

        model = f"contract-{uuid.uuid4().hex[:8]}"  # each index its own model, one table
        return sync_vectors(self.engine, model=model, ids=ids, vectors=vectors)

    def test_searches_use_the_hnsw_index(self, data: tuple[np.ndarray, np.ndarray]) -> None:
        from cinerec.db.vectors import PgVectorIndex

        index = self.make(IDS, data[0])
        assert isinstance(index, PgVectorIndex)
        plan = index.plan(data[1][0], 10)
        assert "Index Scan using ix_movie_vectors_" in plan, plan
        assert "Index Scan using ix_movie_vectors_" not in index.plan(data[1][0], N)  # exact

    def test_sync_writes_only_changes(self, data: tuple[np.ndarray, np.ndarray]) -> None:
        from cinerec.db.vectors import sync_vectors

        vectors, queries = data
        model = f"sync-{uuid.uuid4().hex[:8]}"
        first = sync_vectors(self.engine, model=model, ids=IDS, vectors=vectors).sync_report
        assert first is not None and (first.written, first.index_built) == (N, True)
        changed = vectors.copy()
        changed[0] = -changed[0]
        index = sync_vectors(self.engine, model=model, ids=IDS[:-5], vectors=changed[:-5])
        report = index.sync_report
        assert report is not None
        assert (report.written, report.deleted, report.index_built) == (1, 5, False)
        with self.engine.connect() as conn:
            stored = dict(
                conn.execute(
                    text("SELECT movie_id, content_hash FROM movie_vectors WHERE model = :m"),
                    {"m": model},
                ).all()
            )
        assert len(index) == len(stored) == N - 5 and IDS[-1] not in stored
        top = index.search(changed[0], 1)[0]
        assert top[0] == IDS[0] and top[1] == pytest.approx(1.0, abs=1e-5)
        # A model whose dimension changes keeps one index, of the new dimension.
        wider = np.hstack([vectors, vectors])
        index = sync_vectors(self.engine, model=model, ids=IDS, vectors=wider)
        assert index.search(wider[3], 1)[0][0] == IDS[3]
        assert "Index Scan using" in index.plan(wider[3], 10)

    def test_unavailable_on_sqlite(self) -> None:
        from cinerec.db.vectors import pgvector_available

        assert pgvector_available(self.engine)
        assert not pgvector_available(create_engine("sqlite://"))
