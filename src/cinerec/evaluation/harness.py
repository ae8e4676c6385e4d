"""Run several recommenders on one task and write what happened: JSON, per-user arrays, report.

Every model is built from its registry name and config, fitted on the task's training data
(timed), then asked every validation and test case (each call timed). A feature-aware model
(:class:`cinerec.recommenders.base.FeatureAware`) first receives the task's training-user and
item features, and is asked each case with the case's features. The output directory
receives ``result.json`` (full config, data fingerprint, environment, metrics with bootstrap
intervals), ``per_user.npz`` (the arrays behind every interval, for paired comparisons later)
and ``report.md`` with ``ndcg.png``.

Example:
    >>> task = build_task("loo", resolve_data_dir())  # doctest: +SKIP
    >>> result = run_evaluation(task, [ModelSpec("popularity"), ModelSpec("als")],
    ...                         out_dir=Path("runs/loo"))  # doctest: +SKIP
    >>> result["models"]["als"]["test"]["test"]["ndcg@10"]["mean"]  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import platform
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

import cinerec
from cinerec.evaluation.bootstrap import bootstrap_ci
from cinerec.evaluation.protocols import EvalCase, EvaluationTask
from cinerec.evaluation.ranking import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_KS,
    catalog_coverage,
    per_user_metrics,
    rank_cases,
)
from cinerec.evaluation.report import write_report
from cinerec.recommenders.base import FeatureAware, Recommender, TrainingOptions

log = logging.getLogger(__name__)

RESULT_FILE = "result.json"
PER_USER_FILE = "per_user.npz"
ModelFactory = Callable[[str, Mapping[str, Any] | None], Recommender]


@dataclass(frozen=True)
class ModelSpec:
    """A model to evaluate: registry ``name``, config values, and an optional display label."""

    name: str
    config: Mapping[str, Any] = field(default_factory=dict)
    label: str | None = None

    @property
    def key(self) -> str:
        """Name used in results (the label, else the registry name)."""
        return self.label or self.name


@dataclass(frozen=True)
class HarnessOptions:
    """How the run is done: ranks, bootstrap, seed/threads, and what to score.

    ``batch_size`` cases are scored at a time by a model that offers ``score_batch``
    (:class:`~cinerec.recommenders.base.BatchScorer`); 0 asks every model one case at a time.
    """

    ks: tuple[int, ...] = DEFAULT_KS
    resamples: int = 1000
    level: float = 0.95
    training: TrainingOptions = field(default_factory=TrainingOptions)
    include_validation: bool = True
    max_users: int | None = None
    batch_size: int = DEFAULT_BATCH_SIZE


def _registry_build(name: str, config: Mapping[str, Any] | None) -> Recommender:
    from cinerec.recommenders.registry import build

    return build(name, config)


def _config_dict(model: Recommender) -> dict[str, Any]:
    config = model.config
    if isinstance(config, Mapping):
        return dict(config)
    return asdict(config) if is_dataclass(config) and not isinstance(config, type) else {}


def environment() -> dict[str, Any]:
    """Versions and machine facts stored with every result (no paths, no git)."""
    import scipy

    return {
        "cinerec": cinerec.__version__ if hasattr(cinerec, "__version__") else "unknown",
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "platform": platform.platform(),
        "processor": platform.machine(),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def score_cases(
    model: Recommender, cases: Sequence[EvalCase], task: EvaluationTask, options: HarnessOptions
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Score a fitted ``model`` on ``cases``: per-user metric arrays and their summary
    (bootstrap intervals, coverage, users, inference time per user)."""
    rankings = rank_cases(
        model, cases, task.catalog, max_k=max(options.ks), batch_size=options.batch_size
    )
    per_user = per_user_metrics(rankings, task.item_probability(), ks=options.ks)
    summary: dict[str, Any] = {
        name: bootstrap_ci(
            values, resamples=options.resamples, level=options.level, seed=options.training.seed
        ).as_dict()
        for name, values in per_user.items()
    }
    summary.update(catalog_coverage(rankings, len(task.catalog), ks=options.ks))
    summary["users"] = len(cases)
    summary["inference_ms_per_user"] = float(rankings.seconds.mean() * 1000) if len(cases) else 0
    per_user["user_id"] = rankings.user_ids
    return per_user, summary


def evaluate_model(
    model: Recommender, task: EvaluationTask, options: HarnessOptions
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Fit ``model`` on ``task.train`` and score it; returns (summary, per-user arrays).

    A :class:`FeatureAware` model gets ``task.user_features`` and ``task.item_features``
    before ``fit`` (inside the timed part).
    """
    started = time.perf_counter()
    if isinstance(model, FeatureAware):
        model.fit_features(task.user_features, task.item_features)
    model.fit(task.train, options.training)
    fit_seconds = time.perf_counter() - started
    summary: dict[str, Any] = {
        "model": model.name,
        "config": _config_dict(model),
        "uses_features": isinstance(model, FeatureAware),
        "fit_seconds": fit_seconds,
    }
    arrays: dict[str, np.ndarray] = {}
    parts: dict[str, Sequence[EvalCase]] = dict(task.test_sets)
    if options.include_validation and task.validation:
        parts = {"validation": task.validation, **parts}
    results = {}
    for part, cases in parts.items():
        cases = cases[: options.max_users] if options.max_users else cases
        per_user, results[part] = score_cases(model, cases, task, options)
        arrays.update({f"{part}/{metric}": values for metric, values in per_user.items()})
    summary["results"] = results
    return summary, arrays


def run_evaluation(
    task: EvaluationTask,
    models: Sequence[ModelSpec],
    *,
    out_dir: Path,
    options: HarnessOptions | None = None,
    build: ModelFactory = _registry_build,
) -> dict[str, Any]:
    """Evaluate ``models`` on ``task`` and write ``result.json``, ``per_user.npz``, the report.

    Args:
        task: from :func:`cinerec.evaluation.protocols.build_task`.
        models: what to run, in report order.
        out_dir: created if missing; existing result files in it are overwritten.
        options: cut-offs, bootstrap and training options.
        build: name + config -> untrained recommender (default: the recommender registry).

    Returns:
        The dictionary written to ``result.json``.
    """
    options = options or HarnessOptions()
    out_dir.mkdir(parents=True, exist_ok=True)
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
            "training": options.training.settings(),
            "max_users": options.max_users,
            "batch_size": options.batch_size,
        },
        "models": {},
    }
    arrays: dict[str, np.ndarray] = {}
    for spec in models:
        log.info("evaluating %s on %s", spec.key, task.protocol)
        model = build(spec.name, dict(spec.config))
        summary, per_user = evaluate_model(model, task, options)
        result["models"][spec.key] = summary
        arrays.update({f"{spec.key}/{key}": values for key, values in per_user.items()})
    result["environment"] = environment()
    np.savez_compressed(out_dir / PER_USER_FILE, **arrays)  # type: ignore[arg-type]
    write_report(result, out_dir)  # adds result["notes"] when the plot cannot be drawn
    (out_dir / RESULT_FILE).write_text(json.dumps(result, indent=2, sort_keys=False) + "\n")
    return result
