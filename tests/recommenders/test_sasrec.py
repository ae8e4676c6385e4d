"""SASRec: the shared contract, training windows, and order sensitivity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cinerec.data.types import Interactions, Rated
from cinerec.errors import ConfigError
from cinerec.recommenders._sasrec_net import training_windows
from cinerec.recommenders.base import Recommender, TrainingOptions
from cinerec.recommenders.sasrec import SASRecConfig, SASRecRecommender

from .test_contract import RecommenderContract

SMALL = SASRecConfig(max_len=8, hidden=16, layers=1, heads=1, dropout=0.0, epochs=30,
                     batch_size=16, learning_rate=5e-3)  # fmt: skip


class TestSASRecContract(RecommenderContract):
    def make_model(self) -> Recommender:
        return SASRecRecommender(SMALL)


def test_training_windows_are_left_padded_next_item_pairs() -> None:
    inputs, targets = training_windows([np.array([1, 2, 3, 4, 5])], max_len=3, stride=2)
    np.testing.assert_array_equal(inputs, [[2, 3, 4], [0, 1, 2]])
    np.testing.assert_array_equal(targets, [[3, 4, 5], [0, 2, 3]])


def test_learns_a_deterministic_cycle() -> None:
    # Every user walks the cycle 1 -> 2 -> ... -> 6 -> 1 from a random start; the next item
    # is fully determined by the last one, which popularity or co-occurrence cannot tell.
    rng = np.random.default_rng(0)
    rows = []
    for user in range(40):
        start = int(rng.integers(6))
        for t in range(5):
            rows.append((user, (start + t) % 6 + 1, 4.0, t))
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])
    model = SASRecRecommender(SMALL)
    model.fit(Interactions(frame), TrainingOptions(seed=0, threads=1))
    assert model.recommend([Rated(2), Rated(3)], n=1)[0].movie_id == 4
    assert model.recommend([Rated(5), Rated(6)], n=1)[0].movie_id == 1
    assert model.losses[-1] < model.losses[0]


def test_invalid_config_rejected() -> None:
    with pytest.raises(ConfigError, match="divide"):
        SASRecConfig(hidden=10, heads=3)
    with pytest.raises(ConfigError, match="dropout"):
        SASRecConfig(dropout=1.0)
