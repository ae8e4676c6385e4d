"""How long a tick takes while the model warms up: the watched list as a person fills it.

A tick and the type-ahead search before it touch no model (timed through the JSON API,
``POST /api/watched`` and ``GET /api/movies/search``, and through the page's htmx fragments,
``POST /watched`` and ``GET /search``: each movie is ticked through both, the second a
re-tick), but each tick and each profile save asks for a reasons warm-up, which runs on the
model right after the answer goes out (``cinerec.services.warm``). One fresh-clone CI run
saw a browser tick take over 5 s after a Korean profile save; this measures it.

Starts ``cinerec serve`` with the embedded model (as the browser tests do: ALS on a prepared
home, 2 model threads), then runs sessions of a profile and a few ticks in three conditions,
alternating the two languages:

- ``warming``: save a profile, then tick ``--ticks`` movies at once, each after its search and
  ``--pace`` seconds apart (a person clicking through): every tick lands while a warm-up asked by
  the profile or the previous tick runs;
- ``idle``: the same, but before each search and tick the server is left until its CPU use
  stays under a tenth of a core (the warm-ups are done);
- ``starting`` (``--start-rounds``, run first): ``warming`` sessions as soon as the server
  answers, while its start-up jobs (the embedding index, the review summaries and their models)
  still run, as in the browser tests, which do not wait for them.

Reports per condition the search and tick latencies (p50, p95 with bootstrap intervals over
requests, max), how many ticks took over 1 s and over 5 s, and the server's CPU share while the
condition ran. Traffic goes to 127.0.0.1 only; every loop is bounded.

    python benchmarks/load/tick_latency.py --rounds 6 --out benchmarks/results/load/tick_latency
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NoReturn

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # benchmarks.* as a script

from benchmarks.load.llm_pages import _busiest_processes, _pct, _pct_ci  # noqa: E402
from benchmarks.load.model_fair_use import prepare_home  # noqa: E402
from benchmarks.load.stack import pids_where, process_cpu_seconds, wait_idle  # noqa: E402
from benchmarks.provenance import markdown_header, provenance, write_result  # noqa: E402
from tests.web.servers import cinerec_server  # noqa: E402

# (search query, movie id): the browser tests' ticks, then more of the most rated
TICKS = [
    ("Matrix", 2571),
    ("Blade Runner", 541),
    ("Alien", 1214),
    ("Memento", 4226),
    ("Heat", 6),
    ("Fargo", 608),
    ("Se7en", 47),
    ("Gattaca", 1653),
]
HTMX = {"HX-Request": "true"}
KINDS = ("search", "tick", "page search", "page tick")
PROFILES = {
    "en": {"name": "Mina", "age": 29, "gender": "female", "taste": "slow-burn sci-fi, no horror"},
    "ko": {"name": "민아", "age": 29, "gender": "female", "taste": "잔잔한 SF 영화, 공포는 싫어요"},
}


def _raise(message: str) -> NoReturn:
    raise RuntimeError(f"cinerec serve failed: {message}")


def server_pid(port: int) -> int | None:
    """The pid of ``cinerec serve --port <port>`` (Linux /proc)."""
    want = f"--port\0{port}\0".encode()
    found = pids_where(lambda cmd: b"cinerec.cli\0serve" in cmd and want in cmd + b"\0")
    return found[0] if found else None


def session(
    base: str, pid: int, *, language: str, condition: str, ticks: int, pace: float
) -> dict[str, Any]:
    """One viewer: a profile, then ``ticks`` searches and ticks under ``condition``."""
    out: dict[str, Any] = {"language": language, "condition": condition, "requests": []}
    with httpx.Client(base_url=base, timeout=120) as client:
        token = client.get("/api/csrf").json()["csrf_token"]
        client.headers["X-CSRF-Token"] = token
        cpu0, t0 = process_cpu_seconds(pid), time.monotonic()
        r = client.put("/api/profile", json={**PROFILES[language], "language": language})
        r.raise_for_status()
        for query, movie_id in TICKS[:ticks]:
            if condition == "idle":
                wait_idle(pid, 120, window=1.0, quiet=3, busy=0.1)
            else:
                time.sleep(pace)
            steps = (
                ("search", lambda q=query: client.get("/api/movies/search", params={"q": q})),
                ("tick", lambda m=movie_id: client.post("/api/watched", json={"movie_id": m})),
                # the page's own routes, as the browser's htmx calls them (the fragments)
                (
                    "page search",
                    lambda q=query: client.get("/search", params={"q": q}, headers=HTMX),
                ),
                (
                    "page tick",
                    lambda m=movie_id: client.post(
                        "/watched", data={"movie_id": str(m)}, headers=HTMX
                    ),
                ),
            )
            for kind, call in steps:
                t = time.perf_counter()
                status = call().status_code
                seconds = time.perf_counter() - t
                out["requests"].append({"kind": kind, "status": status, "s": round(seconds, 4)})
        wall = time.monotonic() - t0
        out["server_cpu_share"] = round((process_cpu_seconds(pid) - cpu0) / wall, 3)
        out["wall_s"] = round(wall, 1)
    return out


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per condition and request kind: p50, p95 (bootstrap intervals over requests), max, and
    ticks over 1 s and 5 s; errors are answers other than 200."""
    out: dict[str, Any] = {}
    for condition in sorted({r["condition"] for r in rows}):
        mine = [r for r in rows if r["condition"] == condition]
        reqs = [q for r in mine for q in r["requests"]]
        block: dict[str, Any] = {
            "sessions": len(mine),
            "errors": sum(q["status"] != 200 for q in reqs),
            "server_cpu_share_mean": round(sum(r["server_cpu_share"] for r in mine) / len(mine), 3),
        }
        for kind in KINDS:
            values = [q["s"] for q in reqs if q["kind"] == kind]
            block[kind] = {
                "n": len(values),
                "p50_s": _pct(values, 50),
                "p50_ci95": _pct_ci(values, 50),
                "p95_s": _pct(values, 95),
                "p95_ci95": _pct_ci(values, 95),
                "max_s": max(values, default=None),
                "over_1s": sum(v > 1 for v in values),
                "over_5s": sum(v > 5 for v in values),
            }
        out[condition] = block
    return out


