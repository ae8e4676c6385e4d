"""Two runs' raw texts for the same sample ids, read blind in one shuffled file: the counts.

    python benchmarks/words_blind_pairs.py benchmarks/data/words_blind_pairs_<runs>.jsonl

Each line of the labels file is one raw text a reader labelled without knowing its run (both
runs' texts for one sample id are shuffled into one file): ``run``, ``sample_id``, ``false``,
``garbled``, ``note``. Writes ``benchmarks/results/<file stem>.json`` and ``.md``: per run, the
false and garbled counts with 95 % Wilson intervals; paired over the sample ids, how many are
false (or garbled) in one run only and in both, with an exact two-sided sign test (McNemar) on
the discordant pairs; and how often the reader gave the same labels to a text both runs wrote
word for word (the reader's consistency).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.* as a script

from scipy.stats import binomtest  # noqa: E402

from benchmarks.provenance import markdown_header, provenance  # noqa: E402
from cinerec.evaluation.bootstrap import wilson_interval  # noqa: E402

LABELS = ("false", "garbled")


def sign_test(only_a: int, only_b: int) -> float:
    """Exact two-sided p of ``only_a`` against ``only_b`` discordant pairs (McNemar)."""
    n = only_a + only_b
    return float(binomtest(only_a, n).pvalue) if n else 1.0


def summarize(rows: list[dict], labels: Sequence[str] = LABELS) -> dict:
    """The counts described in the module docstring, for each of ``labels`` (a row's boolean
    fields; ``benchmarks/copula_claims.py`` passes its measures)."""
    runs = sorted({r["run"] for r in rows})
    if len(runs) != 2:
        raise SystemExit(f"expected two runs, got {runs}")
    by_id: dict[str, dict[str, dict]] = {}
    for r in rows:
        by_id.setdefault(r["sample_id"], {})[r["run"]] = r
    pairs = [p for p in by_id.values() if len(p) == 2]
    out: dict = {"runs": runs, "pairs": len(pairs), "per_run": {}, "paired": {}}
    for run in runs:
        mine = [p[run] for p in pairs]
        out["per_run"][run] = {
            label: {"k": (k := sum(bool(r[label]) for r in mine)), "n": len(mine),
                    "ci": list(wilson_interval(k, len(mine)))}
            for label in labels
        }  # fmt: skip
    a, b = runs
    for label in labels:
        only_a = sum(bool(p[a][label]) and not p[b][label] for p in pairs)
        only_b = sum(bool(p[b][label]) and not p[a][label] for p in pairs)
        both = sum(bool(p[a][label]) and bool(p[b][label]) for p in pairs)
        out["paired"][label] = {
            f"only {a}": only_a,
            f"only {b}": only_b,
            "both": both,
            "p": sign_test(only_a, only_b),
        }
    same = [p for p in pairs if p[a]["text"] == p[b]["text"]]
    out["same_text"] = {
        "pairs": len(same),
        "same_labels": sum(all(p[a][x] == p[b][x] for x in labels) for p in same),
    }
    return out


def markdown(result: dict, labels: Sequence[str] = LABELS, reader: str = "the reader") -> str:
    a, b = result["runs"]
    lines = [f"{result['pairs']} sample ids, each with a raw text of `{a}` and of `{b}`.", ""]
    lines += [
        f"| | {a} | {b} | only {a} | only {b} | both | sign test p |",
        "|---|---|---|---|---|---|---|",
    ]  # noqa: E501
    for label in labels:
        cells = []
        for run in (a, b):
            c = result["per_run"][run][label]
            cells.append(f"{c['k']}/{c['n']} [{c['ci'][0]:.3f}, {c['ci'][1]:.3f}]")
        p = result["paired"][label]
        lines.append(
            f"| {label} | {cells[0]} | {cells[1]} | {p[f'only {a}']} | {p[f'only {b}']} "
            f"| {p['both']} | {p['p']:.3f} |"
        )
    same = result["same_text"]
    lines += ["", f"Texts both runs wrote word for word: {same['pairs']} pairs, {reader} gave "
              f"both copies the same labels in {same['same_labels']}."]  # fmt: skip
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labels", type=Path)
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.labels.read_text(encoding="utf-8").splitlines()]
    record = provenance(["benchmarks/words_blind_pairs.py", *sys.argv[1:]])
    result = {"provenance": record, **summarize(rows)}
    out = Path(__file__).resolve().parent / "results"
    name = args.labels.name.removesuffix(".jsonl")  # "..._1.5b_...": no Path.with_suffix
    (out / f"{name}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    text = markdown_header(record) + "\n" + markdown(result)
    (out / f"{name}.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
