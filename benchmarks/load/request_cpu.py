"""Server CPU per request, endpoint by endpoint: the production web with 1 worker, no load.

Starts the Procfile's web line (1 worker, fresh PostgreSQL database, no language model, as
``run_load.py``), makes one profile as ``locustfile.py`` does, then sends ``--requests``
sequential requests per endpoint of the locustfile (same movie ids and queries, cycled) and
reads the web process's CPU time (user + system, ``/proc``) before and after each endpoint,
with the CPU time of the PostgreSQL backends serving its database (a backend that ends within
the window is not counted: ``database_sessions_opened`` says how many were opened) .
Sequential requests on an idle server measure the work a request costs the server; the full
load run (``run_load.py``) measures what 2 shared cores make of it. Writes ``<out>.json`` and
``<out>.md``.

    python benchmarks/load/request_cpu.py --requests 400 --out benchmarks/results/request_cpu
"""

from __future__ import annotations

import argparse
import ast
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # benchmarks.* as a script

from benchmarks.load.stack import (  # noqa: E402
    ProductionWeb,
    admin_url,
    database_cpu_seconds,
    fresh_database,
    web_stack,
)
from benchmarks.provenance import markdown_header, provenance  # noqa: E402

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"


def _locust_constants(*names: str) -> list[Any]:
    """The locustfile's movie ids and queries, read without importing locust."""
    found = {}
    for node in ast.parse(LOCUSTFILE.read_text()).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in names:
                found[node.targets[0].id] = ast.literal_eval(node.value)
    return [found[n] for n in names]


MOVIES, QUERIES = _locust_constants("MOVIES", "QUERIES")


def _endpoints(client: httpx.Client, headers: dict[str, str]) -> dict[str, Callable[[int], Any]]:
    def movie(i: int) -> int:
        return MOVIES[i % len(MOVIES)]

    def query(i: int) -> str:
        return QUERIES[i % len(QUERIES)]

    return {
        "GET / (page)": lambda i: client.get("/"),
        "GET /movies/[id] (page)": lambda i: client.get(f"/movies/{movie(i)}"),
        "GET /search (page)": lambda i: client.get(f"/search?q={query(i)}"),
        "GET /api/movies/[id]": lambda i: client.get(f"/api/movies/{movie(i)}"),
        "GET /api/movies/search": lambda i: client.get(f"/api/movies/search?q={query(i)}"),
        "POST /api/feedback (write)": lambda i: client.post(
            "/api/feedback", json={"movie_id": movie(i), "kind": "watched"}, headers=headers
        ),
        "GET /api/feedback": lambda i: client.get("/api/feedback"),
        "POST /api/profile": lambda i: client.post(
            "/api/profile", json={"name": "load"}, headers=headers
        ),
    }


def database_sessions(admin: Engine, database: str) -> int:
    """Sessions opened on ``database`` so far (PostgreSQL 14 or newer counts them)."""
    with admin.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT sessions FROM pg_stat_database WHERE datname = %s", (database,)
        ).scalar()
    return int(found or 0)


def _database_delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def _timed(call: Callable[[int], Any], i: int) -> tuple[int, float]:
    started = time.perf_counter()
    status = call(i).status_code
    return status, time.perf_counter() - started


