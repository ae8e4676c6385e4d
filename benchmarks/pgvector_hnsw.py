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

While a build runs, a thread reads PostgreSQL's ``pg_stat_progress_create_index`` every
``--progress-s`` seconds and prints the vectors inserted so far, the rate and the load average
(the samples are kept in the result); with ``--build-timeout-s`` it cancels a build still
running that long after its data set's write began, and the run records how far the build got
(``finished: false``) instead of failing. Server notices (such as pgvector's "hnsw graph no
longer fits into maintenance_work_mem") are kept with each data set. The result files are
rewritten after each data set, so a stopped run keeps the data sets it finished.

Usage (the 100k runs take about 12 minutes on 2 shared cores; the 1M run is separate):
    python benchmarks/pgvector_hnsw.py --big-n 0 --out benchmarks/results/pgvector.json
    python benchmarks/pgvector_hnsw.py --n 0 --big-n 1000000 --workers 1 \
        --build-memory-mb 4096 --build-timeout-s 3600 --out benchmarks/results/pgvector_1m.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.* as a script
import numpy as np
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError

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


PROGRESS_SQL = (
    "SELECT p.pid, p.phase, p.tuples_done, p.tuples_total FROM pg_stat_progress_create_index p "
    "JOIN pg_database d ON d.oid = p.datid WHERE d.datname = current_database()"
)


class BuildMonitor(threading.Thread):
    """Samples the running CREATE INDEX of this database; cancels it past ``deadline``.

    Each sample is ``{"t_s", "phase", "tuples_done", "load_1m"}`` (seconds since the monitor
    started; ``tuples_done`` as pgvector reports it to the leader). Use as a context manager
    around the write and build; ``cancelled`` says whether it cancelled the build.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        interval_s: float,
        timeout_s: float | None = None,
        label: str = "build",
    ) -> None:
        super().__init__(daemon=True)
        self.engine = engine
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.label = label
        self.samples: list[dict[str, Any]] = []
        self.cancelled = False
        self._stop_event = threading.Event()
        self._started_at = time.perf_counter()

    def __enter__(self) -> BuildMonitor:
        self._started_at = time.perf_counter()
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop_event.set()
        self.join()

    def run(self) -> None:
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            while not self._stop_event.wait(self.interval_s):
                elapsed = time.perf_counter() - self._started_at
                building = conn.execute(text(PROGRESS_SQL)).all()
                for pid, phase, done, _total in building:
                    self.samples.append(
                        {
                            "t_s": round(elapsed, 1),
                            "phase": phase,
                            "tuples_done": int(done),
                            "load_1m": load_average(),
                        }
                    )
                    print(f"[{self.label}] {progress_line(self.samples)}", flush=True)
                    if self.timeout_s is not None and elapsed > self.timeout_s:
                        # again at every sample while the build still runs: a cancel that
                        # reaches the backend where it checks for none is lost (a fresh clone's
                        # CI saw a 9 s build finish after one)
                        conn.execute(text("SELECT pg_cancel_backend(:pid)"), {"pid": pid})
                        self.cancelled = True


def progress_line(samples: list[dict[str, Any]]) -> str:
    """``"<t> s: <done> vectors (<rate>/s since the last sample), load <l>"`` for the last one."""
    last = samples[-1]
    line = f"{last['t_s']:.0f} s: {last['tuples_done']:,} vectors ({last['phase']})"
    if len(samples) > 1 and last["t_s"] > samples[-2]["t_s"]:
        rate = (last["tuples_done"] - samples[-2]["tuples_done"]) / (
            last["t_s"] - samples[-2]["t_s"]
        )
        line += f", {rate:,.0f}/s since {samples[-2]['t_s']:.0f} s"
    return line + f", load {last['load_1m']}"


def unfinished_row(kind: str, n: int, dim: int, samples: list[dict[str, Any]]) -> dict:
    """The record of a build stopped by the time bound: how far it got and how fast."""
    loading = [s for s in samples if s["tuples_done"] > 0]
    row: dict[str, Any] = {"data": kind, "n": n, "dim": dim, "finished": False}
    if loading:
        first, last = loading[0], loading[-1]
        row["stopped_at_s"] = last["t_s"]
        row["vectors_inserted"] = last["tuples_done"]
        if last["t_s"] > first["t_s"]:
            row["build_vectors_per_s"] = round(
                (last["tuples_done"] - first["tuples_done"]) / (last["t_s"] - first["t_s"])
            )
    return row


def load_average() -> float:
    """The 1-minute load average, rounded."""
    return round(os.getloadavg()[0], 2)


def measure(index: PgVectorIndex, queries: np.ndarray, truth: np.ndarray, ef: int | None) -> dict:
    """Recall@10 and per-call latency at one ``ef_search`` (and the load average around it);
    ``ef`` None: the product's rule for the index's rows (``ef_search_for``), recorded as
    ``rule: true`` beside the value it chose."""
    load_before = load_average()
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
        "ef_search": index.ef_search_at(10),
        **({"rule": True} if ef is None else {}),
        "recall_at_10": round(float(r.mean()), 4),
        "recall_ci95": [
            round(float(max(r.mean() - half, 0.0)), 4),
            round(float(min(r.mean() + half, 1.0)), 4),
        ],
        "latency_ms_p50": round(float(np.percentile(ms, 50)), 2),
        "latency_ms_p99": round(float(np.percentile(ms, 99)), 2),
        "latency_ms_max": round(float(ms.max()), 2),
        "load_1m": [load_before, load_average()],
    }


def run_one(
    engine: Engine,
    kind: str,
    n: int,
    dim: int,
    args: argparse.Namespace,
    efs: list[int | None],
    notices: list[str],
) -> dict:
    """Write, build and query one data set; the model's rows are deleted afterwards.

    A build cancelled by ``args.build_timeout_s`` is rolled back (the write with it) and
    recorded by :func:`unfinished_row`.
    """
    vectors, queries = make_vectors(kind, n, args.queries, dim, args.seed)
    ids = np.arange(1, n + 1)
    truth = ids[exact_top_k(vectors, queries, 10)]
    model = f"bench-{kind}-{n}-{dim}"
    label = f"{kind} {n:,} x {dim}"
    print(f"[{label}] truth computed; writing and building, load {load_average()}", flush=True)
    seen = len(notices)
    started = time.perf_counter()
    monitor = BuildMonitor(
        engine, interval_s=args.progress_s, timeout_s=args.build_timeout_s or None, label=label
    )
    try:
        with monitor:
            index = sync_vectors(
                engine,
                model=model,
                ids=ids.tolist(),
                vectors=vectors,
                build_workers=args.workers,
                build_memory_cap_mb=args.build_memory_mb,
            )
    except DBAPIError as exc:
        if not monitor.cancelled:
            raise
        row = unfinished_row(kind, n, dim, monitor.samples)
        row["stopped_because"] = (
            f"--build-timeout-s {args.build_timeout_s} ({str(exc.orig).splitlines()[0]})"
        )
        row["build_progress"] = monitor.samples
        row["server_notices"] = notices[seen:]
        print(json.dumps({k: v for k, v in row.items() if k != "build_progress"}), flush=True)
        return row
    total = time.perf_counter() - started
    report = index.sync_report
    assert report is not None and report.index_built
    plan = index.plan(queries[0], 10)
    print(f"[{label}] built in {report.build_seconds:.0f} s; querying", flush=True)
    row: dict[str, Any] = {
        "data": kind,
        "n": n,
        "dim": dim,
        "finished": True,
        "write_s": round(report.write_seconds, 1),
        "build_s": round(report.build_seconds, 1),
        "sync_total_s": round(total, 1),
        "build_vectors_per_s": round(n / report.build_seconds),
        "build_load_1m": _load_summary(monitor.samples),
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
    row["build_progress"] = monitor.samples
    row["server_notices"] = notices[seen:]
    print(json.dumps({k: v for k, v in row.items() if k != "build_progress"}), flush=True)
    return row


def _load_summary(samples: list[dict[str, Any]]) -> dict[str, float] | None:
    loads = [s["load_1m"] for s in samples]
    if not loads:
        return None
    return {"min": min(loads), "median": float(np.median(loads)), "max": max(loads)}


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
    directory = Path(tempfile.mkdtemp(prefix="cinerec-pgvector-bench-"))
    server = pgserver.get_server(directory / "data", cleanup_mode="delete")
    stack.append(server)
    stack.append(directory)
    engine = create_engine(server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS vector")
    return engine


def keep_notices(engine: Engine) -> list[str]:
    """The server notices of every connection ``engine`` opens from now on (a growing list),
    each also printed as it arrives."""
    notices: list[str] = []

    def keep(diag: Any) -> None:
        notices.append(" ".join(p for p in (diag.message_primary, diag.message_detail) if p))
        print(f"[server notice] {notices[-1]}", flush=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.add_notice_handler(keep)

    return notices


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
        "search, with a 95% interval over queries. Load is the 1-minute load average "
        "(build: median of the progress samples; queries: before and after each ef_search).",
        "",
        "| data | n | dim | write s | build s | build vectors/s | build load | index MB "
        "| ef_search | recall@10 [95% CI] | p50 ms | p99 ms | query load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result["runs"]:
        load = row.get("build_load_1m")
        build_load = f"{load['median']:.1f}" if load else "-"
        if not row.get("finished", True):
            lines.append(
                f"| {row['data']} | {row['n']:,} | {row['dim']} | - | stopped at "
                f"{row.get('stopped_at_s', '-')} s, {row.get('vectors_inserted', 0):,} inserted | "
                f"{row.get('build_vectors_per_s', '-')} | {build_load} | - | - | - | - | - | - |"
            )
            continue
        for m in row["by_ef_search"]:
            ci = m["recall_ci95"]
            query_load = "-".join(f"{x:.1f}" for x in m.get("load_1m", [])) or "-"
            lines.append(
                f"| {row['data']} | {row['n']:,} | {row['dim']} | {row['write_s']} | "
                f"{row['build_s']} | {row['build_vectors_per_s']:,} | {build_load} | "
                f"{row['index_mb']} | {m['ef_search']}{' (rule)' if m.get('rule') else ''} | "
                f"{m['recall_at_10']:.3f} [{ci[0]:.3f}, {ci[1]:.3f}] | "
                f"{m['latency_ms_p50']} | {m['latency_ms_p99']} | {query_load} |"
            )
    notices = sorted({n for row in result["runs"] for n in row.get("server_notices", [])})
    lines += ["", *(f"- Server notice: {n}" for n in notices)]
    lines += [f"- {note}" for note in result.get("notes", [])]
    return "\n".join(lines) + "\n"


def write_result(result: dict, out: Path) -> None:
    """``out`` (JSON) and the same name with ``.md``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text(to_markdown(result), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="SQLAlchemy URL of a pgvector database (default: pgserver)")
    parser.add_argument("--n", type=int, default=100_000, help="0: skip the 100k runs")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--data", default="clustered,gaussian")
    parser.add_argument(
        "--ef", default="40,100,200", help="ef_search values; 'rule': the product's choice"
    )
    parser.add_argument("--big-n", type=int, default=1_000_000, help="0: skip the large run")
    parser.add_argument("--big-dim", type=int, default=384)
    parser.add_argument("--big-data", default="clustered")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1, help="parallel build workers")
    parser.add_argument("--build-memory-mb", type=int, default=BUILD_MEMORY_CAP_MB)
    parser.add_argument(
        "--build-timeout-s",
        type=float,
        default=0,
        help="cancel a data set's write + build still running after this long (0: never)",
    )
    parser.add_argument("--progress-s", type=float, default=30, help="build progress interval")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/pgvector.json"))
    args = parser.parse_args()
    efs = [None if e == "rule" else int(e) for e in args.ef.split(",")]
    stack: list[Any] = []
    engine = _server(args.url, stack)
    notices = keep_notices(engine)
    with engine.connect() as conn:
        server = conn.exec_driver_sql("SHOW server_version").scalar()
        extension = conn.exec_driver_sql(
            "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
        ).scalar()
        settings = {
            name: conn.exec_driver_sql(f"SHOW {name}").scalar()
            for name in (
                "shared_buffers",
                "max_parallel_maintenance_workers",
                "max_worker_processes",
                "max_parallel_workers",
                "dynamic_shared_memory_type",
            )
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
        "build_timeout_s": args.build_timeout_s or None,
        "queries": args.queries,
        "seed": args.seed,
        "load_1m_at_start": load_average(),
        "runs": [],
    }
    sets = [(kind, args.n, args.dim) for kind in args.data.split(",") if args.n]
    sets += [(kind, args.big_n, args.big_dim) for kind in args.big_data.split(",") if args.big_n]
    try:
        for kind, n, dim in sets:
            result["runs"].append(run_one(engine, kind, n, dim, args, efs, notices))
            write_result(result, args.out)
    finally:
        engine.dispose()
        for item in stack:
            if isinstance(item, Path):
                shutil.rmtree(item, ignore_errors=True)
            else:
                item.cleanup()


if __name__ == "__main__":
    main()
