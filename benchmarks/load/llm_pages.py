"""LLM pages under load: concurrent viewers against one out-of-process model server.

Starts a llama.cpp model server on the embedded model (``cinerec.llm.server``: llama-server with
``--parallel`` slots when ``--runtime llama-server``, else llama-cpp-python's server, which
answers one request at a time), then ``cinerec serve`` with ``CINEREC_LLM_BACKEND=openai``
pointed at it, sending ``--gate-slots`` calls at once (``CINEREC_LLM_SLOTS``: 1, as shipped for
a CPU server), on a home that is ingested and has ALS trained (``--home`` to reuse one).

Each of ``--viewers`` concurrent viewers makes a session (profile, three ticked movies: each
tick starts a reasons warm-up), then asks ``--pages`` recommendation pages the way the browser
does: ``POST /api/recommendations`` with ``stream_reasons`` (the ranked cards), then the
reasons' server-sent events. Between pages a viewer ticks one more movie (another warm-up)
and waits ``--think`` seconds. So warm-ups run while pages are asked.

Counted per page: the ranked cards' time (target: at most 2 s on every page); each card's
reason: arrived, or flagged unavailable by the stream's ``fallback`` event (target: every card
one or the other; a card with neither is "unaccounted"); the first reason's time from the
ranked cards' answer (target: p95 at most 5 s, with the pages whose first reason never came
counted beside it); errors (HTTP 4xx/5xx, dropped connections, a stream without ``done``:
target 0). The run also records the machine's load and the busiest other processes. Traffic
goes to 127.0.0.1 only; every loop is bounded in count and time.

    python benchmarks/load/llm_pages.py --viewers 8 --pages 3 \\
        --out benchmarks/results/load/llm_pages
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NoReturn

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # benchmarks.* as a script

from benchmarks.load.model_fair_use import prepare_home  # noqa: E402
from benchmarks.provenance import markdown_header, provenance, relative_arg  # noqa: E402
from tests.web.servers import cinerec_server  # noqa: E402

TICKS = [2571, 541, 1196, 1198, 260, 1210, 589, 1240, 1200, 1214, 318, 858, 296, 593, 50, 47]
TASTES = [
    "slow-burn sci-fi",
    "tense crime stories",
    "feel-good comedies",
    "big adventures",
    "dark thrillers",
    "animated films for the family",
    "war dramas",
    "clever mysteries",
]
RANKED_TARGET_S = 2.0
FIRST_REASON_P95_TARGET_S = 5.0
_PROMPT_TIMING = re.compile(r"task (\d+) \| prompt eval time = +([\d.]+) ms / +(\d+) tokens")
_EVAL_TIMING = re.compile(r"task (\d+) \| +eval time = +([\d.]+) ms / +(\d+) tokens")


def _sse(response: httpx.Response) -> Any:
    """(event, data) pairs of a server-sent-events response, as they arrive."""
    event = None
    for line in response.iter_lines():
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:") and event is not None:
            yield event, json.loads(line[5:].strip() or "null")
            event = None


def viewer(base: str, k: int, args: argparse.Namespace, t_end: float) -> dict[str, Any]:
    """One viewer's session: profile, ticks, then ``args.pages`` pages (bounded by ``t_end``)."""
    rng = random.Random(args.seed * 100 + k)
    errors: list[str] = []
    pages: list[dict[str, Any]] = []
    time.sleep(rng.uniform(0, args.stagger))
    ticks = rng.sample(TICKS, 3 + args.pages)
    with httpx.Client(base_url=base, timeout=args.request_timeout) as client:
        try:
            client.headers["X-CSRF-Token"] = client.get("/api/csrf").json()["csrf_token"]
            r = client.put(
                "/api/profile", json={"name": f"Viewer{k}", "taste": TASTES[k % len(TASTES)]}
            )
            r.raise_for_status()
            for movie_id in ticks[:3]:
                client.post("/api/watched", json={"movie_id": movie_id}).raise_for_status()
        except httpx.HTTPError as exc:
            return {"viewer": k, "pages": [], "errors": [f"setup: {exc!r}"]}
        for p in range(args.pages):
            if time.monotonic() > t_end:
                break
            page: dict[str, Any] = {"viewer": k, "page": p}
            t0 = time.perf_counter()
            try:
                r = client.post(
                    "/api/recommendations", json={"stream_reasons": True, "more": p > 0}
                )
            except httpx.HTTPError as exc:
                errors.append(f"page {p}: {exc!r}")
                continue
            page["ranked_s"] = round(time.perf_counter() - t0, 3)
            page["status"] = r.status_code
            if r.status_code != 200:
                errors.append(f"page {p}: HTTP {r.status_code} {r.text[:120]}")
                pages.append(page)
                continue
            body = r.json()
            cards = [c["movie"]["id"] for c in body.get("items", [])]
            page["cards"] = len(cards)
            reasons: dict[int, bool] = {}
            flagged = False
            done = False
            t1 = time.perf_counter()
            try:
                url = f"/api/recommendations/{body['run_id']}/reasons"
                with client.stream("GET", url) as stream:
                    if stream.status_code != 200:
                        errors.append(f"reasons {p}: HTTP {stream.status_code}")
                    for event, data in _sse(stream):
                        if event == "reason":
                            if "first_reason_s" not in page and data.get("text"):
                                page["first_reason_s"] = round(time.perf_counter() - t1, 3)
                            reasons[int(data["movie_id"])] = bool(data.get("text"))
                        elif event == "fallback":
                            flagged = True
                            page["fallback"] = str(data.get("message", ""))[:160]
                        elif event == "done":
                            done = True
                            break
            except httpx.HTTPError as exc:
                errors.append(f"reasons {p}: {exc!r}")
            page["reasons_s"] = round(time.perf_counter() - t1, 3)
            page["reasons"] = sum(1 for c in cards if reasons.get(c))
            missing = [c for c in cards if not reasons.get(c)]
            page["flagged"] = len(missing) if flagged else 0
            page["unaccounted"] = 0 if flagged else len(missing)
            if not done:
                errors.append(f"reasons {p}: the stream ended without 'done'")
            pages.append(page)
            try:  # another tick: the profile changed, a warm-up starts
                client.post("/api/watched", json={"movie_id": ticks[3 + p]}).raise_for_status()
            except httpx.HTTPError as exc:
                errors.append(f"tick {p}: {exc!r}")
            time.sleep(args.think)
    return {"viewer": k, "pages": pages, "errors": errors}


