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
from cinerec.evaluation.protocols import leave_one_out_task
from cinerec.recommenders.base import Recommender

from .conftest import ScriptedRecommender


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
