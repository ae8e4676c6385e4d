"""Grid search scores configs on validation cases only."""

from __future__ import annotations

import pandas as pd
import pytest

from cinerec.errors import ConfigError
from cinerec.evaluation.harness import HarnessOptions
from cinerec.evaluation.protocols import leave_one_out_task
from cinerec.evaluation.tuning import grid_search


def test_grid_search_returns_every_trial_and_the_best(ratings: pd.DataFrame) -> None:
    task = leave_one_out_task(ratings)
    grid = [{"min_rating": None}, {"min_rating": 6.0}]  # 6.0: nothing counts, ids tie-break
    best, trials = grid_search(task, "popularity", grid, options=HarnessOptions(ks=(10,)))
    assert [t.config for t in trials] == grid
    assert best.score == max(t.score for t in trials)
    assert all(0.0 <= t.score <= 1.0 and t.fit_seconds >= 0 for t in trials)


def test_grid_search_needs_validation_cases_and_a_grid(ratings: pd.DataFrame) -> None:
    task = leave_one_out_task(ratings)
    with pytest.raises(ConfigError, match="empty"):
        grid_search(task, "popularity", [])
    no_validation = type(task)(**{**task.__dict__, "validation": ()})
    with pytest.raises(ConfigError, match="no validation"):
        grid_search(no_validation, "popularity", [{}])
