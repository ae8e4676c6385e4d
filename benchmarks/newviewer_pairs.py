"""Paired before/after of the learned ranker from one newviewer run with ``--before-ranker``.

    python benchmarks/newviewer_pairs.py benchmarks/results/newviewer/ltrfix/ml-100k

Reads the run's per_user.npz (rows ``ltr``, ``ltr-before`` and the retrievers, the same test
users in the same order) and writes pairs.json and pairs.md beside it: for English
statements and both tick draws, each ranker against EASE at k=10 and against popularity at
k=3 (NDCG@10 ratio and paired difference, 95 % bootstrap intervals), and ``ltr`` minus
``ltr-before`` at every k. Nothing is refitted; the provenance records this command.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.* as a script

from benchmarks.provenance import markdown_header, provenance  # noqa: E402
from cinerec.evaluation.bootstrap import paired_difference_ci  # noqa: E402
from cinerec.evaluation.newviewer import NEWVIEWER_KS, set_name  # noqa: E402
from cinerec.evaluation.newviewer_run import BEFORE_RANKER, _ratio_ci  # noqa: E402
from cinerec.ranking.viewers import DRAWS  # noqa: E402

RANKERS = ("ltr", BEFORE_RANKER)
AGAINST = (("ease", 10), ("popularity", 3))


def compare(a: np.ndarray, b: np.ndarray, resamples: int, seed: int) -> dict[str, object]:
    """Means, the ratio and the paired difference of two per-user NDCG@10 arrays."""
    return {
        "a": float(a.mean()),
        "b": float(b.mean()),
        "ratio": _ratio_ci(a, b, resamples, seed),
        "paired_difference": paired_difference_ci(a, b, resamples=resamples, seed=seed).as_dict(),
    }


def pairs(arrays: dict[str, np.ndarray], resamples: int, seed: int) -> dict[str, object]:
    """Every comparison of the module docstring, keyed ``<a> vs <b> k=<k> <draw>``."""
    out: dict[str, object] = {}

    def get(model: str, k: int, draw: str) -> np.ndarray:
        return arrays[f"{model}/{set_name(k, draw, 'en')}/ndcg@10"]

    for draw in DRAWS:
        for model in RANKERS:
            for base, k in AGAINST:
                out[f"{model} vs {base} k={k} {draw}"] = compare(
                    get(model, k, draw), get(base, k, draw), resamples, seed
                )
        for k in NEWVIEWER_KS:
            out[f"ltr vs {BEFORE_RANKER} k={k} {draw}"] = compare(
                get("ltr", k, draw), get(BEFORE_RANKER, k, draw), resamples, seed
            )
    return out


def markdown(result: dict[str, object]) -> str:
    """One table row per comparison."""
    lines = [
        "| comparison (English, NDCG@10) | a | b | a / b [95 %] | a - b paired [95 %] |",
        "|---|---|---|---|---|",
    ]
    for name, c in result["pairs"].items():  # type: ignore[union-attr]
        r, d = c["ratio"], c["paired_difference"]
        lines.append(
            f"| {name} | {c['a']:.3f} | {c['b']:.3f} | {r['mean']:.2f} [{r['low']:.2f}, "
            f"{r['high']:.2f}] | {d['mean']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}] |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    """Write pairs.json and pairs.md into the run's folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a newviewer result folder")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    with np.load(args.run / "per_user.npz") as stored:
        arrays = {k: stored[k] for k in stored.files}
    record = provenance(["benchmarks/newviewer_pairs.py", *sys.argv[1:]])
    result = {"provenance": record, "pairs": pairs(arrays, args.resamples, args.seed)}
    (args.run / "pairs.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    text = markdown_header(record) + "\n" + markdown(result)
    (args.run / "pairs.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
