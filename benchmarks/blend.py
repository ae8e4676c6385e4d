"""The blend against each of its members on protocol ``loo``, from one set of fitted members.

Each member is fitted once on the training part (timed); the blend's weights are fitted on the
validation items (coordinate ascent on NDCG@10, for each normalisation asked for, the best
kept); then every member and the blend are scored on validation and test with the harness'
metric code and bootstrap, and written like ``run_protocols.py`` does (``result.json`` with
configs and data fingerprint, ``per_user.npz``, ``report.md``). The blend's validation numbers
are in-sample (its weights were chosen on them); its test numbers are not.

Usage (from the repository root):

    nice -n 15 python benchmarks/blend.py --members sasrec,ease,als \
        --out benchmarks/results/protocols/loo_blend
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Collection, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from provenance import provenance

from cinerec.data.paths import resolve_data_dir
from cinerec.data.types import Interactions, Rated, ScoredItem
from cinerec.evaluation.bootstrap import paired_difference_ci
from cinerec.evaluation.harness import (
    PER_USER_FILE,
    RESULT_FILE,
    HarnessOptions,
    environment,
    evaluate_model,
)
from cinerec.evaluation.protocols import build_task
from cinerec.evaluation.report import write_report
from cinerec.recommenders.base import Recommender, TrainingOptions
from cinerec.recommenders.ensemble import EnsembleConfig, EnsembleRecommender, drop_rare_items
from cinerec.recommenders.registry import build

log = logging.getLogger("blend")


class Prefitted:
    """A fitted model whose ``fit`` does nothing, so the harness only scores it."""

    def __init__(self, model: Recommender) -> None:
        self.model, self.name = model, model.name
        self.config = getattr(model, "config", None)

    def fit(self, interactions: Interactions, options: TrainingOptions) -> None:
        """Already fitted."""

    def recommend(
        self, history: Sequence[Rated], n: int, exclude: Collection[int] = ()
    ) -> list[ScoredItem]:
        return self.model.recommend(history, n, exclude)


def fit_blend(
    members: list[Recommender],
    member_configs: dict[str, dict[str, Any]],
    train: Interactions,
    cases: list[tuple[tuple[Rated, ...], int]],
    normalizations: str,
) -> tuple[EnsembleRecommender, float, list[dict[str, Any]]]:
    """Weights of a blend of fitted ``members`` on ``cases`` for each normalisation; the best.

    Returns:
        The blend with the best validation NDCG@10, the seconds its weights took, and one
        record per normalisation tried.
    """
    names = tuple(m.name for m in members)
    configs = {k: v for k, v in member_configs.items() if k in names}
    best: tuple[EnsembleRecommender, float] | None = None
    trials = []
    for norm in normalizations.split(","):
        config = EnsembleConfig(members=names, member_configs=configs, normalization=norm)
        blend = EnsembleRecommender.from_fitted(config, members, train)
        started = time.perf_counter()
        blend.fit_weights(cases, progress=True)
        seconds = time.perf_counter() - started
        trials.append({"normalization": norm, "weights": blend.weights, "seconds": seconds,
                       "validation_ndcg@10": blend.validation_ndcg})  # fmt: skip
        log.info("%s %s weights %s: validation NDCG@10 %.4f", names, norm, blend.weights,
                 blend.validation_ndcg)  # fmt: skip
        if best is None or (blend.validation_ndcg or 0) > (best[0].validation_ndcg or 0):
            best = (blend, seconds)
    assert best is not None
    return best[0], best[1], trials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", default="sasrec,ease,als")
    parser.add_argument("--member-configs", default="{}", help='JSON, e.g. {"ease": {}}')
    parser.add_argument("--normalizations", default="zscore,rrf")
    parser.add_argument("--ablate", default="", help="members to leave out, one blend each")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    names = [n.strip() for n in args.members.split(",") if n.strip()]
    member_configs: dict[str, dict[str, Any]] = json.loads(args.member_configs)
    task = build_task("loo", resolve_data_dir(), seed=args.seed)
    training = TrainingOptions(seed=args.seed, threads=args.threads, progress=True)
    options = HarnessOptions(resamples=args.resamples, training=training)

    # What EnsembleRecommender.fit does first (a no-op here: every training item has >= 3).
    train = drop_rare_items(task.train, EnsembleConfig(members=tuple(names)).min_item_count)
    members, fit_seconds = [], {}
    for name in names:
        model = build(name, member_configs.get(name))
        started = time.perf_counter()
        model.fit(train, training)
        fit_seconds[name] = time.perf_counter() - started
        log.info("fitted %s in %.1f s", name, fit_seconds[name])
        members.append(model)

    cases = [(c.history, c.targets[0]) for c in task.validation]
    blends = {"blend": fit_blend(members, member_configs, train, cases, args.normalizations)}
    for name in filter(None, args.ablate.split(",")):
        kept = [m for m in members if m.name != name]
        blends[f"blend-no-{name}"] = fit_blend(
            kept, member_configs, train, cases, args.normalizations
        )

    result: dict[str, Any] = {
        "protocol": task.protocol,
        "dataset": task.dataset,
        "data_fingerprint": task.fingerprint,
        "protocol_settings": dict(task.settings),
        "data": task.summary(),
        "options": {
            "ks": list(options.ks),
            "resamples": options.resamples,
            "level": options.level,
            "training": asdict(training),
            "max_users": None,
        },
        "models": {},
    }
    arrays: dict[str, np.ndarray] = {}
    scored: list[tuple[str, Recommender, float, dict[str, Any]]] = [
        (m.name, m, fit_seconds[m.name], {}) for m in members
    ]
    for key, (blend, weight_seconds, trials) in blends.items():
        extra = {
            "weight_trials": trials,
            "config": asdict(blend.config) | {"weights": list(blend.weights.values())},
            "note": "validation is in-sample for the blend (weights fitted on it)",
        }
        seconds = sum(fit_seconds[m] for m in blend.config.members) + weight_seconds
        scored.append((key, blend, seconds, extra))
    for key, model, seconds, extra in scored:
        log.info("scoring %s", key)
        summary, per_user = evaluate_model(Prefitted(model), task, options)  # type: ignore[arg-type]
        summary["fit_seconds"] = seconds
        summary.update(extra)
        result["models"][key] = summary
        arrays.update({f"{key}/{k}": v for k, v in per_user.items()})
    blend_test = arrays["blend/test/ndcg@10"]
    result["models"]["blend"]["paired_test_ndcg@10_vs_others"] = {
        key: paired_difference_ci(
            blend_test, arrays[f"{key}/test/ndcg@10"], resamples=args.resamples, seed=args.seed
        ).as_dict()
        for key in result["models"]
        if key != "blend"
    }
    result["environment"] = environment()
    result["provenance"] = provenance()
    result["environment"]["load_note"] = "fit seconds measured under load: upper bounds"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / RESULT_FILE).write_text(json.dumps(result, indent=2) + "\n")
    np.savez_compressed(args.out / PER_USER_FILE, **arrays)  # type: ignore[arg-type]
    report = write_report(result, args.out)
    lines = ["## Blend minus each other model, test NDCG@10 (paired per-user bootstrap)", ""]
    for key, ci in result["models"]["blend"]["paired_test_ndcg@10_vs_others"].items():
        lines.append(f"- blend - {key}: {ci['mean']:+.4f} [{ci['low']:+.4f}, {ci['high']:+.4f}]")
    lines += ["", "## Weights fitted on the validation items", ""]
    for key in blends:
        for trial in result["models"][key]["weight_trials"]:
            weights = ", ".join(f"{k} {v:.3f}" for k, v in trial["weights"].items())
            lines.append(f"- {key}, {trial['normalization']}: {weights} "
                         f"(validation NDCG@10 {trial['validation_ndcg@10']:.4f})")  # fmt: skip
    with report.open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    for key, model_result in result["models"].items():
        for part, s in model_result["results"].items():
            print(f"{key:<10} {part:<10} NDCG@10 {s['ndcg@10']['mean']:.4f} "
                  f"[{s['ndcg@10']['low']:.4f}, {s['ndcg@10']['high']:.4f}] "
                  f"R@10 {s['recall@10']['mean']:.4f}")  # fmt: skip


if __name__ == "__main__":
    main()
