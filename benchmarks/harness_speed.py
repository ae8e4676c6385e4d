"""How long the harness takes to score a trained model: batched against one user at a time.

A seeded synthetic interaction file (``--users`` x ``--items``, popularity-skewed with
clustered tastes; written as SASRec-style ``user item`` lines and read back through
:func:`cinerec.data.interactions_file.load_interactions_file`) is split leave-one-out. Each
model is trained once (not timed against the target), then
:func:`cinerec.evaluation.harness.score_cases` scores every test user with bootstrap
intervals (1000 resamples): batched (``score_batch``) on all users, and one ``recommend``
call per user on a seeded sample of ``--sample`` users, extrapolated to all users (ranking
time per user x users + the bootstrap time of the full run). On the sample both paths must
give the same per-user metrics (the largest difference is recorded).

Run (about 10 minutes on 2 cores, most of it training)::

    PYTHONPATH=src python benchmarks/harness_speed.py --out benchmarks/results/harness_speed
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.* as a script
import numpy as np

from benchmarks.provenance import provenance  # noqa: E402
from cinerec.data.interactions_file import load_interactions_file
from cinerec.evaluation.harness import HarnessOptions, score_cases
from cinerec.evaluation.protocols import EvaluationTask, leave_one_out_task
from cinerec.recommenders.base import TrainingOptions
from cinerec.recommenders.registry import build

MODELS: dict[str, dict[str, Any]] = {
    "popularity": {},
    "als": {},
    "ease": {},
    "sasrec": {"epochs": 1},  # one epoch: scoring speed does not depend on training length
}
TARGET_SECONDS = 120.0


def synthetic_lines(path: Path, *, users: int, items: int, mean_length: int, seed: int) -> None:
    """Write ``user item`` lines: each user draws from a taste cluster of items (70 %) and the
    global Zipf popularity (30 %), without repeats, in drawing order (the time order)."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, items + 1) ** 0.8
    popularity /= popularity.sum()
    clusters = rng.permutation(items).reshape(20, -1)
    lengths = np.clip(rng.lognormal(np.log(mean_length), 0.6, users).astype(int), 5, 400)
    rows = []
    for user, length in enumerate(lengths, start=1):
        cluster = clusters[rng.integers(len(clusters))]
        n_cluster = min(int(length * 0.7), len(cluster))
        chosen = np.concatenate(
            [
                rng.choice(cluster, n_cluster, replace=False),
                rng.choice(items, length - n_cluster, replace=False, p=popularity),
            ]
        )
        chosen = list(dict.fromkeys((chosen + 1).tolist()))  # item ids from 1, no repeats
        rows.extend(f"{user} {item}" for item in rng.permutation(chosen))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def _time_model(
    name: str, task: EvaluationTask, options: HarnessOptions, sample: int, seed: int
) -> dict[str, Any]:
    model = build(name, MODELS[name])
    started = time.perf_counter()
    model.fit(task.train, options.training)
    fit_seconds = time.perf_counter() - started
    cases = task.test_sets["test"]

    started = time.perf_counter()
    per_user, summary = score_cases(model, cases, task, options)
    batched_seconds = time.perf_counter() - started
    ranking_seconds = float(summary["inference_ms_per_user"]) * len(cases) / 1000
    bootstrap_seconds = batched_seconds - ranking_seconds  # metrics + intervals + coverage

    pick = np.sort(np.random.default_rng(seed).choice(len(cases), sample, replace=False))
    subset = [cases[i] for i in pick]
    started = time.perf_counter()
    one, one_summary = score_cases(model, subset, task, replace(options, batch_size=0))
    one_seconds = time.perf_counter() - started
    one_per_user = float(one_summary["inference_ms_per_user"]) / 1000
    extrapolated = one_per_user * len(cases) + bootstrap_seconds
    same, _ = score_cases(model, subset, task, options)
    largest = max(
        float(np.nanmax(np.abs(one[m] - same[m]), initial=0.0)) for m in one if m != "user_id"
    )
    return {
        "fit_seconds": round(fit_seconds, 1),
        "users": len(cases),
        "batched_seconds": round(batched_seconds, 1),
        "batched_ranking_seconds": round(ranking_seconds, 1),
        "bootstrap_and_metrics_seconds": round(bootstrap_seconds, 1),
        "per_user_sample_users": sample,
        "per_user_sample_seconds": round(one_seconds, 1),
        "per_user_ms_per_user": round(one_per_user * 1000, 2),
        "per_user_extrapolated_seconds": round(extrapolated, 1),
        "speedup": round(extrapolated / batched_seconds, 1),
        "under_target": batched_seconds < TARGET_SECONDS,
        "largest_metric_difference_on_sample": largest,
        "ndcg@10": summary["ndcg@10"],
        "recall@10": summary["recall@10"],
    }


