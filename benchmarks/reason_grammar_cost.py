"""What the English reasons' word list costs in time: the same cards, with and without it.

    python benchmarks/reason_grammar_cost.py --cards 40 --threads 2

Draws English cards as ``benchmarks/words.py generate`` does (its plan, seed and ticked
histories) and, for each card, writes its reason twice with the product's prompt and settings
(:func:`cinerec.llm.reasons.card_schema`, temperature 0, the English token cap): once with the
card's grammar (the word list of :mod:`cinerec.llm.reason_words`) and once with the same
grammar without the word list; the order alternates by card. Writes
``benchmarks/results/reason_grammar_cost.json`` and ``.md``: seconds per reason (p50, p90) for
each, and the paired ratio of their medians over cards with a 95 % bootstrap interval. Both
arms run in one process on one loaded model, so machine load hits both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.* as a script

from benchmarks.provenance import markdown_header, provenance  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--cards", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", default="reason_grammar_cost")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    from benchmarks.llm_requests import request_inputs
    from benchmarks.words import _plans
    from cinerec.llm.evidence import build_evidence
    from cinerec.llm.reasons import _MAX_TOKENS, _messages, card_schema
    from cinerec.llm.schemas import ReasonOut, parse_reply

    catalog, popular, histories, backend = request_inputs(args.model, args.threads)
    rng = np.random.default_rng(args.seed)
    rows = []
    for _, language, taste in _plans(args.cards, args.seed):
        history = histories[int(rng.integers(len(histories)))]
        seen = {m.movie_id for m in history}
        card = next(catalog[int(i)] for i in rng.permutation(popular) if int(i) not in seen)
        if language != "en":
            continue
        evidence = build_evidence(card, history, taste=taste, language="en")
        messages = _messages(evidence, "en")
        with_words = card_schema("en", evidence, history)
        pattern = with_words["properties"]["reason"]["pattern"]
        free = card_schema("en", evidence, history, word_list=False)
        arms = [("words", with_words), ("free", free)]
        if len(rows) % 2:
            arms.reverse()
        row: dict = {"movie_id": card.movie_id, "pattern_chars": len(pattern)}
        for name, schema in arms:
            start = time.perf_counter()
            done = backend.complete(
                messages, schema=schema, max_tokens=_MAX_TOKENS["en"], temperature=0.0,
                timeout_s=300,
            )  # fmt: skip
            row[name] = time.perf_counter() - start
            row[f"{name}_text"] = parse_reply(done.text, ReasonOut).reason
        rows.append(row)
        print(
            f"{row['movie_id']}: words {row['words']:.2f} s, free {row['free']:.2f} s", flush=True
        )
    words = np.array([r["words"] for r in rows])
    free = np.array([r["free"] for r in rows])
    boot = np.random.default_rng(0)
    idx = boot.integers(len(rows), size=(2000, len(rows)))
    ratios = np.median(words[idx], axis=1) / np.median(free[idx], axis=1)
    summary = {
        "cards": len(rows),
        "words_p50": float(np.median(words)),
        "words_p90": float(np.quantile(words, 0.9)),
        "free_p50": float(np.median(free)),
        "free_p90": float(np.quantile(free, 0.9)),
        "p50_ratio": float(np.median(words) / np.median(free)),
        "p50_ratio_ci": [float(np.quantile(ratios, 0.025)), float(np.quantile(ratios, 0.975))],
    }
    record = provenance(["benchmarks/reason_grammar_cost.py", *sys.argv[1:]])
    out = Path(__file__).resolve().parent / "results" / args.out
    result = {"provenance": record, "summary": summary, "rows": rows}
    out.with_name(out.name + ".json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    s = summary
    text = markdown_header(record) + (
        f"\n{s['cards']} English cards, model `{args.model}`, {args.threads} threads.\n\n"
        f"| grammar | p50 s | p90 s |\n|---|---|---|\n"
        f"| with the word list | {s['words_p50']:.2f} | {s['words_p90']:.2f} |\n"
        f"| without it | {s['free_p50']:.2f} | {s['free_p90']:.2f} |\n\n"
        f"p50 ratio {s['p50_ratio']:.2f} [{s['p50_ratio_ci'][0]:.2f}, "
        f"{s['p50_ratio_ci'][1]:.2f}] (bootstrap over cards).\n"
    )
    out.with_name(out.name + ".md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