def model_timings(log: str) -> dict[str, Any] | None:
    """How fast the model server ran, from llama-server's log (its ``print_timing`` lines): the
    calls, their model seconds, and the milliseconds per prompt token and per generated token.
    Runs on different machines of one kind differ in these first, so a first-reason figure is
    read beside them. A "reason-sized" call generated at least 2 tokens (a warm-up generates 1).
    None when the log has no timings (llama-cpp-python's server writes none).

    >>> log = (
    ...     "slot print_timing: id  3 | task 0 | prompt eval time =  100.00 ms /  10 tokens (x)\\n"
    ...     "slot print_timing: id  3 | task 0 |        eval time =    0.00 ms /   1 tokens (x)\\n"
    ...     "slot print_timing: id  3 | task 2 | prompt eval time =  300.00 ms /  40 tokens (x)\\n"
    ...     "slot print_timing: id  3 | task 2 |        eval time =  500.00 ms /  20 tokens (x)\\n"
    ... )
    >>> t = model_timings(log)
    >>> t["calls"], t["busy_s"], t["prompt_ms_per_token"], t["generated_ms_per_token"]
    (2, 0.9, 8.0, 23.81)
    >>> t["reason_sized_calls"], t["reason_sized_call_s_p50"]
    (1, 0.8)
    >>> model_timings("no timings here") is None
    True
    """
    prompts = {m[1]: (float(m[2]), int(m[3])) for m in _PROMPT_TIMING.finditer(log)}
    calls = [
        (*prompts[m[1]], float(m[2]), int(m[3]))
        for m in _EVAL_TIMING.finditer(log)
        if m[1] in prompts
    ]
    if not calls:
        return None
    prompt_ms = sum(c[0] for c in calls)
    prompt_n = sum(c[1] for c in calls)
    gen_ms = sum(c[2] for c in calls)
    gen_n = sum(c[3] for c in calls)
    reasons = [(c[0] + c[2]) / 1000 for c in calls if c[3] >= 2]
    return {
        "calls": len(calls),
        "busy_s": round((prompt_ms + gen_ms) / 1000, 2),
        "prompt_tokens": prompt_n,
        "prompt_ms_per_token": round(prompt_ms / prompt_n, 2) if prompt_n else None,
        "generated_tokens": gen_n,
        "generated_ms_per_token": round(gen_ms / gen_n, 2) if gen_n else None,
        "reason_sized_calls": len(reasons),
        "reason_sized_call_s_p50": _pct(reasons, 50),
    }


