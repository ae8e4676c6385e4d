"""Time the demo as a user meets it: first start to a serving page, then recommendation pages.

Starts ``cinerec serve`` on a fresh home (so the first run ingests and trains), waits for the page,
then drives the JSON API like the browser does: a profile, three ticked movies, and several
recommendation requests with the real embedded model. Prints seconds; writes a JSON result.

    python benchmarks/page_latency.py --requests 5 --out benchmarks/results/page_latency.json
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="cinerec-bench-"))
    port = _free_port()
    env = {**os.environ, "CINEREC_HOME": str(home), "CINEREC_LLM_MODEL": args.model}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cinerec.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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

        client = httpx.Client(base_url=url, timeout=600)
        client.put(
            "/api/profile",
            json={"name": "Bench", "age": 30, "taste": "slow-burn sci-fi, no horror"},
        )
        for movie_id in (2571, 541, 1200):
            client.post("/api/watched", json={"movie_id": movie_id, "rating": 5})
        times, fallbacks, persona_s, rerank_s = [], 0, [], []
        for k in range(args.requests):
            t = time.perf_counter()
            body = client.post("/api/recommendations", json={"more": k > 0}).json()
            times.append(time.perf_counter() - t)
            fallbacks += int(body["fallback"])
            persona_s.append(body["timings"].get("persona", 0.0))
            rerank_s.append(body["timings"]["rerank"])
            print(
                f"request {k + 1}: {times[-1]:.1f} s, timings {body['timings']}, "
                f"fallback {body['fallback']}"
            )
        result = {
            "model": args.model,
            "first_start_s": round(first_start, 1),
            "page_s": [round(x, 2) for x in times],
            "page_p50_s": round(statistics.median(times), 2),
            "first_page_s": round(times[0], 2),
            "later_pages_p50_s": round(statistics.median(times[1:]), 2) if len(times) > 1 else None,
            "persona_s": persona_s[0],
            "rerank_p50_s": round(statistics.median(rerank_s), 2),
            "fallbacks": fallbacks,
            "cpu_count": os.cpu_count(),
        }
        print(json.dumps(result, indent=2))
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(result, indent=2) + "\n")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
