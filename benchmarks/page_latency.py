"""Time the demo as a user meets it: first start to a serving page, then recommendation pages.

Starts ``cinerec serve`` on a fresh home (so the first run ingests and trains), waits for the page,
then drives the JSON API like the browser does: a profile, three ticked movies, and several
recommendation pages with the real embedded model. For each page it times the ranked list
(``POST /api/recommendations`` with ``stream_reasons``), the first streamed reason and the last
(server-sent events). The first page also writes the persona after its reasons. Prints seconds;
writes a JSON result.

    python benchmarks/page_latency.py --requests 6 --settle 600 --think 8 --read 8 \
        --out benchmarks/results/page_latency.json
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from provenance import provenance

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.* as a script

from benchmarks.load.stack import wait_idle  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--settle",
        type=float,
        default=0.0,
        help="wait up to this many seconds after the first start for the server's background "
        "jobs (embedding index, training) to go idle, so pages are timed on a quiet server",
    )
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="seconds between the last ticked movie and the first page, as a person takes",
    )
    parser.add_argument(
        "--read",
        type=float,
        default=0.0,
        help="seconds between the end of a page's reasons and the next page, as a person reads",
    )
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="cinerec-bench-"))
    port = _free_port()
    env = {**os.environ, "CINEREC_HOME": str(home), "CINEREC_LLM_MODEL": args.model}
    log = (home / "server.log").open("w")  # what the server did while it was timed
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cinerec.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit("the server exited during its first start")
            try:
                if httpx.get(f"{url}/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        first_start = time.perf_counter() - start
        print(f"first start to a serving page: {first_start:.1f} s")
        settled = wait_idle(proc.pid, args.settle) if args.settle > 0 else None
        if settled is not None:
            print(f"background jobs idle after {settled:.0f} s more")

        client = httpx.Client(base_url=url, timeout=600)
        client.put(
            "/api/profile",
            json={"name": "Bench", "age": 30, "taste": "slow-burn sci-fi, no horror"},
        )
        for movie_id in (2571, 541, 1200):
            client.post("/api/watched", json={"movie_id": movie_id, "rating": 5})
        time.sleep(args.think)
        ranked, first_reason, all_reasons, fallbacks, n_reasons = [], [], [], 0, 0
        for k in range(args.requests):
            if k > 0:
                time.sleep(args.read)
            t = time.perf_counter()
            body = client.post(
                "/api/recommendations", json={"more": k > 0, "stream_reasons": True}
            ).json()
            ranked.append(time.perf_counter() - t)
            first: float | None = None
            with client.stream("GET", f"/api/recommendations/{body['run_id']}/reasons") as events:
                kind = ""
                for line in events.iter_lines():
                    if line.startswith("event: "):
                        kind = line[len("event: ") :]
                    elif line.startswith("data: ") and kind == "reason":
                        n_reasons += int(bool(json.loads(line[len("data: ") :])["text"]))
                        first = first if first is not None else time.perf_counter() - t
                    elif kind == "fallback":
                        fallbacks += 1
            all_reasons.append(time.perf_counter() - t)
            if first is not None:
                first_reason.append(first)
            print(
                f"request {k + 1}: ranked list {ranked[-1]:.2f} s, first reason "
                f"{first if first is not None else float('nan'):.2f} s, all reasons "
                f"{all_reasons[-1]:.1f} s, server timings {body['timings']}"
            )

        def p(values: list[float], q: float) -> float | None:
            if not values:
                return None
            ordered = sorted(values)
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

        result = {
            "model": args.model,
            "threads": int(os.environ.get("CINEREC_LLM_THREADS", "2")),
            "first_start_s": round(first_start, 1),
            "settled_s": None if settled is None else round(settled, 1),
            "think_s": args.think,
            "read_s": args.read,
            "requests": args.requests,
            "ranked_list_s": [round(x, 3) for x in ranked],
            "ranked_list_p50_s": p(ranked, 0.5),
            "ranked_list_p95_s": p(ranked, 0.95),
            "first_reason_s": [round(x, 2) for x in first_reason],
            "first_reason_p50_s": p(first_reason, 0.5),
            "first_reason_p95_s": p(first_reason, 0.95),
            "all_reasons_p50_s": p(all_reasons, 0.5),
            "reasons_written": n_reasons,
            "fallbacks": fallbacks,
            "cpu_count": os.cpu_count(),
            "provenance": provenance(),
        }
        print(json.dumps(result, indent=2))
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(result, indent=2) + "\n")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
        print(f"server log: {home / 'server.log'}")


if __name__ == "__main__":
    main()
