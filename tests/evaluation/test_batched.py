"""The batched scoring path gives the rankings and metrics of the one-by-one path."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from cinerec.data.types import Interactions, Rated, Vocabulary
from cinerec.evaluation.protocols import EvalCase
from cinerec.evaluation.ranking import (
    per_user_metrics,
    rank_cases_batched,
    rank_cases_one_by_one,
    top_k_indices,
)
from cinerec.recommenders._common import top_n
from cinerec.recommenders.base import BatchScorer, TrainingOptions
from cinerec.recommenders.registry import build

N_ITEMS = 40


def _frame(users: int = 60, seed: int = 0) -> pd.DataFrame:
    """Users rate 6-14 of 40 items, drawn with a popularity skew (so popularity has ties)."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, N_ITEMS + 1)
    rows = []
    for user in range(1, users + 1):
        size = int(rng.integers(6, 15))
        items = rng.choice(
            np.arange(1, N_ITEMS + 1), size, replace=False, p=weights / weights.sum()
        )
        for t, item in enumerate(items):
            rows.append((user, int(item), float(rng.integers(1, 6)), 1000 * user + t))
    return pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])


def _cases(frame: pd.DataFrame) -> list[EvalCase]:
    """Each user's last two items are the targets; plus the edge cases."""
    cases = []
    for user, part in frame.groupby("user_id", sort=True):
        pairs = zip(part["item_id"], part["rating"], strict=True)
        rated = [Rated(int(i), float(r)) for i, r in pairs]
        targets = tuple(r.movie_id for r in rated[-2:])
        cases.append(EvalCase(int(user), tuple(rated[:-2]), targets))
    cases += [
        EvalCase(900, (), (1, 2)),  # no history: popularity fallback
        EvalCase(901, (Rated(999), Rated(3)), (998, 3)),  # unknown movie and target; target seen
        EvalCase(902, (Rated(999),), (5,)),  # only an unknown movie
    ]
    return cases


MODELS: dict[str, dict[str, Any]] = {
    "popularity": {},
    "ease": {"regularization": 20.0},
    "als": {"factors": 8, "iterations": 5},
    "bpr": {"factors": 8, "iterations": 20},
    "sasrec": {"epochs": 2, "hidden": 16, "max_len": 10, "batch_size": 16},
}


@pytest.mark.parametrize("name", list(MODELS))
def test_batched_path_matches_one_by_one(name: str) -> None:
    if name == "sasrec":
        pytest.importorskip("torch")
    frame = _frame()
    # Item 40 never enters training, so the catalog holds an item the model does not know.
    train = Interactions(frame[frame["item_id"] != N_ITEMS].reset_index(drop=True))
    catalog = Vocabulary(range(1, N_ITEMS + 1))
    model = build(name, MODELS[name])
    model.fit(train, TrainingOptions(seed=3, threads=1))
    assert isinstance(model, BatchScorer)
    cases = _cases(frame)

    one = rank_cases_one_by_one(model, cases, catalog, max_k=10)
    batched = rank_cases_batched(model, cases, catalog, max_k=10, batch_size=7)

    np.testing.assert_array_equal(batched.ranks, one.ranks)
    np.testing.assert_array_equal(batched.top_items, one.top_items)
    np.testing.assert_array_equal(batched.n_candidates, one.n_candidates)
    np.testing.assert_array_equal(batched.user_ids, one.user_ids)
    probability = np.full(N_ITEMS, 0.1)
    a = per_user_metrics(one, probability, ks=(5, 10))
    b = per_user_metrics(batched, probability, ks=(5, 10))
    for metric, values in a.items():
        np.testing.assert_allclose(b[metric], values, err_msg=metric)
    assert np.isfinite(one.ranks[:, 0]).any()  # the comparison is not between two empty sets


def test_top_k_indices_breaks_ties_like_top_n() -> None:
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 4, size=(30, 12)).astype(np.float64)  # many ties
    scores[rng.random(scores.shape) < 0.2] = -np.inf
    scores[0] = -np.inf  # nothing rankable
    items = Vocabulary(range(12))
    top = top_k_indices(scores, 5)
    for row, expected in zip(top, scores, strict=True):
        wanted = [r.movie_id for r in top_n(expected, items, 5, np.zeros(0, np.int64))]
        assert row[: len(wanted)].tolist() == wanted
        assert (row[len(wanted) :] == -1).all()
