"""The three protocols on synthetic frames, and on the real data (slow)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cinerec.errors import ConfigError
from cinerec.evaluation.protocols import build_task, cold_start_task, leave_one_out_task

from .conftest import synthetic_ratings


def test_leave_one_out_task_histories_and_targets(ratings: pd.DataFrame) -> None:
    task = leave_one_out_task(ratings)
    user_rows = ratings[ratings.user_id == 1].sort_values("timestamp")
    items = user_rows["item_id"].tolist()
    val = next(c for c in task.validation if c.user_id == 1)
    test = next(c for c in task.test_sets["test"] if c.user_id == 1)
    assert [r.movie_id for r in val.history] == items[:-2] and val.targets == (items[-2],)
    assert [r.movie_id for r in test.history] == items[:-1] and test.targets == (items[-1],)
    assert len(task.train) == len(ratings) - 2 * 12
    assert len(task.catalog) == ratings.item_id.nunique()
    assert len(task.fingerprint) == 64
    assert task.item_probability().max() <= 1.0


def test_cold_start_task_reveals_first_k_and_carries_features() -> None:
    frame = synthetic_ratings(users=40, items=30)
    frame = pd.concat(
        [frame, frame.assign(item_id=frame.item_id + 100, timestamp=frame.timestamp + 500)]
    )
    users = pd.DataFrame({"user_id": range(1, 41), "age": 30, "gender": "F", "occupation": "x"})
    task = cold_start_task(frame, users, ks=(1, 3), holdout_fraction=0.25, seed=2)
    assert set(task.test_sets) == {"k=1", "k=3"}
    held = {c.user_id for c in task.test_sets["k=3"]}
    assert len(held) == 10 and not held & set(task.train.frame.user_id)
    case = task.test_sets["k=3"][0]
    assert len(case.history) == 3 and len(case.targets) == 16 - 3
    assert case.features == {"age": 30, "gender": "F", "occupation": "x"}
    assert task.item_features == {}


def test_cold_start_task_side_features_cover_training_users_only() -> None:
    frame = synthetic_ratings(users=40, items=30)
    frame = pd.concat(
        [frame, frame.assign(item_id=frame.item_id + 100, timestamp=frame.timestamp + 500)]
    )
    users = pd.DataFrame(
        {"user_id": range(1, 41), "age": range(20, 60), "gender": "M", "occupation": "y"}
    )
    movies = pd.DataFrame({"movie_id": [1, 2, 101], "genres": [("Drama",), (), ("Comedy", "War")]})
    task = cold_start_task(frame, users, movies, ks=(3,), holdout_fraction=0.25, seed=2)
    held = {c.user_id for c in task.test_sets["k=3"]}
    assert set(task.user_features) == set(task.train.frame.user_id)
    assert not held & set(task.user_features)
    assert task.user_features[1] == {"age": 20, "gender": "M", "occupation": "y"} or 1 in held
    assert task.item_features == {1: ("Drama",), 2: (), 101: ("Comedy", "War")}
    assert task.summary()["users_with_features"] == 30


def test_unknown_protocol_and_wrong_dataset_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Unknown protocol"):
        build_task("nope", tmp_path)
    with pytest.raises(ConfigError, match="ml-100k only"):
        build_task("coldstart", tmp_path, dataset="ml-latest-small")


@pytest.mark.slow
def test_real_tasks_have_the_published_sizes(real_data_dir: Path) -> None:
    loo = build_task("loo", real_data_dir)
    assert (len(loo.train.users), len(loo.catalog)) == (610, 3650)  # LlamaRec's statistics
    ml = build_task("ml100k", real_data_dir)
    assert len(ml.test_sets["test"]) > 900 and len(ml.catalog) == 1682
    cold = build_task("coldstart", real_data_dir)
    assert len(cold.test_sets["k=3"]) == round(0.2 * 943)
    assert cold.test_sets["k=3"][0].features.keys() == {"age", "gender", "occupation"}
    assert len(cold.user_features) == len(cold.train.users) and len(cold.item_features) == 1682
    assert ml.test_sets["test"][0].features.keys() == {"age", "gender", "occupation"}
    assert len(ml.user_features) == len(ml.train.users) and len(ml.item_features) == 1682
