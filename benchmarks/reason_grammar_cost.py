"""What the English reasons' word list costs in time: the same cards, with and without it.

    python benchmarks/reason_grammar_cost.py --cards 40 --threads 2

Draws English cards as ``benchmarks/words.py generate`` does (its plan, seed and ticked
histories) and, for each card, writes its reason twice with the product's prompt and settings
(:func:`cinerec.llm.reasons.card_schema`, temperature 0, the English token cap): once with the
card's grammar (the word list of :mod:`cinerec.llm.reason_words`) and once with the same
grammar without the word list; the order alternates by card. With ``--baseline REV`` a third
arm writes it with the card grammar of ``src/cinerec/llm/reasons.py`` at git revision ``REV``
(an earlier grammar against the current one). Writes ``benchmarks/results/<out>.json`` and
``.md``: seconds per reason (p50, p90) for each, and the paired ratio of the medians over
cards with a 95 % bootstrap interval. All arms run in one process on one loaded model, so
machine load hits them alike.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.* as a script

from benchmarks.provenance import markdown_header, provenance  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def baseline_card_schema(rev: str) -> Callable[..., dict]:
    """``card_schema`` of ``src/cinerec/llm/reasons.py`` at git revision ``rev``, loaded as a
    module of its own beside the current one."""
    source = subprocess.run(
        ["git", "show", f"{rev}:src/cinerec/llm/reasons.py"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    module = types.ModuleType("reasons_baseline")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{rev}:reasons.py", "exec"), module.__dict__)  # noqa: S102 - our repo
    return module.card_schema


def _ratio(a: np.ndarray, b: np.ndarray) -> tuple[float, list[float]]:
    """The ratio of the medians of ``a`` and ``b`` (paired by card), with a 95 % bootstrap
    interval over cards."""
    from cinerec.evaluation.bootstrap import bootstrap_statistic_ci

    ci = bootstrap_statistic_ci(
        lambda idx: np.median(a[idx], axis=1) / np.median(b[idx], axis=1),
        float(np.median(a) / np.median(b)),
        len(a),
        resamples=2000,
    )
    return ci.mean, [ci.low, ci.high]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--cards", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", default="reason_grammar_cost")
    parser.add_argument("--baseline", help="a git revision: its card grammar as a third arm")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    from benchmarks.llm_requests import request_inputs
    from benchmarks.words import _plans
    from cinerec.llm.evidence import build_evidence
    from cinerec.llm.reasons import _MAX_TOKENS, _messages, card_schema
    from cinerec.llm.schemas import ReasonOut, parse_reply

    baseline = baseline_card_schema(args.baseline) if args.baseline else None
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
        row: dict = {"movie_id": card.movie_id, "pattern_chars": len(pattern)}
        if baseline is not None:
            before = baseline("en", evidence, history)
            arms.append(("baseline", before))
            row["baseline_pattern_chars"] = len(before["properties"]["reason"]["pattern"])
        turn = len(rows) % len(arms)
        arms = arms[turn:] + arms[:turn]
        for name, schema in arms:
            start = time.perf_counter()
            done = backend.complete(
                messages, schema=schema, max_tokens=_MAX_TOKENS["en"], temperature=0.0,
                timeout_s=300,
            )  # fmt: skip
            row[name] = time.perf_counter() - start
            row[f"{name}_text"] = parse_reply(done.text, ReasonOut).reason
        rows.append(row)
        print(", ".join(f"{name} {row[name]:.2f} s" for name, _ in arms), flush=True)
    words = np.array([r["words"] for r in rows])
    free = np.array([r["free"] for r in rows])
    ratio, ratio_ci = _ratio(words, free)
    summary = {
        "cards": len(rows),
        "words_p50": float(np.median(words)),
        "words_p90": float(np.quantile(words, 0.9)),
        "free_p50": float(np.median(free)),
        "free_p90": float(np.quantile(free, 0.9)),
        "p50_ratio": ratio,
        "p50_ratio_ci": ratio_ci,
    }
    if baseline is not None:
        before = np.array([r["baseline"] for r in rows])
        ratio, ratio_ci = _ratio(words, before)
        summary.update(
            baseline=args.baseline,
            baseline_p50=float(np.median(before)),
            baseline_p90=float(np.quantile(before, 0.9)),
            baseline_ratio=ratio,
            baseline_ratio_ci=ratio_ci,
        )
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
    if baseline is not None:
        text += (
            f"\nWith the word list as at `{s['baseline']}`: p50 {s['baseline_p50']:.2f} s, p90 "
            f"{s['baseline_p90']:.2f} s; p50 ratio now/then {s['baseline_ratio']:.2f} "
            f"[{s['baseline_ratio_ci'][0]:.2f}, {s['baseline_ratio_ci'][1]:.2f}].\n"
        )
    out.with_name(out.name + ".md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
