"""Two runs of ``chat_qa.py`` on the same questions, compared question by question.

For each kind/language cell and each measure (raw correct, shown correct, raw and shown
false by the checker, template fallback, model-written), the count in each run with its 95%
Wilson interval, the questions that changed each way (became true, became false), the paired
difference with its 95% bootstrap interval, and McNemar's exact p (a binomial test on the
questions that changed). Only questions both
runs answered are compared. ``--labels`` adds ``correct_raw_read``: a person's reading of the raw
answers (JSONL rows ``{"tag", "qid", "correct", "note"}``), where both runs are labelled.

    python benchmarks/chat_qa_paired.py --before 0.5b_compare_before --after 0.5b_compare_lead \
        --tag compare_lead
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.stats import binomtest

from benchmarks.provenance import markdown_header, provenance
from cinerec.evaluation.bootstrap import paired_difference_ci
from cinerec.reviews.metrics import wilson_interval

RESULTS = Path(__file__).parent / "results"
MEASURES = (
    "correct_raw",
    "correct_shown",
    "false_raw",
    "false_shown",
    "fallback",
    "model_written",
)


def load_rows(tag: str) -> dict[int, dict]:
    """The stored rows of ``chat_qa_TAG.rows.jsonl`` by question id."""
    path = RESULTS / f"chat_qa_{tag}.rows.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return {int(r["qid"]): r for r in rows}


def compare(before: list[bool], after: list[bool]) -> dict:
    """Counts, intervals, changes each way, the paired difference and McNemar's exact p."""
    n = len(before)
    gained = sum(1 for b, a in zip(before, after, strict=True) if a and not b)
    lost = sum(1 for b, a in zip(before, after, strict=True) if b and not a)
    diff = paired_difference_ci(np.array(after, float), np.array(before, float))
    p = binomtest(gained, gained + lost).pvalue if gained + lost else 1.0

    def rate(values: list[bool]) -> dict:
        lo, hi = wilson_interval(sum(values), n)
        return {"k": sum(values), "n": n, "ci95": [round(lo, 3), round(hi, 3)]}

    return {
        "before": rate(before),
        "after": rate(after),
        "gained": gained,
        "lost": lost,
        "difference": round((sum(after) - sum(before)) / n, 3),
        "difference_ci95": [round(diff.low, 3), round(diff.high, 3)],
        "mcnemar_p": float(f"{p:.2g}"),
    }


def add_labels(rows: dict[int, dict], labels: list[dict], tag: str) -> None:
    """Put the reading of ``tag``'s raw answers into its rows as ``correct_raw_read``."""
    for label in labels:
        if label["tag"] == tag and int(label["qid"]) in rows:
            rows[int(label["qid"])]["correct_raw_read"] = bool(label["correct"])


def paired_report(before: dict[int, dict], after: dict[int, dict]) -> dict[str, dict]:
    """Every cell (kind/language, kind/all, all/language, all/all) and measure."""
    common = sorted(set(before) & set(after))
    read = all("correct_raw_read" in before[q] and "correct_raw_read" in after[q] for q in common)
    measures = (*MEASURES, "correct_raw_read") if read and common else MEASURES
    cells: dict[str, dict] = {}
    kinds = sorted({before[q]["kind"] for q in common})
    languages = sorted({before[q]["language"] for q in common})
    for kind in [*kinds, "all"]:
        for language in [*languages, "all"]:
            ids = [
                q
                for q in common
                if kind in ("all", before[q]["kind"]) and language in ("all", before[q]["language"])
            ]
            if ids:
                cells[f"{kind}/{language}"] = {
                    m: compare(
                        [bool(before[q].get(m)) for q in ids], [bool(after[q].get(m)) for q in ids]
                    )
                    for m in measures
                }
    return cells


def write_markdown(path: Path, report: dict) -> None:
    lines = [
        f"# Chat QA, paired: {report['before']} -> {report['after']}",
        "",
        markdown_header(report["provenance"]),
        "| cell | measure | before [95% CI] | after [95% CI] | became true | became false "
        "| difference [95% CI] | McNemar p |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for cell, measures in report["cells"].items():
        for measure, r in measures.items():
            b, a = r["before"], r["after"]
            lines.append(
                f"| {cell} | {measure} | {b['k']}/{b['n']} [{b['ci95'][0]}, {b['ci95'][1]}] "
                f"| {a['k']}/{a['n']} [{a['ci95'][0]}, {a['ci95'][1]}] | {r['gained']} "
                f"| {r['lost']} | {r['difference']:+.3f} [{r['difference_ci95'][0]}, "
                f"{r['difference_ci95'][1]}] | {r['mcnemar_p']} |"
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", required=True, help="tag of the first run's rows")
    parser.add_argument("--after", required=True, help="tag of the second run's rows")
    parser.add_argument("--tag", required=True, help="suffix of the result file names")
    parser.add_argument("--labels", type=Path, default=None, help="JSONL readings of raw answers")
    args = parser.parse_args(argv)
    before, after = load_rows(args.before), load_rows(args.after)
    if args.labels:
        labels = [json.loads(x) for x in args.labels.read_text(encoding="utf-8").splitlines() if x]
        add_labels(before, labels, args.before)
        add_labels(after, labels, args.after)
    report = {
        "before": args.before,
        "after": args.after,
        "provenance": provenance(
            sys.argv if argv is None else ["benchmarks/chat_qa_paired.py", *argv]
        ),
        "cells": paired_report(before, after),
    }
    stem = RESULTS / f"chat_qa_paired_{args.tag}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    write_markdown(stem.with_suffix(".md"), report)
    print(stem.with_suffix(".md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
