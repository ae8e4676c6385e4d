"""Regression bands: the deterministic ml-100k ``ua`` figures of the README must not drift.

Popularity and EASE are deterministic (no seed enters their training), so their precision@10
and AUC on protocol ``ml100k`` are pinned to the values in
``benchmarks/results/protocols/ml100k/result.json`` (the README's EASE 0.153 / 0.919) within a
band far below one user's worth of change (0.1 / 934 for P@10).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cinerec.evaluation.protocols import ml100k_task
from cinerec.evaluation.ranking import per_user_metrics, rank_cases
from cinerec.recommenders.base import TrainingOptions
from cinerec.recommenders.registry import build

PINNED = {
    "popularity": {"precision@10": 0.06670235546038544, "auc": 0.8724857832413151},
    "ease": {"precision@10": 0.15289079229122057, "auc": 0.9190277837624833},
}
BAND = 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("batch_size", [1024, 0], ids=["batched", "one-by-one"])
def test_ml100k_ua_popularity_and_ease_stay_pinned(real_data_dir: Path, batch_size: int) -> None:
    task = ml100k_task(real_data_dir)
    cases = task.test_sets["test"]
    assert len(cases) == 934
    for name, pinned in PINNED.items():
        model = build(name, None)
        model.fit(task.train, TrainingOptions(seed=42, threads=2))
        rankings = rank_cases(model, cases, task.catalog, max_k=10, batch_size=batch_size)
        scores = per_user_metrics(rankings, task.item_probability(), ks=(10,))
        for metric, value in pinned.items():
            assert np.nanmean(scores[metric]) == pytest.approx(value, abs=BAND), (name, metric)
