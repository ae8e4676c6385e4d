"""``hnsw.ef_search`` chosen from the model's rows, set inside the search's own transaction
(the rule without a server; the setting on the real PostgreSQL + pgvector server)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, create_engine, event

from cinerec.db.vectors import (
    EF_SEARCH_BEYOND,
    EF_SEARCH_BY_ROWS,
    EF_SEARCH_MAX,
    PgVectorIndex,
    ef_search_for,
    sync_vectors,
)
from tests.conftest import PgvectorServer

DIM = 8


def test_the_rule_follows_the_measured_steps() -> None:
    assert [ef_search_for(n) for n in (1, 9_742, 45_000, 300_000)] == [100] * 4
    assert [ef_search_for(n) for n in (300_001, 500_000, 1_000_000)] == [200] * 3
    assert ef_search_for(1_000_001) == ef_search_for(50_000_000) == EF_SEARCH_BEYOND
    steps = [ef for _, ef in EF_SEARCH_BY_ROWS] + [EF_SEARCH_BEYOND]
    assert steps == sorted(steps) and steps[-1] <= EF_SEARCH_MAX  # never less for more rows


def test_an_explicit_ef_search_and_the_fetch_size_still_win() -> None:
    index = PgVectorIndex(None, "m", dim=DIM, count=2_000_000)  # type: ignore[arg-type]
    assert index.ef_search_at(10) == EF_SEARCH_BEYOND
    assert index.ef_search_at(700) == 700  # at least the rows fetched
    index.ef_search = 64
    assert index.ef_search_at(10) == 64


@pytest.fixture(scope="module")
def pg_engine(pgvector_server: PgvectorServer) -> Iterator[Engine]:
    engine = create_engine(pgvector_server.new_database())
    yield engine
    engine.dispose()


def _settings_during_search(index: PgVectorIndex, query: np.ndarray, k: int) -> dict[str, Any]:
    """``hnsw.ef_search`` read on the search's connection right before its SELECT runs (so in
    its transaction), and on a fresh transaction afterwards; plus the search's hits."""
    seen: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT MOVIE_VECTORS.MOVIE_ID"):
            with conn.connection.dbapi_connection.cursor() as probe:
                probe.execute("SHOW hnsw.ef_search")
                seen.append(probe.fetchone()[0])

    event.listen(index.engine, "before_cursor_execute", before)
    try:
        hits = index.search(query, k)
    finally:
        event.remove(index.engine, "before_cursor_execute", before)
    with index.engine.connect() as conn:
        after = conn.exec_driver_sql("SHOW hnsw.ef_search").scalar()
    return {"inside": seen, "after": after, "hits": hits}


@pytest.mark.db
def test_a_small_table_searches_with_100_and_a_large_one_with_more(pg_engine: Engine) -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(60, DIM)).astype(np.float32)
    model = f"ef-{uuid.uuid4().hex[:8]}"
    small = sync_vectors(pg_engine, model=model, ids=range(1, 61), vectors=vectors)
    assert small.ef_search is None and len(small) == 60

    got = _settings_during_search(small, vectors[0], 5)
    assert got["inside"] == ["100"]  # the rule's value, set in the search's transaction
    assert got["after"] == "40"  # SET LOCAL: gone with the transaction (pgvector's default)
    assert got["hits"][0][0] == 1

    # The same table as if it held 2M rows (a stubbed count: the rule reads no table).
    large = PgVectorIndex(pg_engine, model, dim=DIM, count=2_000_000)
    got = _settings_during_search(large, vectors[0], 5)
    assert got["inside"] == [str(EF_SEARCH_BEYOND)]
    assert got["after"] == "40"

    million = PgVectorIndex(pg_engine, model, dim=DIM, count=1_000_000)
    assert _settings_during_search(million, vectors[0], 5)["inside"] == ["200"]