def _raise(message: str) -> NoReturn:
    raise RuntimeError(f"cinerec serve failed: {message}")


def _llama_server_build(binary: str | None) -> dict[str, str] | None:
    """Which llama-server served: its ``--version`` line and, when scripts/build-llama-server.sh
    built it, the source it was built from (the stamp beside it)."""
    if binary is None:
        return None
    try:
        done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
        out = (done.stdout + done.stderr).strip()  # llama-server writes it to stderr
    except (OSError, subprocess.SubprocessError):
        out = ""
    stamp = Path(binary).with_name("llama-server.source")
    return {
        "version": " ".join(out.splitlines()[:2]),
        "built_from": stamp.read_text().strip() if stamp.is_file() else "unknown",
    }


def _busiest_processes(n: int = 8) -> list[str]:
    """The processes using the most CPU now (``ps``), to say what else was running."""
    try:
        out = subprocess.run(
            ["ps", "-eo", "pcpu,etime,comm", "--sort=-pcpu"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [" ".join(line.split()) for line in out.splitlines()[1 : n + 1]]


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 3) if values else None


def _pct_ci(values: list[float], q: float) -> list[float] | None:
    """Bootstrap 95% interval of the ``q``-th percentile over pages (None under 2 pages)."""
    from cinerec.evaluation.bootstrap import bootstrap_statistic_ci

    if len(values) < 2:
        return None
    data = np.asarray(values, dtype=np.float64)
    ci = bootstrap_statistic_ci(
        lambda idx: np.percentile(data[idx], q, axis=1),
        float(np.percentile(data, q)),
        len(data),
        resamples=2000,
    )
    return [round(ci.low, 3), round(ci.high, 3)]


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    from cinerec.evaluation.bootstrap import wilson_interval

    pages = [p for r in rows for p in r["pages"] if p.get("status") == 200]
    errors = [e for r in rows for e in r["errors"]]
    ranked = [p["ranked_s"] for p in pages]
    first = [p["first_reason_s"] for p in pages if "first_reason_s" in p]
    cards = sum(p.get("cards", 0) for p in pages)
    arrived = sum(p.get("reasons", 0) for p in pages)
    return {
        "pages": len(pages),
        "errors": len(errors),
        "error_samples": errors[:10],
        "ranked_s_p50": _pct(ranked, 50),
        "ranked_s_p95": _pct(ranked, 95),
        "ranked_s_max": max(ranked, default=None),
        "pages_ranked_within_target": sum(1 for x in ranked if x <= RANKED_TARGET_S),
        "cards": cards,
        "reasons_arrived": arrived,
        # Wilson interval over cards (cards of one page are not independent: a floor on its width)
        "reasons_arrived_share_ci95": [round(x, 3) for x in wilson_interval(arrived, cards)],
        "reasons_flagged_unavailable": sum(p.get("flagged", 0) for p in pages),
        "reasons_unaccounted": sum(p.get("unaccounted", 0) for p in pages),
        "pages_with_a_first_reason": len(first),
        "pages_flagged_before_any_reason": sum(1 for p in pages if "first_reason_s" not in p),
        "first_reason_s_p50": _pct(first, 50),
        "first_reason_s_p50_ci95": _pct_ci(first, 50),
        "first_reason_s_p95": _pct(first, 95),
        "first_reason_s_p95_ci95": _pct_ci(first, 95),
        "first_reason_s_max": max(first, default=None),
        "fallback_messages": sorted({p["fallback"][:80] for p in pages if "fallback" in p}),
    }


def run(args: argparse.Namespace, home: Path) -> dict[str, Any]:
    from cinerec.config import Settings
    from cinerec.llm.models import EMBEDDED_MODELS, locate_gguf
    from cinerec.llm.server import (
        SCHEMA_FORMATS,
        ServerSpec,
        llama_server_binary,
        running_server,
    )

    cache_dir = Settings(llm_backend="none").cache_dir
    path = locate_gguf(args.model, cache_dir)
    spec = ServerSpec(
        path,
        args.model if args.model in EMBEDDED_MODELS else path.stem,
        port=0,
        parallel=args.parallel,
        n_ctx=args.context,
        threads=args.threads,
        runtime=args.runtime,
        binary=args.binary,
        cache_dir=cache_dir,
    )
    with running_server(spec, timeout_s=300, log_path=home / "model_server.log") as server:
        slots = args.parallel if server.runtime == "llama-server" else 1
        gate = min(args.gate_slots or slots, slots)  # calls cinerec runs at once
        env = {
            "CINEREC_DATA_DIR": args.data_dir,
            "CINEREC_LLM_BACKEND": "openai",
            "CINEREC_OPENAI_BASE_URL": server.base_url,
            "CINEREC_OPENAI_MODEL": spec.alias,
            "CINEREC_OPENAI_SCHEMA_FORMAT": SCHEMA_FORMATS[server.runtime],
            "CINEREC_LLM_SLOTS": str(gate),
            "CINEREC_LLM_TIMEOUT_S": str(args.timeout),
            "CINEREC_RECOMMENDER": "als",
            "CINEREC_WARM_EMBEDDINGS": "false",
            "CINEREC_REVIEW_SUMMARIES": "false",
        }
        # its streams may still wait on the model at the end: killed after 10 s
        with cinerec_server(home, env, wait_s=300, grace_s=10, fail=_raise) as base:
            load_before = os.getloadavg()
            busy_before = _busiest_processes()
            t0 = time.perf_counter()
            t_end = time.monotonic() + args.limit
            with ThreadPoolExecutor(args.viewers) as pool:
                rows = list(pool.map(lambda k: viewer(base, k, args, t_end), range(args.viewers)))
            wall = time.perf_counter() - t0
            load_after = os.getloadavg()
            busy_after = _busiest_processes()
    server_log = home / "model_server.log"
    timings = (
        model_timings(server_log.read_text(errors="replace")) if server_log.is_file() else None
    )
    return {
        "niceness": os.nice(0),  # the model server and cinerec serve inherit it
        "runtime": server.runtime,
        "llama_server": _llama_server_build(llama_server_binary(spec.binary, spec.cache_dir))
        if server.runtime == "llama-server"
        else None,
        "slots": slots,
        "gate_slots": gate,
        "server_start_s": round(server.start_s, 1),
        "wall_s": round(wall, 1),
        "load_average_before_after": [load_before, load_after],
        "busiest_processes_before": busy_before,
        "busiest_processes_after": busy_after,
        "model_timings": timings,
        "summary": summarise(rows),
        "rows": rows,
    }


def markdown(r: dict[str, Any]) -> str:
    s = r["summary"]
    ok = "met" if s["errors"] == 0 else "MISSED"
    ranked_ok = "met" if s["pages_ranked_within_target"] == s["pages"] else "MISSED"
    p95 = s["first_reason_s_p95"]
    first_ok = "met" if p95 is not None and p95 <= FIRST_REASON_P95_TARGET_S else "MISSED"
    accounted_ok = "met" if s["reasons_unaccounted"] == 0 else "MISSED"
    a = r["args"]
    return "\n".join(
        [
            markdown_header(r["provenance"]),
            "# LLM pages: concurrent viewers against one model server",
            "",
            f"{a['viewers']} viewers x up to {a['pages']} pages, {a['think']} s between pages, "
            f"warm-ups from every tick; model {a['model']} served by **{r['runtime']}** "
            f"({r['slots']} slot(s), {a['threads']} thread(s)"
            + (f"; `CINEREC_LLM_SLOTS={r['gate_slots']}`" if r.get("gate_slots") else "")
            + (
                f"; llama.cpp of {r['llama_server']['built_from'].split()[0]}"
                if r.get("llama_server")
                else ""
            )
            + "); cinerec serve with "
            f"`CINEREC_LLM_BACKEND=openai`; wall {r['wall_s']} s.",
            "",
            "| target | measured | |",
            "|---|---|---|",
            f"| 0 errors | {s['errors']} | {ok} |",
            f"| ranked cards <= {RANKED_TARGET_S:.0f} s on every page | "
            f"{s['pages_ranked_within_target']} of {s['pages']} pages; p50 {s['ranked_s_p50']} s, "
            f"p95 {s['ranked_s_p95']} s, max {s['ranked_s_max']} s | {ranked_ok} |",
            f"| each reason arrives or is flagged | {s['cards']} cards: {s['reasons_arrived']} "
            f"arrived {s.get('reasons_arrived_share_ci95')}, "
            f"{s['reasons_flagged_unavailable']} flagged unavailable, "
            f"{s['reasons_unaccounted']} unaccounted | {accounted_ok} |",
            f"| first reason p95 <= {FIRST_REASON_P95_TARGET_S:.0f} s | p50 "
            f"{s['first_reason_s_p50']} s {s.get('first_reason_s_p50_ci95')}, p95 {p95} s "
            f"{s.get('first_reason_s_p95_ci95')}, max {s['first_reason_s_max']} s over "
            f"{s['pages_with_a_first_reason']} pages; {s['pages_flagged_before_any_reason']} "
            f"pages flagged before any reason | {first_ok} |",
            "",
            "Bracketed: 95% intervals (bootstrap over pages; the arrived share's Wilson interval "
            "over cards).",
            f"Fallback messages: {s['fallback_messages'] or 'none'}.",
            f"Error samples: {s['error_samples'] or 'none'}.",
            "",
            _timings_line(r.get("model_timings"), r["wall_s"]),
            "",
            f"Niceness of the model server and cinerec serve: {r.get('niceness')}. "
            f"Machine: {os.cpu_count()} cores, load average (1, 5, 15 min) before "
            f"{r['load_average_before_after'][0]}, after {r['load_average_before_after'][1]}. "
            "Busiest processes before (pcpu, elapsed, name): "
            f"{'; '.join(r['busiest_processes_before'])}.",
            "",
        ]
    )


def _timings_line(t: dict[str, Any] | None, wall_s: float) -> str:
    if t is None:
        return "Model server timings: not in its log (llama-server writes them)."
    return (
        f"Model server (its log): {t['calls']} calls, busy {t['busy_s']} s of the {wall_s} s; "
        f"{t['prompt_ms_per_token']} ms per prompt token, {t['generated_ms_per_token']} ms per "
        f"generated token; a reason-sized call (2 or more tokens generated) p50 "
        f"{t['reason_sized_call_s_p50']} s of model time."
    )


def resummarise(path: Path) -> None:
    """Rewrite ``path`` (.json and .md) with the summary this code computes from its stored
    rows; the run's provenance is kept and the rewrite's commit is recorded beside it."""
    result = json.loads(path.read_text())
    result["summary"] = summarise(result["rows"])
    result["summary_recomputed_at"] = provenance(["llm_pages.py"])["git_sha"]
    path.write_text(json.dumps(result, indent=2))
    path.with_suffix(".md").write_text(markdown(result))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=8)
    parser.add_argument("--pages", type=int, default=3)
    parser.add_argument("--think", type=float, default=5.0, help="seconds between pages")
    parser.add_argument("--stagger", type=float, default=3.0, help="viewers start within this")
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--runtime", default="auto", help="auto, llama-server or python")
    parser.add_argument("--binary", default=None, help="path of llama-server")
    parser.add_argument("--parallel", type=int, default=4, help="llama-server slots")
    parser.add_argument(
        "--gate-slots",
        type=int,
        default=1,
        help="CINEREC_LLM_SLOTS: model calls cinerec runs at once (1, as shipped for a CPU "
        "server; 0: the server's slots, as before 2026-12-07)",
    )
    parser.add_argument("--threads", type=int, default=1, help="model server threads")
    parser.add_argument("--context", type=int, default=4096)
    parser.add_argument("--timeout", type=float, default=90.0, help="CINEREC_LLM_TIMEOUT_S")
    parser.add_argument("--request-timeout", type=float, default=120.0)
    parser.add_argument("--limit", type=float, default=480.0, help="seconds at most")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--home", type=Path, default=None, help="a prepared home to reuse")
    parser.add_argument("--data-dir", default=os.environ.get("CINEREC_DATA_DIR", "../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/load/llm_pages"))
    parser.add_argument(
        "--resummarise",
        type=Path,
        default=None,
        help="recompute the summary of a stored result (.json) from its rows and rewrite it",
    )
    args = parser.parse_args(argv)
    if args.resummarise is not None:
        resummarise(args.resummarise)
        return
    with tempfile.TemporaryDirectory() as tmp:
        home = args.home or Path(tmp)
        home.mkdir(parents=True, exist_ok=True)
        if not (home / "cinerec.db").exists():
            prepare_home(home, args.data_dir)
        result = run(args, home)
    # a machine path stays out of the result: inside the repository relative to it, else <name>
    result["args"] = {
        k: relative_arg(str(v)) if isinstance(v, Path | str) else v for k, v in vars(args).items()
    }
    if args.home is not None:
        result["args"]["home"] = "<home>"
    result["provenance"] = provenance(sys.argv if argv is None else ["llm_pages.py", *argv])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # --out names both files without their suffix ("..._1.5b" must not lose its ".5b")
    base = args.out.with_suffix("") if args.out.suffix in (".json", ".md") else args.out
    base.with_name(base.name + ".json").write_text(json.dumps(result, indent=2))
    base.with_name(base.name + ".md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
