"""How soon a cancelled model call frees the model for the next waiter (issue 22).

Per repeat, on the real model behind the product's priority gate (one slot):

1. an uncancelled streamed generation (a long essay, ``--max-tokens``): its seconds and pieces;
2. the same generation, streamed with a cancel token while a page call waits for the slot; after
   ``--after`` pieces the token is cancelled. Measured: seconds from the cancel to the waiting
   page call getting the slot (``freed_s``), and the pieces the generation wrote in all.

Backends: the embedded llama.cpp model (``--runtime embedded``), or llama-cpp-python's
OpenAI-compatible server in a subprocess through the ``openai`` backend (``--runtime python``:
the slot is freed when the server notices the closed stream; the time to the next request's
answer is measured too, ``next_s``).

Usage:
    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/llm_cancel.py --model smollm2-135m \\
        --repeats 10 --out benchmarks/results/llm_cancel
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.provenance import markdown_header, provenance  # noqa: E402
from cinerec.llm.backends.base import LLMBackend, Message  # noqa: E402
from cinerec.llm.backends.cancel import Cancelled, CancelToken  # noqa: E402
from cinerec.llm.backends.gate import GatedBackend, Priority, PriorityGate  # noqa: E402

ESSAY = [Message("user", "Write a long essay about the history of cinema, at least 1000 words.")]
HI = [Message("user", "Say hi.")]


@contextlib.contextmanager
def backend_for(runtime: str, model: str, threads: int) -> Iterator[LLMBackend]:
    from cinerec.config import Settings
    from cinerec.llm.models import locate_gguf

    path = locate_gguf(model, Settings(llm_backend="none").cache_dir)
    if runtime == "embedded":
        from cinerec.llm.backends.llamacpp import LlamaCppBackend

        embedded = LlamaCppBackend(path, n_threads=threads, n_ctx=1024, model_name=model)
        embedded.load()
        yield embedded
        return
    from cinerec.llm.backends.openai_http import OpenAICompatibleBackend
    from cinerec.llm.server import ServerSpec, running_server

    spec = ServerSpec(path, model, port=0, n_ctx=1024, threads=threads, runtime="python")
    with running_server(spec, timeout_s=180) as server:
        yield OpenAICompatibleBackend(
            server.base_url, model, timeout_s=120, schema_format="json_object"
        )


def one_repeat(backend: LLMBackend, max_tokens: int, after: int) -> dict[str, Any]:
    start = time.monotonic()
    full = list(backend.stream(ESSAY, max_tokens=max_tokens))
    full_s = time.monotonic() - start

    gate, cancel = PriorityGate(1, {Priority.PAGE: 120}), CancelToken()
    gated = GatedBackend(backend, gate, Priority.CHAT)
    start = time.monotonic()
    pieces = gated.stream(ESSAY, max_tokens=max_tokens, cancel=cancel)
    got = [next(pieces) for _ in range(after)]
    granted: list[float] = []

    def page() -> None:
        with gate.slot(Priority.PAGE):
            granted.append(time.monotonic())

    waiter = threading.Thread(target=page)
    waiter.start()
    while not gate.waiting:
        time.sleep(0.001)
    cancelled_at = time.monotonic()
    cancel.cancel("benchmark")
    tokens = None
    try:
        got.extend(pieces)
    except Cancelled as exc:
        tokens = exc.tokens
    waiter.join(120)
    row = {
        "full_s": round(full_s, 4),
        "full_pieces": len(full),
        "freed_s": round(granted[0] - cancelled_at, 4),
        "cancelled_total_s": round(time.monotonic() - start, 4),
        "pieces_read": len(got),
        "tokens_at_stop": tokens,
    }
    if not isinstance(backend, GatedBackend) and getattr(backend, "name", "") == "openai":
        start = time.monotonic()
        backend.complete(HI, max_tokens=4, timeout_s=120)
        row["next_s"] = round(time.monotonic() - start + row["freed_s"], 4)
    return row


def bootstrap_median(values: list[float], seed: int = 0) -> list[float]:
    rng = np.random.default_rng(seed)
    arr = np.asarray(values, dtype=float)
    meds = np.median(rng.choice(arr, size=(2000, len(arr)), replace=True), axis=1)
    return [round(float(np.quantile(meds, 0.025)), 4), round(float(np.quantile(meds, 0.975)), 4)]


def summarize(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    values = [float(r[key]) for r in rows if r.get(key) is not None]
    return {
        "median": round(statistics.median(values), 4),
        "median_ci95": bootstrap_median(values),
        "max": round(max(values), 4),
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Cancelling a running model call",
        "",
        markdown_header(result["provenance"]),
        f"Runtime {result['runtime']}, model {result['model']}, {result['threads']} thread(s); "
        f"{result['repeats']} repeats; generation of up to {result['max_tokens']} tokens, "
        f"cancelled after {result['after']} pieces while a page call waited for the one slot. "
        "Medians with a bootstrap 95% interval. Times are on a shared 2-core machine, load "
        f"average {result['load_1min'][0]} before and {result['load_1min'][1]} after (a floor "
        "under load, not a quiet-machine figure).",
        "",
        "| measure | median [95% CI] | max |",
        "|---|---|---|",
    ]
    for key, label in [
        ("full_s", "uncancelled generation, s"),
        ("full_pieces", "uncancelled pieces"),
        ("freed_s", "cancel -> waiting page call gets the slot, s"),
        ("pieces_read", "pieces the cancelled stream delivered"),
        ("next_s", "cancel -> next request answered, s"),
    ]:
        if key in result["summary"]:
            s = result["summary"][key]
            lines.append(
                f"| {label} | {s['median']} [{s['median_ci95'][0]}, {s['median_ci95'][1]}] | "
                f"{s['max']} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", choices=["embedded", "python"], default="embedded")
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--max-tokens", type=int, default=160)
    parser.add_argument("--after", type=int, default=3)
    parser.add_argument("--out", type=Path, required=True, help="path without extension")
    args = parser.parse_args(argv)
    record = provenance(sys.argv)
    load_before = round(os.getloadavg()[0], 2)
    with backend_for(args.runtime, args.model, args.threads) as backend:
        rows = [one_repeat(backend, args.max_tokens, args.after) for _ in range(args.repeats)]
    keys = ["full_s", "full_pieces", "freed_s", "pieces_read", "next_s"]
    result = {
        "runtime": args.runtime,
        "model": args.model,
        "threads": args.threads,
        "repeats": args.repeats,
        "max_tokens": args.max_tokens,
        "after": args.after,
        "load_1min": [load_before, round(os.getloadavg()[0], 2)],
        "rows": rows,
        "summary": {k: summarize(rows, k) for k in keys if any(k in r for r in rows)},
        "provenance": record,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n", "utf-8")
    args.out.with_suffix(".md").write_text(markdown(result), "utf-8")
    print(markdown(result))


if __name__ == "__main__":
    main()