def measure(
    web: ProductionWeb, admin: Engine, requests: int, warmup: int, concurrency: int
) -> dict[str, Any]:
    database = make_url(web.database_url).database or ""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(base_url=web.base_url, timeout=30, limits=limits) as client:
        token = client.get("/api/csrf").json()["csrf_token"]
        headers = {"X-CSRF-Token": token}
        client.post("/api/profile", json={"name": "load"}, headers=headers).raise_for_status()
        out: dict[str, Any] = {}
        database_sessions(admin, database)  # our own session is open before the first count
        for name, call in _endpoints(client, headers).items():
            for i in range(warmup):
                call(i).raise_for_status()
            time.sleep(0.5)  # deferred work of the warm-up ends
            cpu, wall = web.cpu_seconds(), time.perf_counter()
            db_cpu = database_cpu_seconds(database)
            sessions = database_sessions(admin, database)
            with ThreadPoolExecutor(concurrency) as pool:
                answers = list(pool.map(partial(_timed, call), range(requests)))
            cpu, wall = web.cpu_seconds() - cpu, time.perf_counter() - wall
            db = _database_delta(db_cpu, database_cpu_seconds(database))
            time.sleep(1.5)  # PostgreSQL publishes its session counts within a second
            sessions = database_sessions(admin, database) - sessions
            out[name] = {
                "requests": requests,
                "statuses": sorted({status for status, _ in answers}),
                "server_cpu_ms_per_request": round(1000 * cpu / requests, 2),
                "database_cpu_ms_per_request": round(1000 * db / requests, 2),
                "database_sessions_opened": sessions,
                "latency_ms_median": round(1000 * statistics.median(s for _, s in answers), 2),
                "wall_ms_per_request": round(1000 * wall / requests, 2),
            }
            print(name, out[name], flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument(
        "--concurrency", type=int, default=1, help="Requests in flight at once (client threads)."
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/request_cpu"))
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="cinerec-cpu-")) / "home"
    admin = create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    with fresh_database(admin_url()) as url, ProductionWeb(url, workers=1, home=home) as web:
        endpoints = measure(web, admin, args.requests, args.warmup, args.concurrency)
    admin.dispose()
    mix = {"GET / (page)": 2, "GET /movies/[id] (page)": 3, "GET /search (page)": 2,
           "GET /api/movies/[id]": 3, "GET /api/movies/search": 2,
           "POST /api/feedback (write)": 1, "GET /api/feedback": 1}  # fmt: skip
    weighted = sum(endpoints[k]["server_cpu_ms_per_request"] * w for k, w in mix.items())
    weighted_db = sum(endpoints[k]["database_cpu_ms_per_request"] * w for k, w in mix.items())
    result = {
        "provenance": provenance(),
        "web_stack": web_stack(),
        "setup": {"workers": 1, "requests_per_endpoint": args.requests, "warmup": args.warmup,
                  "concurrency": args.concurrency,
                  "database": "PostgreSQL (fresh database, catalog ml-latest-small)",
                  "llm_backend": "none", "client": "httpx on the same machine"},
        "endpoints": endpoints,
        "locust_mix_server_cpu_ms_per_request": round(weighted / sum(mix.values()), 2),
        "locust_mix_database_cpu_ms_per_request": round(weighted_db / sum(mix.values()), 2),
    }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    lines = [f"# Server CPU per request, 1 worker, {args.concurrency} request(s) at a time", "",
             markdown_header(result["provenance"]),
             f"Setup: {json.dumps(result['setup'])}", "",
             "Web stack: " + ", ".join(f"{k} {v}" for k, v in result["web_stack"].items()), "",
             "| endpoint | statuses | server CPU ms/request | PostgreSQL CPU ms/request "
             "| PostgreSQL sessions opened | median latency ms |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for name, e in endpoints.items():
        lines.append(f"| {name} | {e['statuses']} | {e['server_cpu_ms_per_request']} | "
                     f"{e['database_cpu_ms_per_request']} | {e['database_sessions_opened']} | "
                     f"{e['latency_ms_median']} |")  # fmt: skip
    web_ms = result["locust_mix_server_cpu_ms_per_request"]
    db_ms = result["locust_mix_database_cpu_ms_per_request"]
    lines += ["", f"Weighted by the locustfile's task weights: {web_ms} ms/request of the web "
              f"server, {db_ms} ms/request of PostgreSQL", ""]  # fmt: skip
    args.out.with_suffix(".md").write_text("\n".join(lines))
    print(json.dumps({"locust_mix": web_ms, "locust_mix_db": db_ms}))


if __name__ == "__main__":
    main()
