"""Words that are true: real-model reasons and personas scored by the fact checker.

``generate`` writes pages as the platform does (a persona, then a reason for each of ``--cards``
cards, evidence-first prompts) with the real embedded model and stores, per text, the model's raw
reply and everything needed to check it (the viewer's profile, ticked movie ids, the card, the
page). Pages alternate English/Korean and red-team/ordinary taste inputs (red-team inputs from
``tests/llm/redteam.py``, ordinary ones from ``benchmarks/llm_requests.py``); genders cycle
unspecified, female, male, other. Rows are appended as they are made, so a run can be stopped
and resumed.

``report`` scores every stored text, RAW (the model's reply before any repair) and SHOWN (what
the product's repair makes of it, recomputed from the raw reply with the current code), with the
fact checker (:mod:`cinerec.llm.facts`) against the whole catalog; adds the one-line reviews
of stored post runs (``benchmarks/results/posts_rerun10.json``, raw replies); scores the
hand-labelled gold set (``benchmarks/data/words_gold.jsonl``) for the checker's precision and
recall; and measures page overlap and the specific-fact rate (defined in :func:`page_overlap`
and :func:`cites_specific_fact`) beside the same measures on the stored reasons of the earlier
request runs (``benchmarks/results/llm_requests*.jsonl``).

    nice -n 10 python benchmarks/words.py generate --pages 40 --threads 1
    python benchmarks/words.py report
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.*, tests.llm.redteam

from benchmarks.llm_requests import ORDINARY  # noqa: E402
from cinerec.data.catalog import load_catalog  # noqa: E402
from cinerec.data.movielens import load_ratings  # noqa: E402
from cinerec.data.paths import resolve_data_dir  # noqa: E402
from tests.llm.redteam import REDTEAM  # noqa: E402

RESULTS = Path("benchmarks/results")
ROWS = RESULTS / "words.jsonl"
GOLD = Path("benchmarks/data/words_gold.jsonl")
GENDERS = ("unspecified", "female", "male", "other")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _plans(n: int, seed: int) -> list[tuple[str, str, str]]:
    """``(kind, language, taste)``: English and Korean pages in turn, red-team and ordinary
    inputs in turn within each language."""
    rng = np.random.default_rng(seed)
    pools: dict[tuple[str, bool], list[tuple[str, str]]] = {}
    for kind, text in REDTEAM:
        pools.setdefault(("ko" if HANGUL.search(text) else "en", True), []).append((kind, text))
    for language, text in ORDINARY:
        pools.setdefault((language, False), []).append(("ordinary", text))
    cycles = {k: itertools.cycle([v[i] for i in rng.permutation(len(v))]) for k, v in pools.items()}
    plans = []
    for p in range(n):
        language = "en" if p % 2 == 0 else "ko"
        red = (p // 2) % 2 == 0
        kind, taste = next(cycles[(language, red)])
        plans.append((kind, language, taste))
    return plans


def generate(args: argparse.Namespace) -> None:
    """Write ``--pages`` pages with the real model; rows go to ``words.jsonl`` as made."""
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    from cinerec.config import Settings
    from cinerec.llm.backends.llamacpp import LlamaCppBackend
    from cinerec.llm.models import locate_gguf
    from cinerec.llm.persona import UserProfile, write_persona
    from cinerec.llm.reasons import write_reasons

    data_dir = resolve_data_dir()
    catalog = {m.movie_id: m for m in load_catalog(data_dir)}
    ratings = load_ratings(data_dir, "ml-latest-small").frame
    popular = [int(i) for i in ratings["item_id"].value_counts().index if int(i) in catalog][:300]
    liked = ratings[ratings["rating"] >= 4].sort_values("timestamp")
    histories = [
        [catalog[int(i)] for i in group["item_id"].tail(8) if int(i) in catalog]
        for _, group in liked.groupby("user_id")
    ]
    rng = np.random.default_rng(args.seed)
    path = locate_gguf(args.model, Settings(llm_backend="none").cache_dir)
    backend = LlamaCppBackend(
        path, n_threads=args.threads, n_ctx=4096, seed=42, model_name=args.model
    )
    backend.load()
    done = {r["page"] for r in _rows(ROWS)}
    with ROWS.open("a", encoding="utf-8") as sink:
        for p, (kind, language, taste) in enumerate(_plans(args.pages, args.seed)):
            history = histories[int(rng.integers(len(histories)))]
            seen = {m.movie_id for m in history}
            cards = [catalog[int(i)] for i in rng.permutation(popular) if int(i) not in seen]
            cards = cards[: args.cards]
            if p in done:
                continue
            gender = GENDERS[(p // 4) % len(GENDERS)]
            profile = UserProfile("Viewer", 30, gender, taste, language)
            base = {
                "page": p,
                "kind": kind,
                "language": language,
                "gender": gender,
                "taste": taste,
                "history": [m.movie_id for m in history],
                "cards": [m.movie_id for m in cards],
                "model": args.model,
                "threads": args.threads,
            }
            start = time.perf_counter()
            persona = write_persona(backend, profile, history, timeout_s=args.timeout)
            rows = [
                {
                    **base,
                    "type": "persona",
                    "movie_id": None,
                    "raw_text": persona.raw_text,
                    "text": persona.text,
                    "fallback": persona.fallback,
                    "seconds": round(time.perf_counter() - start, 2),
                }
            ]
            for reason in write_reasons(
                backend, profile, persona.text, history, cards, timeout_s=args.timeout * len(cards)
            ):
                rows.append(
                    {
                        **base,
                        "type": "reason",
                        "movie_id": reason.movie_id,
                        "raw_text": reason.raw_text,
                        "text": reason.text,
                        "fallback": reason.error is not None,
                        "seconds": round(reason.elapsed_s, 2),
                    }
                )
            for row in rows:
                sink.write(json.dumps(row, ensure_ascii=False) + "\n")
            sink.flush()
            print(
                f"[{p + 1}/{args.pages}] {kind} {language}: {time.perf_counter() - start:.0f} s",
                flush=True,
            )


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate")
    gen.add_argument("--model", default="qwen2.5-coder-1.5b")
    gen.add_argument("--pages", type=int, default=40)
    gen.add_argument("--cards", type=int, default=5)
    gen.add_argument("--threads", type=int, default=1)
    gen.add_argument("--seed", type=int, default=11)
    gen.add_argument("--timeout", type=float, default=120.0)
    sub.add_parser("report")
    args = parser.parse_args()
    if args.command == "generate":
        generate(args)
    else:
        report(args)


def report(args: argparse.Namespace) -> None:  # filled in below
    raise NotImplementedError


if __name__ == "__main__":
    main()
