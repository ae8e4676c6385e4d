"""Tune SASRec or BERT4Rec (``--model``) on the validation items of protocol ``loo`` only.

Each configuration trains epoch by epoch up to ``--max-epochs``; every ``--eval-every`` epochs
the validation NDCG@10 and recall@10 are computed over the full catalog (batched, same
definition as the harness: history excluded, one target per user). Training stops when the
validation NDCG@10 has not improved for ``--patience`` epochs. One JSON line per
configuration is appended to ``--out`` (config, data fingerprint, the validation curve, the
best epoch, seconds and CPU seconds per epoch).

Usage (from the repository root; 2 torch threads, low priority):

    nice -n 15 python benchmarks/sasrec_tuning.py --out benchmarks/results/protocols/\
sasrec_tuning/trials.jsonl --grid '[{"max_len": 200, "dropout": 0.5}]'
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from provenance import provenance

from cinerec.data.paths import resolve_data_dir
from cinerec.evaluation import metrics
from cinerec.evaluation.protocols import EvalCase, EvaluationTask, build_task
from cinerec.recommenders.base import TrainingOptions
from cinerec.recommenders.bert4rec import BERT4RecConfig, BERT4RecRecommender
from cinerec.recommenders.sasrec import SASRecConfig, SASRecRecommender

MODELS: dict[str, tuple[type[Any], type[Any]]] = {
    "sasrec": (SASRecConfig, SASRecRecommender),
    "bert4rec": (BERT4RecConfig, BERT4RecRecommender),
}

log = logging.getLogger("sasrec_tuning")


def loo_metrics(
    model: SASRecRecommender | BERT4RecRecommender, cases: tuple[EvalCase, ...], k: int = 10
) -> tuple[float, float]:
    """Mean NDCG@k and recall@k of one-target cases, every known item ranked."""
    scores = model.batch_scores([c.history for c in cases]).astype(np.float64)
    items = model._items
    assert items is not None
    targets = np.full(len(cases), -1, dtype=np.int64)  # an unknown target is never ranked
    for row, case in enumerate(cases):
        scores[row, items.indices([h.movie_id for h in case.history])] = -np.inf
        if case.targets[0] in items:
            targets[row] = items.index(case.targets[0])
    ranks = metrics.target_ranks(scores, targets)[:, None]  # ties: lower index first, as top_n
    ones = np.ones(len(cases), dtype=np.int64)
    return (
        float(metrics.ndcg_at_k(ranks, ones, k).mean()),
        float(metrics.recall_at_k(ranks, ones, k).mean()),
    )


def run_trial(
    task: EvaluationTask,
    values: dict[str, Any],
    *,
    max_epochs: int,
    eval_every: int,
    patience: int,
    seed: int,
    threads: int,
    model_name: str = "sasrec",
) -> dict[str, Any]:
    """Train one configuration with early stopping on validation NDCG@10."""
    config_type, model_type = MODELS[model_name]
    config = config_type(**{**values, "epochs": max_epochs})
    model = model_type(config)
    curve: list[dict[str, float]] = []
    best = {"epoch": 0, "ndcg@10": -1.0}
    cpu = {"start": time.process_time()}
    cpu_epochs: list[float] = []

    def monitor(epoch: int, fitted: Any) -> bool:
        cpu_epochs.append(time.process_time() - cpu["start"])
        stop = False
        if epoch % eval_every == 0 or epoch == max_epochs:
            ndcg, recall = loo_metrics(fitted, task.validation)
            curve.append({"epoch": epoch, "ndcg@10": ndcg, "recall@10": recall,
                          "loss": fitted.losses[-1]})  # fmt: skip
            log.info("%s epoch %d loss %.4f val NDCG@10 %.4f R@10 %.4f (%.1f s/epoch)",
                     values, epoch, fitted.losses[-1], ndcg, recall,
                     fitted.epoch_seconds[-1])  # fmt: skip
            if ndcg > best["ndcg@10"]:
                best.update({"epoch": epoch, "ndcg@10": ndcg, "recall@10": recall})
            stop = epoch - best["epoch"] >= patience
        cpu["start"] = time.process_time()
        return stop

    started = time.perf_counter()
    model.fit(task.train, TrainingOptions(seed=seed, threads=threads), monitor=monitor)
    # A constant learning rate trained for k epochs is this run stopped at k; a cosine
    # schedule depends on the total, so its config keeps the epochs it was run for.
    constant = getattr(config, "lr_schedule", "constant") == "constant"
    epochs = best["epoch"] if constant else max_epochs
    return {
        "model": model_name,
        "config": {**asdict(config), "epochs": epochs},
        "final": curve[-1] if curve else None,
        "grid_values": values,
        "data_fingerprint": task.fingerprint,
        "seed": seed,
        "threads": threads,
        "best": best,
        "curve": curve,
        "epochs_run": len(model.losses),
        "median_epoch_seconds": float(np.median(model.epoch_seconds)),
        "median_epoch_cpu_seconds": float(np.median(cpu_epochs)),
        "total_seconds_with_evaluation": time.perf_counter() - started,
        "note": "timed under load (other processes on the same 2 cores): upper bounds",
    }


def write_report(trials_path: Path) -> Path:
    """``report.md`` beside the trials: one row per trial, then each validation curve."""
    trials = [json.loads(line) for line in trials_path.read_text().splitlines() if line]
    name = (
        {"bert4rec": "BERT4Rec"}.get(trials[0].get("model", "sasrec"), "SASRec") if trials else ""
    )
    lines = [
        f"# {name} tuning on the leave-one-out validation items of ml-latest-small",
        "",
        "Validation only (the test items were never scored while tuning). Seconds per epoch "
        "were measured on 2 cores shared with other jobs: upper bounds.",
        "",
        "| changes from the defaults of the time | best epoch | val NDCG@10 | val R@10 | "
        "epochs run | s/epoch (wall, loaded) | CPU s/epoch |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in trials:
        b = t["best"]
        lines.append(
            f"| `{json.dumps(t['grid_values'])}` | {b['epoch']} | {b['ndcg@10']:.4f} | "
            f"{b['recall@10']:.4f} | {t['epochs_run']} | {t['median_epoch_seconds']:.0f} | "
            f"{t['median_epoch_cpu_seconds']:.1f} |"
        )
    lines += ["", "## Validation curves (epoch: NDCG@10)", ""]
    for t in trials:
        points = ", ".join(f"{p['epoch']}: {p['ndcg@10']:.4f}" for p in t["curve"])
        lines.append(f"- `{json.dumps(t['grid_values'])}`: {points}")
    out = trials_path.with_name("report.md")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="sasrec")
    parser.add_argument("--grid", help="JSON list of config overrides (SASRecConfig, ...)")
    parser.add_argument("--report-only", action="store_true", help="rewrite report.md only")
    parser.add_argument("--out", type=Path, required=True, help="JSON lines, appended")
    parser.add_argument("--max-epochs", type=int, default=200)
    parser.add_argument("--eval-every", type=int, default=2)
    parser.add_argument("--patience", type=int, default=12)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.report_only or not args.grid:
        print(write_report(args.out))
        return
    torch.set_num_threads(args.threads)
    task = build_task("loo", resolve_data_dir())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for values in json.loads(args.grid):
        trial = run_trial(
            task,
            values,
            max_epochs=args.max_epochs,
            eval_every=args.eval_every,
            patience=args.patience,
            seed=args.seed,
            threads=args.threads,
            model_name=args.model,
        )
        trial["provenance"] = provenance()
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(trial) + "\n")
        print(json.dumps({"values": values, "best": trial["best"],
                          "s/epoch": trial["median_epoch_seconds"]}))  # fmt: skip
    write_report(args.out)


if __name__ == "__main__":
    main()
