"""llama-server's grammar cost: the same reason requests to a stock and a patched llama-server.

Both binaries are llama.cpp's ``llama-server`` from the llama-cpp-python sdist that cinerec
pins; ``--patched`` is the one ``scripts/build-llama-server.sh`` builds, with
``scripts/llama-server-greedy-grammar.patch`` (a rejected greedy token is replaced by the best
allowed one of the 64 highest logits before the whole vocabulary is checked), ``--stock`` one
built from the same source without it. Each serves the same model with ``--slots`` parallel
slots; the run sends it the same reason requests as the page sends them (the product's prompt
and card grammar, :func:`cinerec.llm.reasons.card_schema`, temperature 0, the token cap),
English and Korean cards drawn as ``benchmarks/words.py`` draws them, ``--concurrency`` at a
time. Recorded per request: the server's own timings (prompt and generated tokens and ms) and
the wall time; per server: milliseconds per generated token, p50 and p95 of the wall time.

The patch must not change what is written: the texts of the two servers are compared card by
card, and every differing card is counted and listed (greedy decoding; a difference means the
patch changed the choice, or the servers' arithmetic differs between batches).

    python benchmarks/load/server_grammar.py --stock <path>/llama-server --cards 24 \\
        --out benchmarks/results/load/server_grammar
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # benchmarks.* as a script

from benchmarks.provenance import markdown_header, provenance  # noqa: E402


def requests(cards: int, seed: int) -> list[dict[str, Any]]:
    """``cards`` reason requests (messages and schema) as the page would send them."""
    from benchmarks.llm_requests import request_pools
    from benchmarks.words import _plans
    from cinerec.data.catalog import load_catalog
    from cinerec.data.paths import resolve_data_dir
    from cinerec.llm.evidence import build_evidence
    from cinerec.llm.reasons import _MAX_TOKENS, _messages, card_schema

    catalog = {m.movie_id: m for m in load_catalog(resolve_data_dir())}
    popular, history_ids = request_pools(catalog)
    rng = np.random.default_rng(seed)
    out = []
    for _, language, taste in _plans(cards, seed):
        history = [catalog[i] for i in history_ids[int(rng.integers(len(history_ids)))]]
        seen = {m.movie_id for m in history}
        card = next(catalog[int(i)] for i in rng.permutation(popular) if int(i) not in seen)
        evidence = build_evidence(card, history, taste=taste, language=language)
        out.append(
            {
                "movie_id": card.movie_id,
                "language": language,
                "messages": _messages(evidence, language),
                "schema": card_schema(language, evidence, history),
                "max_tokens": _MAX_TOKENS[language],
            }
        )
    return out


def serve(binary: str, args: argparse.Namespace, cards: list[dict[str, Any]]) -> dict[str, Any]:
    """Start ``binary`` and send it every card, ``args.concurrency`` at a time."""
    from cinerec.config import Settings
    from cinerec.llm.backends.openai_http import OpenAICompatibleBackend
    from cinerec.llm.models import locate_gguf
    from cinerec.llm.server import ServerSpec, running_server

    cache_dir = Settings(llm_backend="none").cache_dir
    spec = ServerSpec(
        locate_gguf(args.model, cache_dir), args.model, port=0, parallel=args.slots,
        n_ctx=4096, threads=args.threads, runtime="llama-server", binary=binary,
        cache_dir=cache_dir,
    )  # fmt: skip
    with running_server(spec, timeout_s=300) as server:
        client = OpenAICompatibleBackend(server.base_url, spec.alias)

        def one(card: dict[str, Any]) -> dict[str, Any]:
            payload = client._payload(
                card["messages"], schema=card["schema"], max_tokens=card["max_tokens"],
                temperature=0.0, stream=False,
            )  # fmt: skip
            start = time.perf_counter()
            reply = httpx.post(client.url, json=payload, timeout=600).json()
            timings = reply.get("timings", {})
            return {
                "movie_id": card["movie_id"],
                "language": card["language"],
                "wall_s": round(time.perf_counter() - start, 3),
                "prompt_n": timings.get("prompt_n"),
                "prompt_ms": timings.get("prompt_ms"),
                "predicted_n": timings.get("predicted_n"),
                "predicted_ms": timings.get("predicted_ms"),
                "text": reply["choices"][0]["message"]["content"],
            }

        one(cards[0])  # the first request pays start-up costs; not counted
        with ThreadPoolExecutor(args.concurrency) as pool:
            rows = list(pool.map(one, cards))
    return {"binary": binary, "rows": rows, **summary(rows)}


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    walls = [r["wall_s"] for r in rows]
    tokens = sum(r["predicted_n"] or 0 for r in rows)
    ms = sum(r["predicted_ms"] or 0.0 for r in rows)
    return {
        "ms_per_generated_token": round(ms / tokens, 1) if tokens else None,
        "generated_tokens": tokens,
        "wall_s_p50": round(float(np.percentile(walls, 50)), 3),
        "wall_s_p95": round(float(np.percentile(walls, 95)), 3),
        "wall_s_total": round(sum(walls), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stock", required=True, help="llama-server built without the patch")
    parser.add_argument("--patched", default=None, help="default: the one cinerec finds")
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--cards", type=int, default=24)
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/load/server_grammar"))
    args = parser.parse_args()

    from cinerec.config import Settings
    from cinerec.llm.server import llama_server_binary

    patched = args.patched or llama_server_binary(None, Settings(llm_backend="none").cache_dir)
    if patched is None:
        parser.error("no patched llama-server: run scripts/build-llama-server.sh")
    cards = requests(args.cards, args.seed)
    runs = {"stock": serve(args.stock, args, cards), "patched": serve(patched, args, cards)}
    differ = [
        {"movie_id": a["movie_id"], "stock": a["text"], "patched": b["text"]}
        for a, b in zip(runs["stock"]["rows"], runs["patched"]["rows"], strict=True)
        if a["text"] != b["text"]
    ]
    s, p = runs["stock"], runs["patched"]
    result = {
        "provenance": provenance(["benchmarks/load/server_grammar.py", *sys.argv[1:]]),
        "setup": {k: v for k, v in vars(args).items() if k not in ("stock", "patched", "out")},
        "texts_differing": len(differ),
        "differing": differ,
        "ms_per_token_ratio": round(p["ms_per_generated_token"] / s["ms_per_generated_token"], 3),
        "runs": {k: {**v, "binary": Path(v["binary"]).name} for k, v in runs.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    lines = [
        "# llama-server: reason requests with and without the greedy-grammar patch",
        "",
        markdown_header(result["provenance"]),
        f"{len(cards)} reason requests (English and Korean in turn; the product's prompt and card "
        f"grammar, temperature 0), {args.concurrency} at a time, to `{args.model}` on "
        f"llama-server with {args.slots} slots and {args.threads} threads; the first request "
        "of each server is not counted.",
        "",
        "| server | ms per generated token | generated tokens | wall p50 s | wall p95 s | "
        "wall total s |",
        "|---|---|---|---|---|---|",
    ]
    for name, run in runs.items():
        lines.append(
            f"| {name} | {run['ms_per_generated_token']} | {run['generated_tokens']} | "
            f"{run['wall_s_p50']} | {run['wall_s_p95']} | {run['wall_s_total']} |"
        )
    lines += [
        "",
        f"Patched over stock, ms per generated token: {result['ms_per_token_ratio']}x. "
        f"Texts differing: {len(differ)} of {len(cards)}.",
        "",
    ]
    args.out.with_suffix(".md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
