"""Kill web workers mid-request under writes: nothing acknowledged is lost.

Starts the Procfile's web line with 2 workers on a fresh PostgreSQL database; ``--writers``
clients mark movies watched (``POST /api/feedback``) as fast as they can for ``--seconds``
while a web worker is SIGKILLed every ``--kill-every`` seconds (uvicorn starts a replacement).
A request whose connection is cut is retried by the client (it may or may not have been
stored: at least once); an answered one is never retried. Afterwards every acknowledged
feedback id must be in the database. Writes ``<out>.json`` and ``<out>.md``.

    python benchmarks/load/fault_web.py --seconds 30 --kill-every 6
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # benchmarks.* as a script

from benchmarks.load.stack import ProductionWeb, admin_url, fresh_database  # noqa: E402
from benchmarks.provenance import markdown_header, provenance  # noqa: E402

MOVIES = (1, 2, 3, 6, 10, 260, 296, 318, 356, 2571)


def _writer(base: str, stop: threading.Event, out: dict[str, Any]) -> None:
    client = httpx.Client(base_url=base, timeout=30)
    client.headers["X-CSRF-Token"] = client.get("/api/csrf").json()["csrf_token"]
    client.post("/api/profile", json={"name": "fault"}).raise_for_status()
    k = 0
    while not stop.is_set():
        body = {"movie_id": MOVIES[k % len(MOVIES)], "kind": "watched"}
        for _attempt in range(50):
            try:
                r = client.post("/api/feedback", json=body)
            except httpx.TransportError:
                out["cut"] += 1
                time.sleep(0.05)
                continue
            if r.status_code == 200:
                out["acked"].append(r.json()["id"])
            else:
                out["errors"].append(f"{r.status_code} {r.text[:120]}")
            break
        else:
            out["gave_up"] += 1
        k += 1
    client.close()


def run(args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import create_engine, text

    scratch = Path(tempfile.mkdtemp(prefix="cinerec-fault-"))
    shared: dict[str, Any] = {"acked": [], "errors": [], "cut": 0, "gave_up": 0}
    kills = []
    with fresh_database(admin_url()) as url:
        with ProductionWeb(url, workers=2, home=scratch / "home", env=args.env) as web:
            stop = threading.Event()
            threads = [
                threading.Thread(target=_writer, args=(web.base_url, stop, shared))
                for _ in range(args.writers)
            ]
            for t in threads:
                t.start()
            started = time.monotonic()
            while time.monotonic() - started < args.seconds:
                time.sleep(args.kill_every)
                pids = web.worker_pids()
                if pids:
                    web.kill_worker(pids[0])
                    kills.append({"at_s": round(time.monotonic() - started, 1), "pid": pids[0]})
            stop.set()
            for t in threads:
                t.join(60)
            workers_after = len(web.worker_pids())
        engine = create_engine(url)
        with engine.connect() as conn:
            stored = set(conn.execute(text("SELECT id FROM feedback")).scalars())
        engine.dispose()
    acked = set(shared["acked"])
    lost = sorted(acked - stored)
    return {
        "provenance": provenance(),
        "setup": {"writers": args.writers, "seconds": args.seconds, "kill_every": args.kill_every},
        "kills": kills,
        "acknowledged": len(acked),
        "stored": len(stored),
        "lost": len(lost),
        "stored_not_acknowledged": len(stored - acked),
        "cut_connections_retried": shared["cut"],
        "error_answers": len(shared["errors"]),
        "error_examples": shared["errors"][:5],
        "gave_up": shared["gave_up"],
        "workers_after": workers_after,
        "passed": not lost and not shared["errors"] and shared["gave_up"] == 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--kill-every", type=float, default=6)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/load_fault"))
    args = parser.parse_args()
    args.env = {"CINEREC_DATA_DIR": str(args.data_dir)} if args.data_dir else {}
    result = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    fields = {k: v for k, v in result.items() if k not in ("provenance", "error_examples")}
    args.out.with_suffix(".md").write_text(
        "# Fault: web workers killed mid-request under writes\n\n"
        + markdown_header(result["provenance"])
        + "\n"
        + "\n".join(f"- {k}: {json.dumps(v)}" for k, v in fields.items())
        + "\n"
    )
    print(json.dumps(fields))


if __name__ == "__main__":
    main()
