"""The harness end to end on synthetic data: timings, result JSON, per-user arrays, report."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cinerec.evaluation.harness import HarnessOptions, ModelSpec, run_evaluation
from cinerec.evaluation.protocols import cold_start_task, leave_one_out_task
from cinerec.recommenders.base import Recommender

from .conftest import FeatureScriptedRecommender, ScriptedRecommender, synthetic_ratings


def _build(name: str, config: Mapping[str, Any] | None) -> Recommender:
    if name == "scripted":
        return ScriptedRecommender(list(range(1, 11)))
    from cinerec.recommenders.registry import build

    return build(name, config)


@pytest.fixture
def result(ratings: pd.DataFrame, tmp_path: Path) -> dict[str, Any]:
    task = leave_one_out_task(ratings)
    specs = [ModelSpec("popularity"), ModelSpec("scripted", label="by-id")]
    options = HarnessOptions(ks=(5, 10), resamples=100)
    return run_evaluation(task, specs, out_dir=tmp_path, options=options, build=_build)


def test_result_records_config_fingerprint_and_metrics(
    result: dict[str, Any], tmp_path: Path
) -> None:
    stored = json.loads((tmp_path / "result.json").read_text())
    assert stored == json.loads(json.dumps(result))
    assert stored["protocol"] == "loo" and len(stored["data_fingerprint"]) == 64
    assert list(stored["models"]) == ["popularity", "by-id"]
    pop = stored["models"]["popularity"]
    assert pop["config"] == {"min_rating": None, "recent_days": None}
    assert pop["fit_seconds"] >= 0
    test = pop["results"]["test"]
    assert test["users"] == 12 and test["inference_ms_per_user"] > 0
    ndcg = test["ndcg@10"]
    assert ndcg["low"] <= ndcg["mean"] <= ndcg["high"]
    assert set(pop["results"]) == {"validation", "test"}
    assert "python" in stored["environment"] and "coverage@5" in test


def test_per_user_arrays_reproduce_the_means(result: dict[str, Any], tmp_path: Path) -> None:
    with np.load(tmp_path / "per_user.npz") as arrays:
        ndcg = arrays["by-id/test/ndcg@10"]
        users = arrays["by-id/test/user_id"]
    assert len(ndcg) == len(users) == 12
    assert ndcg.mean() == pytest.approx(
        result["models"]["by-id"]["results"]["test"]["ndcg@10"]["mean"]
    )


def test_report_has_tables_and_plot(result: dict[str, Any], tmp_path: Path) -> None:
    report = (tmp_path / "report.md").read_text()
    assert "## test" in report and "| popularity |" in report and "| by-id |" in report
    assert "ndcg.png" in report
    png = (tmp_path / "ndcg.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_max_users_limits_cases(ratings: pd.DataFrame, tmp_path: Path) -> None:
    task = leave_one_out_task(ratings)
    options = HarnessOptions(resamples=10, max_users=4, include_validation=False)
    out = run_evaluation(task, [ModelSpec("popularity")], out_dir=tmp_path, options=options)
    assert list(out["models"]["popularity"]["results"]) == ["test"]
    assert out["models"]["popularity"]["results"]["test"]["users"] == 4


def test_feature_aware_model_gets_task_and_case_features(tmp_path: Path) -> None:
    frame = synthetic_ratings(users=20, items=10)
    frame = pd.concat(
        [frame, frame.assign(item_id=frame.item_id + 100, timestamp=frame.timestamp + 500)]
    )
    users = pd.DataFrame({"user_id": range(1, 21), "age": 25, "gender": "F", "occupation": "z"})
    movies = pd.DataFrame({"movie_id": [1, 2], "genres": [("Drama",), ("War",)]})
    task = cold_start_task(frame, users, movies, ks=(3,), holdout_fraction=0.25, seed=0)
    models: list[FeatureScriptedRecommender] = []

    def build(name: str, config: Mapping[str, Any] | None) -> Recommender:
        models.append(FeatureScriptedRecommender(list(range(1, 11))))
        return models[-1]

    options = HarnessOptions(ks=(5, 10), resamples=10)
    out = run_evaluation(task, [ModelSpec("fs")], out_dir=tmp_path, options=options, build=build)
    model = models[0]
    assert model.calls == ["fit_features", "fit"]
    assert model.user_features == dict(task.user_features) and len(model.user_features) == 15
    assert model.item_features == {1: ("Drama",), 2: ("War",)}
    assert model.asked_with == [dict(c.features) for c in task.test_sets["k=3"]]
    assert all(f == {"age": 25, "gender": "F", "occupation": "z"} for f in model.asked_with)
    assert out["models"]["fs"]["uses_features"] is True


def test_plain_model_is_not_marked_feature_aware(result: dict[str, Any]) -> None:
    assert result["models"]["by-id"]["uses_features"] is False


def test_a_mapping_config_is_recorded_after_fit(ratings: pd.DataFrame, tmp_path: Path) -> None:
    """A model whose ``config`` is a plain mapping (a benchmark peer) is recorded as such,
    including what ``fit`` added to it."""

    class Configured(ScriptedRecommender):
        def fit(self, interactions: Any, options: Any) -> None:
            super().fit(interactions, options)
            self.config = {"defaults": True, "best_epoch": 3}

    def build(name: str, config: Mapping[str, Any] | None) -> Recommender:
        model = Configured(list(range(1, 11)))
        model.config = {"defaults": True}
        return model

    task = leave_one_out_task(ratings)
    options = HarnessOptions(ks=(5, 10), resamples=10)
    out = run_evaluation(task, [ModelSpec("peer")], out_dir=tmp_path, options=options, build=build)
    assert out["models"]["peer"]["config"] == {"defaults": True, "best_epoch": 3}
