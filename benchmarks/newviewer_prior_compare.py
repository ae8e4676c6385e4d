"""The ``prior`` family's run side by side with the committed newviewer run (issue #20).

Reads two runs of ``benchmarks/newviewer.py`` on the same data set (same seed, so the same test
users in the same order: the split digests are checked) and writes, for every k, language and
draw, NDCG@10 with 95 % bootstrap intervals, the ratio to popularity, and paired differences
against the best pipeline without the statement (the best of popularity and the retrievers on
the test users, as the targets pick it) and against the committed run's ``ltr``.

    python benchmarks/newviewer_prior_compare.py --dataset ml-latest-small

Writes ``benchmarks/results/newviewer/prior/<dataset>/compare.md`` and ``compare.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.* as a script

from benchmarks.provenance import markdown_header, provenance  # noqa: E402
from cinerec.evaluation.bootstrap import (  # noqa: E402
    bootstrap_ci,
    bootstrap_statistic_ci,
    paired_difference_ci,
)

ROOT = Path(__file__).resolve().parent / "results" / "newviewer"
KS = (1, 3, 5, 10)
NEW_ROWS = (
    "statement-prior",
    "ltr",
    "ltr-nostatement",
    "ltr-prior",
    "ltr-prior-pool",
    "ltr-prior-all",
)
NO_STATEMENT = ("popularity", "ease", "als", "content", "sasrec", "ltr-nostatement")


def load(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """A run's result.json and per-user arrays."""
    result = json.loads((path / "result.json").read_text(encoding="utf-8"))
    with np.load(path / "per_user.npz") as stored:
        return result, {k: stored[k] for k in stored.files}


def ratio(a: np.ndarray, b: np.ndarray, seed: int = 42) -> dict[str, float]:
    """mean(a) / mean(b) with a bootstrap interval over the same users."""
    point = float(a.mean() / b.mean()) if b.mean() > 0 else float("nan")
    return bootstrap_statistic_ci(
        lambda idx: a[idx].mean(axis=1) / np.maximum(b[idx].mean(axis=1), 1e-12),
        point,
        len(a),
        resamples=1000,
        seed=seed,
    ).as_dict()


def fmt(ci: dict[str, float], signed: bool = False) -> str:
    """``0.123 [0.100, 0.150]``."""
    f = "{:+.3f}" if signed else "{:.3f}"
    return f"{f.format(ci['mean'])} [{f.format(ci['low'])}, {f.format(ci['high'])}]"


