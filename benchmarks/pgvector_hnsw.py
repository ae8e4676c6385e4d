"""pgvector HNSW in PostgreSQL: build time, recall@10 against exact search, query latency.

Runs :func:`cinerec.db.vectors.sync_vectors` and :class:`~cinerec.db.vectors.PgVectorIndex`
(the code "more like this" uses on PostgreSQL) on synthetic unit vectors, against a real
PostgreSQL 16 + pgvector server started from the ``pgserver`` wheel (or ``--url``).

Data sets (seeded):
- ``clustered``: a Gaussian mixture, ``n / 100`` centres ~ N(0, I), each point its centre plus
  N(0, 0.7^2 I) noise (cosine to its centre about 0.8); queries are new points of the same
  mixture. Description vectors cluster by genre and theme, so this is the fairer model.
- ``gaussian``: isotropic N(0, I), queries likewise: no structure at all, the worst case for a
  graph index (every point's neighbours are almost as far as everyone else).

Per data set: the COPY write and HNSW build times, then per ``ef_search`` value recall@10
against exact numpy search over ``--queries`` queries (mean with a 95% interval, normal
approximation over queries) and the latency of one ``index.search(q, 10)`` call from this
process (single client, SQL round trip over the Unix socket included): p50 and p99.

(Not ``benchmarks/pgvector.py``: run as a script, that name would shadow the ``pgvector``
package it imports.)

Usage (about 12 minutes on 2 shared cores with the defaults):
    python benchmarks/pgvector_hnsw.py --out benchmarks/results/pgvector.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.* as a script
import numpy as np
from sqlalchemy import Engine, create_engine, text

from benchmarks.provenance import package_versions, provenance  # noqa: E402
from cinerec.db.vectors import (
    BUILD_MEMORY_CAP_MB,
    HNSW_EF_CONSTRUCTION,
    HNSW_M,
    PgVectorIndex,
    sync_vectors,
)


def make_vectors(kind: str, n: int, n_queries: int, dim: int, seed: int) -> tuple[Any, Any]:
    """``(vectors, queries)``, both unit rows, float32."""
    rng = np.random.default_rng(seed)
    if kind == "gaussian":
        points = rng.standard_normal((n + n_queries, dim), dtype=np.float32)
    else:
        centres = rng.standard_normal((max(n // 100, 1), dim), dtype=np.float32)
        points = np.empty((n + n_queries, dim), np.float32)
        for start in range(0, n + n_queries, 100_000):  # bounded temporary memory
            stop = min(start + 100_000, n + n_queries)
            members = rng.integers(len(centres), size=stop - start)
            noise = rng.standard_normal((stop - start, dim), dtype=np.float32)
            points[start:stop] = centres[members] + 0.7 * noise
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    return points[:n], points[n:]


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Row positions of each query's ``k`` best dot products (ground truth)."""
    out = np.empty((len(queries), k), np.int64)
    for start in range(0, len(queries), 100):
        scores = queries[start : start + 100] @ vectors.T
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        out[start : start + 100] = top
    return out


def measure(index: PgVectorIndex, queries: np.ndarray, truth: np.ndarray, ef: int) -> dict:
    """Recall@10 and per-call latency at one ``ef_search``."""
    index.ef_search = ef
    for q in queries[:50]:  # warm the connection pool and the index pages
        index.search(q, 10)
    recalls, times = [], []
    for q, expected in zip(queries, truth, strict=True):
        started = time.perf_counter()
        hits = index.search(q, 10)
        times.append(time.perf_counter() - started)
        recalls.append(len({i for i, _ in hits} & set(expected.tolist())) / 10)
    r = np.asarray(recalls)
    half = 1.96 * r.std(ddof=1) / np.sqrt(len(r))
    ms = np.asarray(times) * 1000
    return {
        "ef_search": ef,
        "recall_at_10": round(float(r.mean()), 4),
        "recall_ci95": [round(float(r.mean() - half), 4), round(float(r.mean() + half), 4)],
        "latency_ms_p50": round(float(np.percentile(ms, 50)), 2),
        "latency_ms_p99": round(float(np.percentile(ms, 99)), 2),
        "latency_ms_max": round(float(ms.max()), 2),
    }


def run_one(
    engine: Engine, kind: str, n: int, dim: int, args: argparse.Namespace, efs: list[int]
) -> dict:
    """Write, build and query one data set; the model's rows are deleted afterwards."""
    vectors, queries = make_vectors(kind, n, args.queries, dim, args.seed)
    ids = np.arange(1, n + 1)
    truth = ids[exact_top_k(vectors, queries, 10)]
    model = f"bench-{kind}-{n}-{dim}"
    started = time.perf_counter()
    index = sync_vectors(
        engine,
        model=model,
        ids=ids.tolist(),
        vectors=vectors,
        build_workers=args.workers,
        build_memory_cap_mb=args.build_memory_mb,
    )
    total = time.perf_counter() - started
    report = index.sync_report
    assert report is not None and report.index_built
    plan = index.plan(queries[0], 10)
    row: dict[str, Any] = {
        "data": kind,
        "n": n,
        "dim": dim,
        "write_s": round(report.write_seconds, 1),
        "build_s": round(report.build_seconds, 1),
        "sync_total_s": round(total, 1),
        "build_vectors_per_s": round(n / report.build_seconds),
        "plan_uses_hnsw": "Index Scan using ix_movie_vectors_" in plan,
        "by_ef_search": [measure(index, queries, truth, ef) for ef in efs],
    }
    with engine.begin() as conn:
        sizes = conn.execute(
            text(
                "SELECT pg_relation_size(indexrelid) FROM pg_index i JOIN pg_class c "
                "ON c.oid = i.indexrelid WHERE c.relname LIKE 'ix_movie_vectors_%'"
            )
        ).scalars()
        row["index_mb"] = round(sum(sizes) / 2**20)
        conn.execute(text("DELETE FROM movie_vectors WHERE model = :m"), {"m": model})
        for name in conn.execute(
            text("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'ix_movie_vectors_%'")
        ).scalars():
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
    conn_vacuum(engine)
    print(json.dumps(row), flush=True)
    return row


