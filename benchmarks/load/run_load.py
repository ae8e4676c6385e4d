"""Throughput of the production web (deploy/Procfile) with 1 and 2 workers, no language model.

Starts the Procfile's web line on a fresh PostgreSQL database (the first start ingests the
catalog; later starts reuse it), warms it for a few seconds, then runs locust headless on
``locustfile.py``: ``--users`` concurrent viewers for ``--seconds`` against 127.0.0.1, at most
``--max-requests`` requests. Writes ``<out>.json`` and ``<out>.md``.

    nice -n 10 python benchmarks/load/run_load.py --workers 1 2 --users 50 --seconds 60

``--generator wrk`` sends the same traffic with wrk (``viewer.lua``; Debian's ``wrk``
package), a load generator in C, so little of the 2 cores goes to the load itself (measured
0.02-0.04 cores against locust's 0.14-0.19 at 50 users). wrk gives no per-endpoint figures.

Targets (issue 22, reported, never asserted): with 2 workers at least 300 req/s, p99 at most
100 ms and 0 errors; 2 workers at least 1.6x the throughput of 1.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
from sqlalchemy.engine import make_url

from cinerec.config import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # benchmarks.* as a script

from benchmarks.load.stack import (  # noqa: E402
    ProductionWeb,
    admin_url,
    database_cpu_seconds,
    fresh_database,
    machine_cpu_seconds,
    web_stack,
)
from benchmarks.provenance import markdown_header, provenance  # noqa: E402

HERE = Path(__file__).resolve().parent
TARGET_RPS, TARGET_P99_MS, TARGET_SPEEDUP = 300.0, 100.0, 1.6


def _locust(
    host: str, users: int, seconds: int, max_requests: int, prefix: Path, wait: str
) -> None:
    command = [
        sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless",
        "--host", host, "-u", str(users), "-r", str(users), "-t", f"{seconds}s",
        "--csv", str(prefix), "--only-summary", "--stop-timeout", "5", "--loglevel", "WARNING",
    ]  # fmt: skip
    env = {**os.environ, "CINEREC_LOAD_MAX_REQUESTS": str(max_requests), "CINEREC_LOAD_WAIT": wait}
    done = subprocess.run(command, env=env, check=False, timeout=seconds + 120,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    if not Path(f"{prefix}_stats.csv").exists():
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise SystemExit(
            f"locust wrote no statistics ({tail[0]}); it comes with the `load` extra: "
            "pip install -e '.[load]'"
        )


def _wrk_profiles(host: str, users: int, path: Path) -> None:
    """One viewer per user as ``locustfile.py``'s ``on_start`` makes it (CSRF token, then a
    profile), written for ``viewer.lua``: the Cookie header and the token, tab-separated."""
    lines = []
    with httpx.Client(base_url=host, timeout=30) as client:
        for _ in range(users):
            client.cookies.clear()
            token = client.get("/api/csrf").json()["csrf_token"]
            client.post(
                "/api/profile", json={"name": "load"}, headers={"X-CSRF-Token": token}
            ).raise_for_status()
            cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
            lines.append(f"{cookie}\t{token}")
    path.write_text("\n".join(lines) + "\n")


def _wrk(
    host: str, users: int, seconds: int, max_requests: int, profiles: Path, wait: str
) -> dict[str, Any]:
    """Runs ``viewer.lua`` with wrk (one thread, ``users`` connections, each one viewer at a
    time with the think time between requests) and returns its figures in ``_stats``'s shape."""
    if urlparse(host).hostname != "127.0.0.1":
        raise SystemExit(f"load tests send traffic to 127.0.0.1 only, not {host!r}")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    low, _, high = wait.partition("-")
    command = [
        "wrk", "-t", "1", "-c", str(users), "-d", f"{seconds}s", "--timeout", "10s",
        "-s", str(HERE / "viewer.lua"), host, "--", str(profiles), low, high or low,
        str(max_requests), "22",
    ]  # fmt: skip
    done = subprocess.run(command, check=False, timeout=seconds + 60, capture_output=True,
                          text=True)  # fmt: skip
    last = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not last:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr.strip()[-300:]}")
    raw = json.loads(last[-1])
    failures = raw["status_400_or_more"] + sum(
        raw[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
    )
    return {
        "endpoints": {},
        "requests": raw["answered"],
        "failures": failures,
        "rps": round(raw["answered"] / (raw["duration_us"] / 1e6), 1),
        "p50_ms": raw["p50_us"] / 1000,
        "p95_ms": raw["p95_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": round(raw["max_us"] / 1000, 1),
        "failure_kinds": [{k: v for k, v in raw.items() if k.endswith(("errors", "timeouts"))}
                          | {"status_400_or_more": raw["status_400_or_more"]}],
        "wrk": raw,
    }  # fmt: skip


def _children_cpu_seconds() -> float:
    """CPU seconds (user + system) of the finished child processes so far (the load generator)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _stats(prefix: Path) -> dict[str, Any]:
    rows = list(csv.DictReader(Path(f"{prefix}_stats.csv").open()))
    out: dict[str, Any] = {"endpoints": {}}
    for row in rows:
        figures = {
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "rps": round(float(row["Requests/s"]), 1),
            "p50_ms": float(row["50%"] or 0),
            "p95_ms": float(row["95%"] or 0),
            "p99_ms": float(row["99%"] or 0),
            "max_ms": round(float(row["Max Response Time"] or 0), 1),
        }
        if row["Name"] == "Aggregated":
            out.update(figures)
        else:
            out["endpoints"][f"{row['Type']} {row['Name']}"] = figures
    failures = Path(f"{prefix}_failures.csv")
    out["failure_kinds"] = list(csv.DictReader(failures.open())) if failures.exists() else []
    return out


def _web_setting(args: argparse.Namespace, field: str) -> int:
    """A whole-number setting the web processes ran with: its ``CINEREC_*`` variable in the
    environment they were given, else the Settings default."""
    value = {**os.environ, **args.env}.get(f"CINEREC_{field.upper()}")
    return int(value or Settings.model_fields[field].default)


def run(args: argparse.Namespace) -> dict[str, Any]:
    runs = []
    scratch = Path(tempfile.mkdtemp(prefix="cinerec-load-"))
    with fresh_database(admin_url()) as url:
        home = scratch / "home"
        for workers in args.workers:
            started = time.perf_counter()
            with ProductionWeb(url, workers=workers, home=home, env=args.env) as web:
                ready_s = time.perf_counter() - started
                profiles = scratch / f"profiles{workers}.tsv"
                if args.generator == "wrk":
                    _wrk_profiles(web.base_url, args.users, profiles)
                    _wrk(web.base_url, 10, args.warmup, 10**9, profiles, args.wait)
                else:
                    _locust(web.base_url, 10, args.warmup, 10**9, scratch / f"warm{workers}",
                            args.wait)  # fmt: skip
                load_before = os.getloadavg()
                prefix = scratch / f"w{workers}"
                database = make_url(url).database or ""
                db_before = database_cpu_seconds(database)
                machine_before = machine_cpu_seconds()
                generator_before = _children_cpu_seconds()
                cpu_before, wall_before = web.cpu_seconds(), time.perf_counter()
                # Which worker holds the users' connections, halfway through (each keeps its
                # connection, so a worker with more of them has more users to serve).
                spread: list[dict[int, int]] = []
                sampler = threading.Timer(
                    args.seconds / 2, lambda w=web, s=spread: s.append(w.connections_by_worker())
                )
                sampler.start()
                if args.generator == "wrk":
                    figures = _wrk(web.base_url, args.users, args.seconds, args.max_requests,
                                   profiles, args.wait)  # fmt: skip
                else:
                    _locust(
                        web.base_url, args.users, args.seconds, args.max_requests, prefix, args.wait
                    )
                cpu = web.cpu_seconds() - cpu_before
                wall = time.perf_counter() - wall_before
                sampler.cancel()
                generator_cpu = _children_cpu_seconds() - generator_before
                db_cpu = sum(
                    seconds - db_before.get(pid, 0.0)
                    for pid, seconds in database_cpu_seconds(database).items()
                )
                machine_after = machine_cpu_seconds()
                busy = machine_after[0] - machine_before[0]
                total = machine_after[1] - machine_before[1]
                if args.generator == "locust":
                    figures = _stats(prefix)
                figures["connections_by_worker_midway"] = sorted(
                    (spread[0] if spread else {}).values(), reverse=True
                )
                figures["server_cpu_seconds"] = round(cpu, 1)
                figures["server_cores_used"] = round(cpu / wall, 2)
                figures["server_cpu_ms_per_request"] = (
                    round(1000 * cpu / figures["requests"], 2) if figures["requests"] else None
                )
                # Where the machine's cores went: the load generator and the database share
                # them with the server (the run's own share of PostgreSQL: its backends).
                figures["generator_cores_used"] = round(generator_cpu / wall, 2)
                figures["database_cores_used"] = round(db_cpu / wall, 2)
                figures["machine_cores_busy"] = round(busy / total * (os.cpu_count() or 1), 2)
                figures.update(
                    workers=workers,
                    ready_seconds=round(ready_s, 1),
                    loadavg_before=[round(x, 2) for x in load_before],
                    loadavg_after=[round(x, 2) for x in os.getloadavg()],
                )
                runs.append(figures)
                print(
                    f"{workers} worker(s): {figures['rps']} req/s, p50 {figures['p50_ms']} ms, "
                    f"p99 {figures['p99_ms']} ms, {figures['failures']} failures of "
                    f"{figures['requests']}; server CPU {figures['server_cpu_ms_per_request']} "
                    f"ms/request on {figures['server_cores_used']} cores; "
                    f"load {figures['loadavg_after']}",
                    flush=True,
                )
    by_workers = {r["workers"]: r for r in runs}
    summary: dict[str, Any] = {}
    if 2 in by_workers:
        two = by_workers[2]
        summary["rps_2"] = two["rps"]
        summary["meets_rps"] = two["rps"] >= TARGET_RPS
        summary["meets_p99"] = two["p99_ms"] <= TARGET_P99_MS
        summary["meets_errors"] = two["failures"] == 0
    if 1 in by_workers and 2 in by_workers and by_workers[1]["rps"] > 0:
        summary["speedup_2_over_1"] = round(by_workers[2]["rps"] / by_workers[1]["rps"], 2)
        summary["meets_speedup"] = summary["speedup_2_over_1"] >= TARGET_SPEEDUP
    return {
        "provenance": provenance(),
        "web_stack": web_stack(),
        "setup": {
            "users": args.users,
            "seconds": args.seconds,
            "max_requests": args.max_requests,
            "wait_between_requests_s": args.wait,
            "warmup_seconds": args.warmup,
            "database": "PostgreSQL (fresh database, catalog ml-latest-small)",
            "llm_backend": "none",
            "load_generator": f"{args.generator} (same machine, competing for the same cores)",
            # request threads per web process
            "web_threads": _web_setting(args, "web_threads"),
            # answers per kept-alive connection before the web closes it (0: never)
            "keepalive_requests": _web_setting(args, "keepalive_requests"),
        },
        "targets": {
            "rps_2_workers": TARGET_RPS,
            "p99_ms": TARGET_P99_MS,
            "errors": 0,
            "speedup": TARGET_SPEEDUP,
        },
        "runs": runs,
        "summary": summary,
    }


def report(result: dict[str, Any]) -> str:
    lines = [
        "# Load: pages and API without the language model, 1 and 2 web workers",
        "",
        markdown_header(result["provenance"]),
        f"Setup: {json.dumps(result['setup'])}",
        "",
        "Web stack: " + ", ".join(f"{k} {v}" for k, v in result.get("web_stack", {}).items()),
        "",
        "| workers | req/s | p50 ms | p95 ms | p99 ms | failures / requests "
        "| server CPU ms/request "
        "| server cores used | load generator cores | PostgreSQL cores | machine cores busy "
        "| load avg after |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["runs"]:
        lines.append(
            f"| {r['workers']} | {r['rps']} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | "
            f"{r['p99_ms']:.0f} | {r['failures']} / {r['requests']} | "
            f"{r['server_cpu_ms_per_request']} | {r['server_cores_used']} | "
            f"{r.get('generator_cores_used', r.get('locust_cores_used'))} | "
            f"{r.get('database_cores_used')} | "
            f"{r.get('machine_cores_busy')} | {r['loadavg_after']} |"
        )
    lines += ["", f"Summary against the targets: {json.dumps(result['summary'])}", ""]
    for r in (r for r in result["runs"] if r["endpoints"]):
        lines += [f"## {r['workers']} worker(s), per endpoint", "",
                  "| endpoint | requests | req/s | p50 ms | p99 ms | failures |",
                  "|---|---|---|---|---|---|"]  # fmt: skip
        for name, e in r["endpoints"].items():
            lines.append(
                f"| {name} | {e['requests']} | {e['rps']} | {e['p50_ms']:.0f} | "
                f"{e['p99_ms']:.0f} | {e['failures']} |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--max-requests", type=int, default=60_000)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--wait", default="0.05-0.15", help="Think time per user, low-high s.")
    parser.add_argument("--generator", choices=("locust", "wrk"), default="locust")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/load_web"))
    args = parser.parse_args()
    args.env = {"CINEREC_DATA_DIR": str(args.data_dir)} if args.data_dir else {}
    result = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(report(result) + "\n")
    print(json.dumps(result["summary"]))


if __name__ == "__main__":
    main()