def seed_section(
    new: dict[str, np.ndarray], seeds: list[int], dataset: str, out: dict[str, object]
) -> list[str]:
    """``ltr`` and ``ltr-prior-all`` (and their paired difference) of the runs retrained with
    other seeds beside this run's (seed 42): how much a retrain alone moves them."""
    runs = {42: new}
    for seed in seeds:
        _, runs[seed] = load(ROOT / "prior" / f"seed{seed}" / dataset)
    lines = [
        "",
        "## Retrained with other seeds (popular ticks)",
        "",
        "Same split and users; the training seed (ranker users, simulated viewers, LightGBM "
        "bagging, retrievers) changes. NDCG@10 and the paired difference `ltr` - "
        "`ltr-prior-all`.",
        "",
        "| set | seed | ltr | ltr-prior-all | ltr - ltr-prior-all | ltr-nostatement |",
        "|---|---|---|---|---|---|",
    ]
    table: dict[str, dict[str, object]] = {}
    for lang in ("en", "ko"):
        for k in KS:
            key = f"k={k}/popular/{lang}"
            for seed, arrays in runs.items():
                ltr = arrays[f"ltr/{key}/ndcg@10"]
                base = arrays[f"ltr-prior-all/{key}/ndcg@10"]
                nost = arrays.get(f"ltr-nostatement/{key}/ndcg@10")
                diff = paired_difference_ci(ltr, base, resamples=1000, seed=42).as_dict()
                table.setdefault(key, {})[str(seed)] = {
                    "ltr": float(ltr.mean()),
                    "ltr-prior-all": float(base.mean()),
                    "difference": diff,
                }
                nost_cell = f"{nost.mean():.3f}" if nost is not None else "-"
                lines.append(
                    f"| {key} | {seed} | {ltr.mean():.3f} | {base.mean():.3f} | "
                    f"{fmt(diff, signed=True)} | {nost_cell} |"
                )
    out["seeds"] = table
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml-latest-small")
    parser.add_argument(
        "--seeds",
        default="",
        help="other training seeds whose runs sit in prior/seed<s>/<dataset> (--train-seed)",
    )
    args = parser.parse_args()
    prov = provenance(["benchmarks/newviewer_prior_compare.py", *sys.argv[1:]])
    old_result, old = load(ROOT / args.dataset)
    new_result, new = load(ROOT / "prior" / args.dataset)
    if old_result["split_digest"] != new_result["split_digest"]:
        raise SystemExit("The two runs have different splits")
    out: dict[str, object] = {
        "dataset": args.dataset,
        "committed_run": old_result.get("provenance", {}).get("git_sha"),
        "prior_run": new_result.get("provenance", {}).get("git_sha"),
        "test_users": new_result["test_users"],
        "validation_ndcg@10": new_result["validation"]["ndcg@10"],
        "sets": {},
        "provenance": prov,
    }
    lines = [
        markdown_header(prov),
        f"# newviewer on {args.dataset}: the `prior` family beside the committed run",
        "",
        f"{new_result['test_users']} test users (split `{new_result['split_digest'][:16]}`, the "
        "same users and order in both runs). NDCG@10 mean [95 % bootstrap interval]; ratios "
        "and paired differences on the same users. `best without statement` is the best of "
        "the no-statement rows on the test users (either run). `committed ltr` is the "
        f"committed run's ranker (commit {str(out['committed_run'])[:7]}; families "
        f"{', '.join(old_result['ranker_config']['families'])}, taste pool "
        f"{old_result['ranker_config'].get('taste_pool', 0)}).",
        "",
        "Validation NDCG@10 of this run (k=3 and 10, popular ticks, both languages): "
        + ", ".join(f"{k} {v:.3f}" for k, v in sorted(new_result["validation"]["ndcg@10"].items()))
        + ".",
    ]
    for draw in ("popular", "uniform"):
        for lang in ("en", "ko"):
            lines += [
                "",
                f"## {draw} ticks, {lang} statement",
                "",
                "| k | popularity | best without statement | committed ltr | "
                + " | ".join(NEW_ROWS)
                + " | ltr / popularity | ltr - best without statement | ltr - ltr-prior-all "
                "| ltr - committed ltr | statement-prior - best without statement |",
                "|---" * (9 + len(NEW_ROWS)) + "|",
            ]
            for k in KS:
                key = f"k={k}/{draw}/{lang}"

                def get(arrays: dict[str, np.ndarray], model: str) -> np.ndarray | None:
                    return arrays.get(f"{model}/{key}/ndcg@10")  # noqa: B023

                pop = get(new, "popularity")
                candidates = [
                    (f"{m} ({tag})", a)
                    for tag, arrays in (("new", new), ("committed", old))
                    for m in NO_STATEMENT
                    if (a := get(arrays, m)) is not None
                ]
                base_name, base = max(candidates, key=lambda kv: kv[1].mean())
                committed = get(old, "ltr")
                ltr = get(new, "ltr")
                prior = get(new, "statement-prior")
                entry = {
                    "popularity": bootstrap_ci(pop, resamples=1000, seed=42).as_dict(),
                    "best_without_statement": base_name,
                    "best_without_statement_ndcg": bootstrap_ci(
                        base, resamples=1000, seed=42
                    ).as_dict(),
                    "committed_ltr": bootstrap_ci(committed, resamples=1000, seed=42).as_dict(),
                    "rows": {
                        m: bootstrap_ci(a, resamples=1000, seed=42).as_dict()
                        for m in NEW_ROWS
                        if (a := get(new, m)) is not None
                    },
                    "ltr_over_popularity": ratio(ltr, pop),
                    "ltr_over_best_without_statement": ratio(ltr, base),
                    "ltr_minus_best_without_statement": paired_difference_ci(
                        ltr, base, resamples=1000, seed=42
                    ).as_dict(),
                    "ltr_minus_ltr_prior_all": paired_difference_ci(
                        ltr, get(new, "ltr-prior-all"), resamples=1000, seed=42
                    ).as_dict(),
                    "ltr_minus_committed_ltr": paired_difference_ci(
                        ltr, committed, resamples=1000, seed=42
                    ).as_dict(),
                    "prior_over_popularity": ratio(prior, pop),
                    "prior_minus_best_without_statement": paired_difference_ci(
                        prior, base, resamples=1000, seed=42
                    ).as_dict(),
                }
                out["sets"][key] = entry  # type: ignore[index]
                cells = [
                    fmt(entry["popularity"]),
                    f"{base_name} {base.mean():.3f}",
                    fmt(entry["committed_ltr"]),
                    *(fmt(entry["rows"][m]) if m in entry["rows"] else "-" for m in NEW_ROWS),
                    "{mean:.2f}x [{low:.2f}, {high:.2f}]".format(**entry["ltr_over_popularity"]),
                    fmt(entry["ltr_minus_best_without_statement"], signed=True),
                    fmt(entry["ltr_minus_ltr_prior_all"], signed=True),
                    fmt(entry["ltr_minus_committed_ltr"], signed=True),
                    fmt(entry["prior_minus_best_without_statement"], signed=True),
                ]
                lines.append(f"| {k} | " + " | ".join(cells) + " |")
    seeds = [int(x) for x in args.seeds.split(",") if x]
    if seeds:
        lines += seed_section(new, seeds, args.dataset, out)
    target = ROOT / "prior" / args.dataset
    (target / "compare.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    (target / "compare.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
