"""Write a newviewer run: ``result.json``, ``per_user.npz``, ``report.md`` and ``ndcg.png``.

Used by ``cinerec evaluate --protocol newviewer`` and ``benchmarks/newviewer.py`` alike.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from cinerec.evaluation.newviewer import NEWVIEWER_KS, set_name
from cinerec.ranking.statements import LANGUAGES
from cinerec.ranking.viewers import DRAWS


def _cell(table: Mapping[str, Any], model: str, key: str) -> str:
    value = table.get(model, {}).get(key, {}).get("ndcg@10")
    if value is None:
        return "-"
    return f"{value['mean']:.3f} [{value['low']:.3f}, {value['high']:.3f}]"


def markdown(result: Mapping[str, Any]) -> str:
    """The report: one NDCG@10 table per draw and language, the language-model subset, the
    validation scores, the targets."""
    table = result["table"]
    models = list(table)
    lines = [
        f"# newviewer on {result['dataset']}",
        "",
        f"Test users {result['test_users']}, validation users {result['validation_users']}, "
        f"split digest `{result['split_digest'][:16]}`. NDCG@10, mean [95% bootstrap interval] "
        "over test users. Retrievers see the ticks only.",
        "",
    ]
    for draw in DRAWS:
        for lang in LANGUAGES:
            lines += [f"## {draw} ticks, {lang} statement", ""]
            lines.append("| model | " + " | ".join(f"k={k}" for k in NEWVIEWER_KS) + " |")
            lines.append("|---|" + "---|" * len(NEWVIEWER_KS))
            for m in models:
                cells = [_cell(table, m, set_name(k, draw, lang)) for k in NEWVIEWER_KS]
                if all(c == "-" for c in cells):
                    continue
                lines.append(f"| {m} | " + " | ".join(cells) + " |")
            lines.append("")
    if result.get("llm_parsed_test_users"):
        lines += [
            f"## language model subset ({result['llm_parsed_test_users']} test users with "
            "parsed statements, popular ticks)",
            "",
            "| model | set | " + " | ".join(f"k={k}" for k in NEWVIEWER_KS) + " |",
            "|---|---|" + "---|" * len(NEWVIEWER_KS),
        ]
        for m in ("ltr", "ltr+llm", "ltr+yesno", "ltr+model", "page-genre", "llm-taste"):
            if m not in table:
                continue
            for lang in LANGUAGES:
                cells = [
                    _cell(table, m, set_name(k, "popular", lang) + "@llm") for k in NEWVIEWER_KS
                ]
                lines.append(f"| {m} | {lang} | " + " | ".join(cells) + " |")
        lines.append("")
    val = result.get("validation", {})
    if val:
        lines += ["## validation (k=3 and 10, popular ticks, both languages)", ""]
        for name, value in val.get("ndcg@10", {}).items():
            lines.append(f"- {name}: NDCG@10 {value:.4f}")
        lines.append(f"- language-model weight chosen: {val.get('llm_weight')}")
        yesno = val.get("yesno")
        if yesno:
            grid = ", ".join(f"{w}: {v:.4f}" for w, v in yesno.get("grid", {}).items())
            calls = yesno.get("calls", {})
            lines.append(
                f"- Yes/No weight chosen: {yesno.get('weight')} (top {yesno.get('top')}; "
                f"validation k=3 cases {yesno.get('validation_cases')}, NDCG@10 by weight: "
                f"{grid}); model calls {calls.get('n')}, fallbacks {calls.get('fallbacks')}, "
                f"{calls.get('seconds', 0.0):.0f} s"
            )
        lines.append("")
    if result.get("latency"):
        lines += ["## latency (seconds)", ""]
        lines += [f"- {k}: {v:.3f}" if isinstance(v, float) else f"- {k}: {v}"
                  for k, v in result["latency"].items()]  # fmt: skip
        lines.append("")
    lines += ["## targets", ""]
    for name, t in result.get("targets", {}).items():
        ratio = t["ratio"]
        extra = ""
        if "paired_difference" in t:
            d = t["paired_difference"]
            extra = f"; paired difference {d['mean']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}]"
        picked = f" (picked on {t['picked_on']} users)" if "picked_on" in t else ""
        lines.append(
            f"- {'MET' if t['met'] else 'MISSED'}: {name}: {t.get('model', '')}{picked} ratio "
            f"{ratio['mean']:.2f} [{ratio['low']:.2f}, {ratio['high']:.2f}]{extra}"
        )
    return "\n".join(lines) + "\n"


def plot(result: Mapping[str, Any], path: Path) -> str | None:
    """NDCG@10 by k (popular ticks, English) per model; returns a note if matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "the plot needs the 'evaluation' extra: pip install -e '.[evaluation]'"
    table = result["table"]
    fig, ax = plt.subplots(figsize=(8, 5))
    for model, sets in table.items():
        points = [
            (k, sets[set_name(k, "popular", "en")]["ndcg@10"])
            for k in NEWVIEWER_KS
            if set_name(k, "popular", "en") in sets
        ]
        if not points or (model.startswith("ltr-") and model != "ltr-statement"):
            continue
        ks = [p[0] for p in points]
        ax.errorbar(
            ks,
            [p[1]["mean"] for p in points],
            yerr=[
                [p[1]["mean"] - p[1]["low"] for p in points],
                [p[1]["high"] - p[1]["mean"] for p in points],
            ],
            marker="o",
            capsize=3,
            label=model,
        )
    ax.set_xlabel("ticked movies (drawn by popularity)")
    ax.set_ylabel("NDCG@10 (95% CI)")
    ax.set_title(f"newviewer on {result['dataset']}, English statements")
    ax.set_xticks(list(NEWVIEWER_KS))
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def write_newviewer(
    result: dict[str, Any], arrays: Mapping[str, np.ndarray], out_dir: Path
) -> list[str]:
    """Write the four files; returns notes (e.g. a missing plotting extra)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out_dir / "per_user.npz", **arrays)  # type: ignore[arg-type]
    note = plot(result, out_dir / "ndcg.png")
    notes = [note] if note else []
    (out_dir / "report.md").write_text(markdown(result), encoding="utf-8")
    (out_dir / "result.json").write_text(
        json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return notes
