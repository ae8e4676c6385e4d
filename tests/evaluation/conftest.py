"""Synthetic ratings and a scripted recommender for the evaluation tests."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
import pytest

from cinerec.data.types import Interactions, Rated, ScoredItem
from cinerec.recommenders.base import TrainingOptions


def synthetic_ratings(users: int = 12, items: int = 10, seed: int = 0) -> pd.DataFrame:
    """Every user rates 8 of ``items`` movies (ids 1..items) at distinct times."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(1, users + 1):
        for t, item in enumerate(rng.choice(np.arange(1, items + 1), size=8, replace=False)):
            rows.append((user, int(item), float(rng.integers(1, 6)), 1000 * user + t))
    return pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])


@pytest.fixture
def ratings() -> pd.DataFrame:
    return synthetic_ratings()


class ScriptedRecommender:
    """Ranks items by a fixed order (an id list), minus history and exclusions."""

    name = "scripted"

    def __init__(self, order: Sequence[int]) -> None:
        self.order = list(order)
        self.config = None
        self.fitted_on: Interactions | None = None

    def fit(self, interactions: Interactions, options: TrainingOptions) -> None:
        self.fitted_on = interactions

    def recommend(
        self, history: Sequence[Rated], n: int, exclude: Collection[int] = ()
    ) -> list[ScoredItem]:
        blocked = {r.movie_id for r in history} | set(exclude)
        kept = [i for i in self.order if i not in blocked][:n]
        return [ScoredItem(i, float(len(kept) - k)) for k, i in enumerate(kept)]

    def save(self, path: Path) -> None:  # pragma: no cover - not needed here
        raise NotImplementedError

    @classmethod
    def load(cls, path: Path) -> Self:  # pragma: no cover
        raise NotImplementedError


class FeatureScriptedRecommender(ScriptedRecommender):
    """A scripted model that is feature-aware: records what side information it was given."""

    name = "feature-scripted"

    def __init__(self, order: Sequence[int]) -> None:
        super().__init__(order)
        self.calls: list[str] = []
        self.user_features: dict[int, Any] = {}
        self.item_features: dict[int, Any] = {}
        self.asked_with: list[Mapping[str, Any] | None] = []

    def fit_features(
        self, user_features: Mapping[int, Mapping[str, Any]], item_features: Mapping[int, Any]
    ) -> None:
        self.calls.append("fit_features")
        self.user_features, self.item_features = dict(user_features), dict(item_features)

    def fit(self, interactions: Interactions, options: TrainingOptions) -> None:
        self.calls.append("fit")
        super().fit(interactions, options)

    def recommend_for(
        self,
        history: Sequence[Rated],
        n: int,
        exclude: Collection[int] = (),
        features: Mapping[str, Any] | None = None,
    ) -> list[ScoredItem]:
        self.asked_with.append(features)
        return self.recommend(history, n, exclude)
