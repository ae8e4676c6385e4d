"""Peer libraries as shipped, on the same leave-one-out split and metric code as cinerec.

implicit's ALS and BPR run with their default hyperparameters and their own ``recommend``
(ALS recomputes the user from the history, so the validation item counts at test time; BPR
has no fold-in and uses the user factor learned in training). Rankings go through
``cinerec.evaluation.ranking.per_user_metrics`` and the same bootstrap, so the numbers
compare directly with ``run_protocols.py --protocol loo``.

Usage: ``python benchmarks/peers.py --out runs/peers [--cinerec runs/loo/result.json]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from cinerec.data.paths import resolve_data_dir
from cinerec.evaluation.bootstrap import bootstrap_ci
from cinerec.evaluation.protocols import EvaluationTask, build_task
from cinerec.evaluation.ranking import CaseRankings, per_user_metrics


def _implicit_model(name: str, threads: int, seed: int) -> Any:
    from implicit.cpu.als import AlternatingLeastSquares
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    if name == "implicit-als":
        return AlternatingLeastSquares(num_threads=threads, random_state=seed), True
    return BayesianPersonalizedRanking(num_threads=threads, random_state=seed), False


def run_peer(name: str, task: EvaluationTask, threads: int, seed: int) -> dict[str, Any]:
    """Fit one implicit model as shipped and score the test cases."""
    train = task.train.to_csr(binary=True).astype(np.float32)
    model, recalculate = _implicit_model(name, threads, seed)
    started = time.perf_counter()
    with threadpool_limits(limits=1, user_api="blas"):
        model.fit(train, show_progress=False)
    fit_seconds = time.perf_counter() - started
    cases = task.test_sets["test"]
    n = len(task.catalog)
    ranks = np.full((len(cases), 1), np.inf)
    top = np.full((len(cases), 20), -1, dtype=np.int64)
    seconds, n_candidates = np.empty(len(cases)), np.empty(len(cases))
    for row, case in enumerate(cases):
        seen = task.catalog.indices([h.movie_id for h in case.history])
        user_items = sp.csr_matrix(
            (np.ones(len(seen), np.float32), (np.zeros(len(seen), int), seen)), shape=(1, n)
        )
        t0 = time.perf_counter()
        ids, _ = model.recommend(
            task.train.users.index(case.user_id),
            user_items,
            N=n,
            filter_already_liked_items=True,
            recalculate_user=recalculate,
        )
        seconds[row] = time.perf_counter() - t0
        position = {int(i): p for p, i in enumerate(ids)}
        ranks[row, 0] = position.get(task.catalog.index(case.targets[0]), np.inf)
        top[row, : min(20, len(ids))] = ids[:20]
        n_candidates[row] = n - len(set(seen.tolist()))
    rankings = CaseRankings(
        user_ids=np.array([c.user_id for c in cases]),
        ranks=ranks,
        n_relevant=np.ones(len(cases), dtype=np.int64),
        n_candidates=n_candidates,
        top_items=top,
        seconds=seconds,
    )
    scores = per_user_metrics(rankings, task.item_probability())
    return {
        "fit_seconds": fit_seconds,
        "inference_ms_per_user": float(seconds.mean() * 1000),
        "ndcg@10": bootstrap_ci(scores["ndcg@10"], seed=seed).as_dict(),
        "recall@10": bootstrap_ci(scores["recall@10"], seed=seed).as_dict(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cinerec", type=Path, help="result.json of run_protocols.py (loo)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    # implicit's own indices are the training vocabulary; the LOO catalog is the same set.
    task = build_task("loo", resolve_data_dir())
    assert list(task.catalog.ids) == list(task.train.items.ids)
    rows: dict[str, dict[str, Any]] = {}
    for name in ("implicit-als", "implicit-bpr"):
        rows[name] = run_peer(name, task, args.threads, args.seed)
    if args.cinerec:
        ours = json.loads(args.cinerec.read_text())["models"]
        for key, model in ours.items():
            test = model["results"]["test"]
            rows[f"cinerec {key}"] = {
                "fit_seconds": model["fit_seconds"],
                "inference_ms_per_user": test["inference_ms_per_user"],
                "ndcg@10": test["ndcg@10"],
                "recall@10": test["recall@10"],
            }
    best_peer = max(rows[p]["ndcg@10"]["mean"] for p in ("implicit-als", "implicit-bpr"))
    lines = [
        "| model | NDCG@10 | R@10 | train s | ms/user | NDCG / best peer |",
        "|---|---|---|---|---|---|",
    ]
    for key, r in rows.items():
        n, rc = r["ndcg@10"], r["recall@10"]
        lines.append(
            f"| {key} | {n['mean']:.4f} [{n['low']:.4f}, {n['high']:.4f}] | "
            f"{rc['mean']:.4f} [{rc['low']:.4f}, {rc['high']:.4f}] | {r['fit_seconds']:.1f} | "
            f"{r['inference_ms_per_user']:.2f} | {n['mean'] / best_peer:.2f}x |"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "peers.json").write_text(json.dumps(rows, indent=2) + "\n")
    (args.out / "peers.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
