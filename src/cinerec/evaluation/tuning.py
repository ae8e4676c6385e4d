"""Grid search on a task's validation cases only; the test cases are never looked at.

Example:
    >>> best, trials = grid_search(task, "ease", [{"regularization": r} for r in (100, 500)])
    ... # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cinerec.errors import ConfigError
from cinerec.evaluation.harness import HarnessOptions, ModelFactory, _registry_build
from cinerec.evaluation.protocols import EvaluationTask
from cinerec.evaluation.ranking import per_user_metrics, rank_cases


@dataclass(frozen=True)
class Trial:
    """One configuration and its mean validation metric."""

    config: Mapping[str, Any]
    score: float
    fit_seconds: float


def grid_search(
    task: EvaluationTask,
    name: str,
    grid: Sequence[Mapping[str, Any]],
    *,
    metric: str = "ndcg@10",
    options: HarnessOptions | None = None,
    build: ModelFactory = _registry_build,
) -> tuple[Trial, list[Trial]]:
    """Fit each config of ``grid`` on ``task.train`` and score it on ``task.validation``.

    Returns:
        The best trial (ties go to the earlier one) and every trial in grid order.

    Raises:
        ConfigError: the task has no validation cases, or the grid is empty.
    """
    if not task.validation:
        raise ConfigError(f"Protocol {task.protocol!r} has no validation cases to tune on")
    if not grid:
        raise ConfigError("The grid is empty; give at least one configuration")
    options = options or HarnessOptions()
    probability = task.item_probability()
    trials = []
    for config in grid:
        model = build(name, dict(config))
        started = time.perf_counter()
        model.fit(task.train, options.training)
        fit_seconds = time.perf_counter() - started
        rankings = rank_cases(model, task.validation, task.catalog, max_k=max(options.ks))
        scores = per_user_metrics(rankings, probability, ks=options.ks)
        trials.append(Trial(dict(config), float(scores[metric].mean()), fit_seconds))
    best = max(trials, key=lambda t: t.score)
    return best, trials
