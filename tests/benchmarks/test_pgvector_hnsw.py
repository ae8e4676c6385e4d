"""benchmarks/pgvector_hnsw.py: its data, ground truth, progress records and tables, and one
small run against a real PostgreSQL + pgvector (finished, and stopped by the time bound)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy import Engine, create_engine, text

from benchmarks.pgvector_hnsw import (
    exact_top_k,
    keep_notices,
    make_vectors,
    progress_line,
    run_one,
    to_markdown,
    unfinished_row,
)

SAMPLES = [
    {"t_s": 30.0, "phase": "building index: loading tuples", "tuples_done": 20_000, "load_1m": 6.0},
    {"t_s": 60.0, "phase": "building index: loading tuples", "tuples_done": 50_000, "load_1m": 7.0},
]


@pytest.mark.parametrize("kind", ["clustered", "gaussian"])
def test_make_vectors_gives_unit_rows_and_separate_queries(kind: str) -> None:
    vectors, queries = make_vectors(kind, 500, 20, 16, seed=1)
    assert vectors.shape == (500, 16) and queries.shape == (20, 16)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    again, _ = make_vectors(kind, 500, 20, 16, seed=1)
    np.testing.assert_array_equal(vectors, again)


def test_clustered_neighbours_are_nearer_than_gaussian_ones() -> None:
    best = {}
    for kind in ("clustered", "gaussian"):
        vectors, queries = make_vectors(kind, 2000, 50, 32, seed=0)
        best[kind] = float(np.mean(np.max(queries @ vectors.T, axis=1)))
    assert best["clustered"] > best["gaussian"] + 0.2


def test_exact_top_k_is_the_k_largest_dot_products() -> None:
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((300, 8)).astype(np.float32)
    queries = rng.standard_normal((130, 8)).astype(np.float32)  # more than one block of 100
    top = exact_top_k(vectors, queries, 5)
    expected = np.argsort(-(queries @ vectors.T), axis=1)[:, :5]
    assert [set(r) for r in top.tolist()] == [set(r) for r in expected.tolist()]


def test_progress_line_gives_the_rate_since_the_last_sample() -> None:
    line = progress_line(SAMPLES)
    assert line.startswith("60 s: 50,000 vectors") and "1,000/s since 30 s" in line
    assert "load 7.0" in line
    assert "/s" not in progress_line(SAMPLES[:1])


def test_unfinished_row_records_how_far_the_build_got() -> None:
    before = [{"t_s": 10.0, "phase": "initializing", "tuples_done": 0, "load_1m": 5.0}]
    row = unfinished_row("clustered", 1_000_000, 384, before + SAMPLES)
    assert row["finished"] is False and row["vectors_inserted"] == 50_000
    assert row["stopped_at_s"] == 60.0 and row["build_vectors_per_s"] == 1000
    assert "vectors_inserted" not in unfinished_row("clustered", 10, 8, before)


def test_markdown_has_a_row_per_ef_search_and_one_per_stopped_build() -> None:
    finished = {
        "data": "clustered", "n": 1000, "dim": 8, "finished": True, "write_s": 0.1,
        "build_s": 0.5, "build_vectors_per_s": 2000, "index_mb": 1,
        "build_load_1m": {"min": 1.0, "median": 2.0, "max": 3.0},
        "server_notices": ["hnsw graph no longer fits into maintenance_work_mem after 9 tuples"],
        "by_ef_search": [
            {"ef_search": ef, "recall_at_10": 0.99, "recall_ci95": [0.98, 1.0],
             "latency_ms_p50": 1.0, "latency_ms_p99": 2.0, "load_1m": [2.0, 2.5]}
            for ef in (40, 100)
        ],
    }  # fmt: skip
    stopped = unfinished_row("clustered", 1_000_000, 384, SAMPLES)
    result = {
        "command": "python benchmarks/pgvector_hnsw.py", "git_sha": "abc", "cpu_count": 2,
        "platform": "Linux", "date_utc": "2026-12-06", "server": "PostgreSQL 16.2",
        "pgvector_extension": "0.6.2", "packages": {}, "workers": 1, "queries": 10,
        "hnsw": {"m": 16, "ef_construction": 64}, "runs": [finished, stopped],
    }  # fmt: skip
    table = [line for line in to_markdown(result).splitlines() if line.startswith("| clustered")]
    assert len(table) == 3
    assert "0.990 [0.980, 1.000]" in table[0] and "2.0-2.5" in table[0]
    assert "stopped at 60.0 s, 50,000 inserted" in table[2]
    assert "Server notice: hnsw graph no longer fits" in to_markdown(result)


@pytest.fixture
def engine(pgvector_server: object) -> Iterator[Engine]:
    made = create_engine(pgvector_server.new_database())  # type: ignore[attr-defined]
    yield made
    made.dispose()


def _args(**overrides: float) -> argparse.Namespace:
    defaults = {
        "queries": 40, "seed": 0, "workers": 0, "build_memory_mb": 64,
        "build_timeout_s": 0, "progress_s": 0.05,
    }  # fmt: skip
    return argparse.Namespace(**{**defaults, **overrides})


@pytest.mark.db
def test_small_run_finishes_with_recall_and_leaves_no_rows(engine: Engine) -> None:
    notices = keep_notices(engine)
    row = run_one(engine, "clustered", 2000, 16, _args(), [40, 100, None], notices)
    assert row["finished"] and row["plan_uses_hnsw"]
    assert [m["ef_search"] for m in row["by_ef_search"]] == [40, 100, 100]  # None: the rule
    assert [m.get("rule", False) for m in row["by_ef_search"]] == [False, False, True]
    assert all(m["recall_at_10"] >= 0.9 for m in row["by_ef_search"])
    assert row["index_mb"] >= 1 and isinstance(row["server_notices"], list)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM movie_vectors")).scalar() == 0


@pytest.mark.db
def test_time_bound_cancels_the_build_and_records_its_progress(engine: Engine) -> None:
    row = run_one(
        engine, "gaussian", 30_000, 64, _args(build_timeout_s=0.01), [40], keep_notices(engine)
    )
    assert row["finished"] is False
    assert "--build-timeout-s" in row["stopped_because"]
    assert row["build_progress"], "the monitor saw the build before cancelling it"
    with engine.connect() as conn:  # the cancelled transaction took the table and rows with it
        assert conn.execute(text("SELECT to_regclass('movie_vectors')")).scalar() is None