def _markdown(result: dict[str, Any]) -> str:
    d = result["data"]
    lines = [
        "# Harness speed: batched scoring against one user at a time",
        "",
        f"Synthetic leave-one-out task: {d['test_users']:,} test users, {d['catalog_items']:,} "
        f"items, {d['train_interactions']:,} training interactions (seed {result['seed']}). "
        f"Scoring = full ranking of the catalog + per-user metrics + {result['resamples']}-"
        f"resample bootstrap intervals, for a model already trained. The per-user path ran on "
        f"{result['sample']} sampled users and is extrapolated to all of them (its ranking "
        "time per user x users + the full run's metric and bootstrap time).",
        "",
        "| model | fit s | batched s (all users) | per-user ms/user | per-user s, extrapolated "
        "| speed-up | under 120 s | NDCG@10 | largest metric difference on the sample |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in result["models"].items():
        lines.append(
            f"| {name} | {r['fit_seconds']} | {r['batched_seconds']} | "
            f"{r['per_user_ms_per_user']} | {r['per_user_extrapolated_seconds']} | "
            f"{r['speedup']}x | {'yes' if r['under_target'] else 'no'} | "
            f"{r['ndcg@10']['mean']:.4f} [{r['ndcg@10']['low']:.4f}, "
            f"{r['ndcg@10']['high']:.4f}] | {r['largest_metric_difference_on_sample']:.2g} |"
        )
    lines += [
        "",
        f"Command: `{result['command']}`; git {result['git_sha']}; {result['cores']} cores; "
        f"{result['date']}; {result['versions']}.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=24_000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--mean-length", type=int, default=40)
    parser.add_argument("--sample", type=int, default=500)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--data", type=Path, default=Path("runs/harness_speed/synthetic.txt"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/harness_speed"))
    args = parser.parse_args()

    synthetic_lines(
        args.data, users=args.users, items=args.items, mean_length=args.mean_length, seed=args.seed
    )
    interactions = load_interactions_file(args.data, file_format="lines")
    task = leave_one_out_task(interactions.frame, dataset=f"synthetic-{args.users}x{args.items}")
    options = HarnessOptions(
        resamples=args.resamples,
        training=TrainingOptions(seed=args.seed, threads=args.threads),
    )
    result: dict[str, Any] = {
        "provenance": (record := provenance()),
        "command": record["command"],
        "git_sha": record["git_sha"] + ("-dirty" if record["git_dirty"] else ""),
        "versions": {"python": record["python"], **record["packages"]},
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": args.seed,
        "resamples": args.resamples,
        "sample": args.sample,
        "batch_size": options.batch_size,
        "data": {
            "generator": {
                "users": args.users,
                "items": args.items,
                "mean_length": args.mean_length,
            },
            "train_interactions": len(task.train),
            "test_users": len(task.test_sets["test"]),
            "catalog_items": len(task.catalog),
        },
        "models": {},
    }
    for name in args.models.split(","):
        result["models"][name] = _time_model(name, task, options, args.sample, args.seed)
        print(name, json.dumps(result["models"][name]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(_markdown(result))


if __name__ == "__main__":
    main()