def conn_vacuum(engine: Engine) -> None:
    """Reclaim the deleted rows before the next data set (VACUUM cannot run in a transaction)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM movie_vectors")


def _server(url: str | None, stack: list[Any]) -> Engine:
    if url:
        return create_engine(url)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        import pgserver
    directory = tempfile.mkdtemp(prefix="cinerec-pgvector-bench-")
    server = pgserver.get_server(Path(directory) / "data", cleanup_mode="delete")
    stack.append(server)
    engine = create_engine(server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS vector")
    return engine


def to_markdown(result: dict) -> str:
    """The result as the table in ``benchmarks/results/pgvector.md``."""
    lines = [
        "# pgvector HNSW in PostgreSQL",
        "",
        f"Command: `{result['command']}`; git {result['git_sha']}; {result['cpu_count']} cores "
        f"({result['platform']}); {result['date_utc']}; {result['server']}, pgvector "
        f"{result['pgvector_extension']}; packages {result['packages']}.",
        "",
        f"HNSW m = {result['hnsw']['m']}, ef_construction = {result['hnsw']['ef_construction']}, "
        f"vector_cosine_ops; build with max_parallel_maintenance_workers = "
        f"{result['workers']} (leader + workers); {result['queries']} queries, k = 10; latency "
        "is one `PgVectorIndex.search` call from Python (SQL round trip over the Unix socket, "
        "SET LOCAL of ef_search included), single client. Recall@10 is against exact numpy "
        "search, with a 95% interval over queries.",
        "",
        "| data | n | dim | write s | build s | build vectors/s | index MB | ef_search "
        "| recall@10 [95% CI] | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result["runs"]:
        for m in row["by_ef_search"]:
            ci = m["recall_ci95"]
            lines.append(
                f"| {row['data']} | {row['n']:,} | {row['dim']} | {row['write_s']} | "
                f"{row['build_s']} | {row['build_vectors_per_s']:,} | {row['index_mb']} | "
                f"{m['ef_search']} | {m['recall_at_10']:.3f} [{ci[0]:.3f}, {ci[1]:.3f}] | "
                f"{m['latency_ms_p50']} | {m['latency_ms_p99']} |"
            )
    lines += ["", *(f"- {note}" for note in result.get("notes", []))]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="SQLAlchemy URL of a pgvector database (default: pgserver)")
    parser.add_argument("--n", type=int, default=100_000, help="0: skip the 100k runs")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--data", default="clustered,gaussian")
    parser.add_argument("--ef", default="40,100,200", help="ef_search values")
    parser.add_argument("--big-n", type=int, default=1_000_000, help="0: skip the large run")
    parser.add_argument("--big-dim", type=int, default=384)
    parser.add_argument("--big-data", default="clustered")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1, help="parallel build workers")
    parser.add_argument("--build-memory-mb", type=int, default=BUILD_MEMORY_CAP_MB)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/pgvector.json"))
    args = parser.parse_args()
    efs = [int(e) for e in args.ef.split(",")]
    stack: list[Any] = []
    engine = _server(args.url, stack)
    with engine.connect() as conn:
        server = conn.exec_driver_sql("SHOW server_version").scalar()
        extension = conn.exec_driver_sql(
            "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
        ).scalar()
        settings = {
            name: conn.exec_driver_sql(f"SHOW {name}").scalar()
            for name in ("shared_buffers", "max_parallel_maintenance_workers")
        }
    result: dict[str, Any] = {
        "provenance": (record := provenance()),
        "command": record["command"],
        "git_sha": record["git_sha"] + ("-dirty" if record["git_dirty"] else ""),
        "packages": package_versions(("pgvector", "pgserver", "psycopg", "sqlalchemy", "numpy")),
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "server": f"PostgreSQL {server}",
        "pgvector_extension": extension,
        "server_settings": settings,
        "hnsw": {"m": HNSW_M, "ef_construction": HNSW_EF_CONSTRUCTION},
        "workers": args.workers,
        "build_memory_cap_mb": args.build_memory_mb,
        "queries": args.queries,
        "seed": args.seed,
        "runs": [],
    }
    try:
        for kind in args.data.split(",") if args.n else []:
            result["runs"].append(run_one(engine, kind, args.n, args.dim, args, efs))
        if args.big_n:
            for kind in args.big_data.split(","):
                result["runs"].append(run_one(engine, kind, args.big_n, args.big_dim, args, efs))
    finally:
        engine.dispose()
        for server_handle in stack:
            server_handle.cleanup()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    args.out.with_suffix(".md").write_text(to_markdown(result), encoding="utf-8")


if __name__ == "__main__":
    main()
