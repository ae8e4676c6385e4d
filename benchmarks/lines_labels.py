"""False one-liners and personas by a reader's hand labels, before and after, with intervals.

Reads the hand labels (``--labels``, jsonl: ``run``, ``text``, ``accepted``, ``false``,
``note``; one row per raw model reply) and the replay files they label (``--runs
name=path``, ``post_lines.py`` results), and writes a table per run: raw replies read, false
by the reader (95 % Wilson interval), the same for the lines the product accepted (shown), the
movies whose shown line is the flagged synopsis fallback, and, beside the reader, the product's
own fact checker (:func:`cinerec.llm.facts.false_facts`) on the same raw replies. Only the
rows of a replay file that the labels cover are counted (``replay rows``: indices in the
replay file, not in the stored post run).

    python benchmarks/lines_labels.py --labels benchmarks/data/lines_labels_v5.jsonl \\
        --runs before=benchmarks/results/post_lines_v5_main.json \\
        --runs after=benchmarks/results/post_lines_v5.json --out benchmarks/results/lines_v5
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.*

from benchmarks.checks.persona_text import wilson  # noqa: E402
from benchmarks.provenance import markdown_header, provenance  # noqa: E402
from cinerec.data.catalog import load_catalog  # noqa: E402
from cinerec.data.paths import resolve_data_dir  # noqa: E402
from cinerec.llm.facts import false_facts  # noqa: E402


def _rate(k: int, n: int) -> str:
    lo, hi = wilson(k, n)
    return f"{k}/{n} = {k / n:.2f} [{lo:.2f}, {hi:.2f}]" if n else "0/0"


def summarize(name: str, path: Path, labels: list[dict[str, Any]], catalog: dict) -> dict:
    rows = json.loads(path.read_text(encoding="utf-8"))["rows"]
    mine = [r for r in labels if r["run"] == name]
    covered = sorted({int(r["id"].split("/")[1].removeprefix("row")) for r in mine})
    movies = sum(len(rows[k]["ids"]) for k in covered)
    fallbacks = sum(rows[k]["fallbacks"] for k in covered)
    checker = 0
    for k in covered:
        row = rows[k]
        for call, text in row["raw_outputs"]:
            movie = catalog[int(call.split()[1])]
            try:
                review = json.loads(text).get("review", "")
            except json.JSONDecodeError:  # a reply cut by max_tokens
                review = text.split('"review": "', 1)[-1]
            if false_facts(review, [movie], language=row["language"], subject=movie):
                checker += 1
    raw_false = sum(r["false"] for r in mine)
    shown = [r for r in mine if r["accepted"]]
    shown_false = sum(r["false"] for r in shown)
    return {
        "run": name,
        "file": path.as_posix(),
        "rows": covered,
        "raw_read": len(mine),
        "raw_false": raw_false,
        "raw_false_ci": wilson(raw_false, len(mine)),
        "shown_model_lines": len(shown),
        "shown_false": shown_false,
        "shown_false_ci": wilson(shown_false, len(shown)),
        "movies": movies,
        "flagged_fallbacks": fallbacks,
        "flagged_fallbacks_ci": wilson(fallbacks, movies),
        "checker_false_raw": checker,
        "false_notes": [f"{r['id']}: {r['text']} -- {r['note']}" for r in mine if r["false"]],
    }


def persona_summary(path: Path) -> list[dict[str, Any]]:
    """Per run: personas read, raw and shown false by the reader, flagged template fallbacks."""
    labels = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x]
    out = []
    for run in dict.fromkeys(r["run"] for r in labels):
        mine = [r for r in labels if r["run"] == run]
        out.append(
            {
                "run": run,
                "read": len(mine),
                "raw_false": sum(r["raw_false"] for r in mine),
                "shown_false": sum(r["shown_false"] for r in mine),
                "fallbacks": sum(r["fallback"] for r in mine),
                "notes": [
                    f"page {r['page']} ({r['kind']}, {r['language']}): raw "
                    f"{'FALSE' if r['raw_false'] else 'ok'}, shown "
                    f"{'FALSE' if r['shown_false'] else 'ok'}"
                    f"{' (template)' if r['fallback'] else ''}: {r['note']}"
                    for r in mine
                ],
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--labels", type=Path, required=True)
    parser.add_argument("--runs", action="append", required=True, help="name=post_lines file")
    parser.add_argument("--personas", type=Path, help="persona labels (persona_replay rows)")
    parser.add_argument("--out", type=Path, required=True, help="writes <out>.json and .md")
    args = parser.parse_args()
    labels = [json.loads(x) for x in args.labels.read_text(encoding="utf-8").splitlines() if x]
    catalog = {m.movie_id: m for m in load_catalog(resolve_data_dir())}
    runs = [summarize(*spec.split("=", 1)[0:1], Path(spec.split("=", 1)[1]), labels, catalog)
            for spec in args.runs]  # fmt: skip
    personas = persona_summary(args.personas) if args.personas else []
    record = {"provenance": provenance(), "runs": runs, "personas": personas}
    args.out.with_suffix(".json").write_text(
        json.dumps(record, ensure_ascii=False, indent=1) + "\n", "utf-8"
    )
    lines = [markdown_header(record["provenance"]), ""]
    lines += [
        "| run | replay rows | raw replies read | false by the reader | shown model lines "
        "| shown false | movies | flagged synopsis fallbacks | checker false (raw) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        lines.append(
            f"| {r['run']} | {r['rows']} | {r['raw_read']} | {_rate(r['raw_false'], r['raw_read'])}"
            f" | {r['shown_model_lines']} | {_rate(r['shown_false'], r['shown_model_lines'])}"
            f" | {r['movies']} | {_rate(r['flagged_fallbacks'], r['movies'])}"
            f" | {r['checker_false_raw']} |"
        )
    for r in runs:
        lines += ["", f"False by the reader, {r['run']}:", ""]
        lines += [f"- {note}" for note in r["false_notes"]] or ["- none"]
    if personas:
        lines += [
            "",
            "| personas | read | raw false by the reader | shown false | shown is the flagged "
            "template |",
            "|---|---|---|---|---|",
        ]
        for p in personas:
            lines.append(
                f"| {p['run']} | {p['read']} | {_rate(p['raw_false'], p['read'])}"
                f" | {_rate(p['shown_false'], p['read'])} | {_rate(p['fallbacks'], p['read'])} |"
            )
        for p in personas:
            lines += ["", f"Personas, {p['run']}:", ""]
            lines += [f"- {note}" for note in p["notes"]]
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n", "utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