def markdown(result: dict[str, Any]) -> str:
    lines = ["# Ticks while the model warms up", "", markdown_header(result["provenance"]), ""]
    lines.append(
        f"Model {result['model']}, {result['threads']} model threads; {result['start_rounds']} "
        f"sessions as the server came up, then {result['settled_s']} s to go quiet, then "
        f"{result['rounds']} sessions; each {result['ticks']} searches and ticks (pace "
        f"{result['pace_s']} s except in `idle`); "
        f"load average before/after {result['load_average_before_after']}."
    )
    lines += [
        "",
        "| condition | kind | n | p50 s [95%] | p95 s [95%] | max s | >1 s | >5 s | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for condition, block in result["summary"].items():
        for kind in KINDS:
            k = block[kind]
            lines.append(
                f"| {condition} | {kind} | {k['n']} | {k['p50_s']} {k['p50_ci95']} | "
                f"{k['p95_s']} {k['p95_ci95']} | {k['max_s']} | {k['over_1s']} | "
                f"{k['over_5s']} | {block['errors']} |"
            )
    lines.append("")
    lines.append(
        "Server CPU share (cores) while a condition ran: "
        + ", ".join(f"{c} {b['server_cpu_share_mean']}" for c, b in result["summary"].items())
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6, help="sessions, conditions alternating")
    parser.add_argument("--start-rounds", type=int, default=2, help="sessions before settling")
    parser.add_argument("--ticks", type=int, default=4)
    parser.add_argument("--pace", type=float, default=1.0)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--settle", type=float, default=600, help="most seconds to go quiet")
    parser.add_argument("--data-dir", default=os.environ.get("CINEREC_DATA_DIR", ""))
    parser.add_argument("--home", type=Path, default=None, help="a prepared home to reuse")
    parser.add_argument("--out", type=Path, required=True, help="writes <out>.json and .md")
    args = parser.parse_args(argv)

    home = args.home or Path(tempfile.mkdtemp(prefix="cinerec-ticks-"))
    if args.home is None:
        prepare_home(home, args.data_dir)
    env = {
        "CINEREC_DATA_DIR": args.data_dir,
        "CINEREC_LLM_MODEL": args.model,
        "CINEREC_LLM_THREADS": str(args.threads),
        "CINEREC_RECOMMENDER": "als",
    }
    with cinerec_server(home, env, wait_s=300, grace_s=10, fail=_raise) as base:
        pid = server_pid(int(base.rsplit(":", 1)[1]))
        if pid is None:
            raise SystemExit("cannot find the server's process")
        load_before, busy_before = os.getloadavg(), _busiest_processes()
        rows = []
        for k in range(args.start_rounds):
            rows.append(
                session(
                    base, pid, language=("en", "ko")[k % 2], condition="starting",
                    ticks=args.ticks, pace=args.pace,
                )
            )  # fmt: skip
            print(json.dumps({k: v for k, v in rows[-1].items() if k != "requests"}))
        settled = wait_idle(pid, args.settle, window=3.0, quiet=5, busy=0.1)
        for k in range(args.rounds):
            condition = ("warming", "idle")[k % 2]
            language = ("en", "ko")[(k // 2) % 2]
            rows.append(
                session(
                    base, pid, language=language, condition=condition,
                    ticks=args.ticks, pace=args.pace,
                )
            )  # fmt: skip
            print(json.dumps({k: v for k, v in rows[-1].items() if k != "requests"}))
            wait_idle(pid, 120, window=1.0, quiet=3, busy=0.1)
        load_after = os.getloadavg()
    result = {
        "model": args.model,
        "threads": args.threads,
        "rounds": args.rounds,
        "start_rounds": args.start_rounds,
        "ticks": args.ticks,
        "pace_s": args.pace,
        "settled_s": round(settled, 1),
        "load_average_before_after": [load_before, load_after],
        "busiest_processes_before": busy_before,
        "summary": summarise(rows),
        "rows": rows,
        "provenance": provenance(),
    }
    write_result(args.out, result, markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
