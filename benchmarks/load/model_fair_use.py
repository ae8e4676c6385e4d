"""Fair use of the one model under a burst: 20 concurrent model requests from one session.

Starts ``cinerec serve`` with the real embedded model on a home that is ingested and has ALS
trained (``--home`` to reuse one), makes one session (profile and three ticked movies), then at
the same moment sends ``--burst`` model-calling requests from that session (a mix of chat turns,
streamed recommendation pages and posts), while a second client keeps asking pages that do not
call the model (``/``, movie search, a movie, the watched list) ``--page-rate`` times a second.

Counted: each burst request's status and time to answer; how many got 429 and how fast; of
the others how many finished with the model's words and how many fell back, flagged; errors
(5xx, dropped connections); and the no-model pages' latency p50/p99 while the burst runs.
Traffic goes to 127.0.0.1 only; every loop is bounded in count and time.

    python benchmarks/load/model_fair_use.py --burst 20 --out benchmarks/results/load/model_fair_use
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks.provenance import markdown_header, provenance
from tests.web.servers import cinerec_server

PAGES = ["/", "/api/movies/search?q=matrix", "/api/movies/2571", "/api/watched", "/chat"]
QUESTIONS = [
    "Who directed Alien?",
    "What year is Heat from?",
    "Movies like Blade Runner?",
    "Who stars in The Matrix?",
    "Is Toy Story a comedy?",
]


def prepare_home(home: Path, data_dir: str) -> None:
    """Ingest the catalog and train ALS (what ``make run`` does on a first start)."""
    from cinerec.config import Settings
    from cinerec.services.ingest import ensure_ready
    from cinerec.services.platform import Platform

    settings = Settings(home=home, data_dir=data_dir, llm_backend="none", recommender="als")
    platform = Platform(settings)
    ensure_ready(platform, progress=False)
    platform.engine.dispose()


def burst_request(client: httpx.Client, k: int) -> dict[str, Any]:
    """One model-calling request of the burst (chat, a streamed page, or a post)."""
    kind = ("chat", "page", "chat", "post")[k % 4]
    t0 = time.perf_counter()
    try:
        if kind == "chat":
            r = client.post("/api/chat", json={"message": QUESTIONS[k % len(QUESTIONS)]})
            body = r.json()
            fallback = bool(body.get("fallback")) if r.status_code == 200 else None
        elif kind == "page":
            r = client.post("/api/recommendations", json={"stream_reasons": False})
            body = r.json()
            fallback = bool(body.get("fallback")) if r.status_code == 200 else None
        else:
            r = client.post("/api/posts", json={"theme": "rainy day", "n": 3})
            fallback = None if r.status_code in (200, 429) else True
        status = r.status_code
        retry_after = r.headers.get("retry-after")
    except httpx.HTTPError as exc:
        status, fallback, retry_after = -1, None, None
        body = {"error": type(exc).__name__}
    return {
        "kind": kind,
        "status": status,
        "seconds": round(time.perf_counter() - t0, 3),
        "fallback": fallback,
        "retry_after": retry_after,
    }


def page_load(base: str, stop: threading.Event, rate: float, limit_s: float) -> list[dict]:
    """No-model pages at ``rate`` a second from another client until ``stop`` or the limit."""
    out: list[dict] = []
    with httpx.Client(base_url=base, timeout=30) as client:
        start = time.perf_counter()
        k = 0
        while not stop.is_set() and time.perf_counter() - start < limit_s:
            path = PAGES[k % len(PAGES)]
            t0 = time.perf_counter()
            try:
                status = client.get(path).status_code
            except httpx.HTTPError:
                status = -1
            out.append({"path": path, "status": status, "ms": (time.perf_counter() - t0) * 1e3})
            k += 1
            time.sleep(max(0.0, 1 / rate - (time.perf_counter() - t0)))
    return out


@contextmanager
def session(base: str) -> Any:
    with httpx.Client(base_url=base, timeout=600) as client:
        token = client.get("/api/csrf").json()["csrf_token"]
        client.headers["X-CSRF-Token"] = token
        r = client.put("/api/profile", json={"name": "Load", "taste": "slow-burn sci-fi"})
        r.raise_for_status()
        for movie_id in (2571, 541, 1196):
            client.post("/api/watched", json={"movie_id": movie_id}).raise_for_status()
        yield client


def run(args: argparse.Namespace, home: Path) -> dict[str, Any]:
    env = {
        "CINEREC_DATA_DIR": args.data_dir,
        "CINEREC_LLM_MODEL": args.model,
        "CINEREC_LLM_THREADS": str(args.threads),
        "CINEREC_LLM_TIMEOUT_S": str(args.timeout),
        "CINEREC_RECOMMENDER": "als",
        "CINEREC_WARM_EMBEDDINGS": "false",
        "CINEREC_REVIEW_SUMMARIES": "false",
    }
    with cinerec_server(home, env, wait_s=300) as base, session(base) as client:
        stop = threading.Event()
        with ThreadPoolExecutor(args.burst + 1) as pool:
            pages = pool.submit(page_load, base, stop, args.page_rate, args.limit)
            time.sleep(2.0)  # a baseline of quiet pages first
            t0 = time.perf_counter()
            burst = list(pool.map(lambda k: burst_request(client, k), range(args.burst)))
            burst_seconds = time.perf_counter() - t0
            stop.set()
            page_rows = pages.result()
    during = [p["ms"] for p in page_rows]
    statuses = [b["status"] for b in burst]
    served = [b for b in burst if b["status"] == 200]
    refused = [b for b in burst if b["status"] == 429]
    errors = [b for b in burst if b["status"] not in (200, 429)]
    page_errors = [p for p in page_rows if p["status"] >= 500 or p["status"] < 0]
    return {
        "burst": args.burst,
        "burst_seconds": round(burst_seconds, 1),
        "status_counts": {str(s): statuses.count(s) for s in sorted(set(statuses))},
        "refused_429": len(refused),
        "refused_seconds_max": max((b["seconds"] for b in refused), default=None),
        "refused_with_retry_after": sum(1 for b in refused if b["retry_after"]),
        "served": len(served),
        "served_fallback_flagged": sum(1 for b in served if b["fallback"]),
        "served_seconds": [b["seconds"] for b in served],
        "errors": len(errors),
        "pages": len(page_rows),
        "page_errors": len(page_errors),
        "page_ms_p50": round(float(np.percentile(during, 50)), 1) if during else None,
        "page_ms_p99": round(float(np.percentile(during, 99)), 1) if during else None,
        "page_ms_max": round(max(during), 1) if during else None,
        "rows": burst,
    }


def markdown(result: dict[str, Any]) -> str:
    r = result
    return "\n".join(
        [
            markdown_header(r["provenance"]),
            "# Fair use of the model: a burst from one session",
            "",
            f"{r['burst']} concurrent model requests from one session ({r['model']}, "
            f"{r['threads']} threads), pages without the model from another client meanwhile.",
            "",
            "| what | number |",
            "|---|---|",
            f"| statuses | {r['status_counts']} |",
            f"| refused with 429 | {r['refused_429']} (slowest answer "
            f"{r['refused_seconds_max']} s; {r['refused_with_retry_after']} with Retry-After) |",
            f"| served | {r['served']} ({r['served_fallback_flagged']} flagged fallbacks); "
            f"seconds {r['served_seconds']} |",
            f"| errors (5xx, dropped) | {r['errors']} |",
            f"| pages without the model during the burst | {r['pages']} requests, "
            f"{r['page_errors']} errors, p50 {r['page_ms_p50']} ms, p99 {r['page_ms_p99']} ms, "
            f"max {r['page_ms_max']} ms |",
            f"| burst wall time | {r['burst_seconds']} s |",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=90.0, help="CINEREC_LLM_TIMEOUT_S")
    parser.add_argument("--page-rate", type=float, default=10.0)
    parser.add_argument("--limit", type=float, default=600.0, help="seconds at most")
    parser.add_argument("--home", type=Path, default=None, help="a prepared home to reuse")
    parser.add_argument("--data-dir", default=os.environ.get("CINEREC_DATA_DIR", "../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/load/model_fair_use"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        home = args.home or Path(tmp)
        if not (home / "cinerec.db").exists():
            prepare_home(home, args.data_dir)
        result = run(args, home)
    result.update(model=args.model, threads=args.threads)
    result["provenance"] = provenance(sys.argv if argv is None else ["model_fair_use.py", *argv])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2))
    args.out.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
