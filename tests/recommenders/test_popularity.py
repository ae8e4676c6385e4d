"""Popularity specifics: counting, tie-breaking, rating and recency filters."""

from __future__ import annotations

import pandas as pd
import pytest

from cinerec.data.types import Interactions
from cinerec.errors import ConfigError
from cinerec.recommenders.base import TrainingOptions
from cinerec.recommenders.popularity import PopularityConfig, PopularityRecommender

DAY = 86_400


def _interactions() -> Interactions:
    rows = [
        # item 1: three ratings, all old and low; item 2: two high recent ratings;
        # item 3: two ratings too, but lower -> loses the tie with item 2.
        (1, 1, 1.0, 0), (2, 1, 2.0, 0), (3, 1, 2.0, 0),
        (1, 2, 5.0, 100 * DAY), (2, 2, 4.0, 100 * DAY),
        (1, 3, 3.0, 99 * DAY), (3, 3, 3.0, 100 * DAY),
    ]  # fmt: skip
    return Interactions(pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"]))


def _ranking(config: PopularityConfig) -> list[int]:
    model = PopularityRecommender(config)
    model.fit(_interactions(), TrainingOptions())
    return [r.movie_id for r in model.recommend([], n=10)]


def test_count_first_then_mean_rating() -> None:
    model = PopularityRecommender()
    model.fit(_interactions(), TrainingOptions())
    recs = model.recommend([], n=3)
    assert [r.movie_id for r in recs] == [1, 2, 3]
    assert [int(r.score) for r in recs] == [3, 2, 2]  # the integer part is the count


def test_min_rating_counts_only_good_ratings() -> None:
    assert _ranking(PopularityConfig(min_rating=3.0)) == [2, 3, 1]


def test_recent_days_counts_only_the_recent_window() -> None:
    assert _ranking(PopularityConfig(recent_days=1)) == [2, 3, 1]
    assert _ranking(PopularityConfig(recent_days=1000)) == [1, 2, 3]


def test_recent_days_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="recent_days"):
        PopularityConfig(recent_days=0)
