"""BPR: the shared contract and the fold-in's optimality."""

from __future__ import annotations

import numpy as np
import pytest

from cinerec.data.types import Interactions, Rated
from cinerec.errors import ConfigError
from cinerec.recommenders.base import Recommender, TrainingOptions
from cinerec.recommenders.bpr import BPRConfig, BPRRecommender

from .test_contract import RecommenderContract

CONFIG = BPRConfig(factors=8, learning_rate=0.05, iterations=60, fold_in_regularization=0.01)


class TestBPRContract(RecommenderContract):
    registry_name = "bpr"

    def make_model(self) -> Recommender:
        return BPRRecommender(CONFIG)


def _objective(model: BPRRecommender, history: list[Rated], x: np.ndarray) -> float:
    factors = model._factors  # noqa: SLF001 - checking the optimiser against its objective
    assert factors is not None and model._items is not None  # noqa: SLF001
    s = factors[:, :-1] @ x + factors[:, -1]
    pos = model._items.indices([r.movie_id for r in history])  # noqa: SLF001
    neg = np.setdiff1d(np.arange(len(s)), pos)
    diff = s[pos][:, None] - s[neg][None, :]
    lam = model.config.fold_in_regularization
    return float(-np.logaddexp(0.0, -diff).mean() - lam / 2 * x @ x)


def test_fold_in_maximises_the_pairwise_objective(communities: Interactions) -> None:
    model = BPRRecommender(CONFIG)
    model.fit(communities, TrainingOptions(seed=1, threads=1))
    history = [Rated(100), Rated(105), Rated(111)]
    x = model.user_factor(history)
    assert x is not None
    best = _objective(model, history, x)
    rng = np.random.default_rng(0)
    for _ in range(20):
        assert _objective(model, history, x + rng.normal(scale=0.05, size=x.shape)) < best


def test_invalid_config_rejected() -> None:
    with pytest.raises(ConfigError):
        BPRConfig(factors=0)
    with pytest.raises(ConfigError):
        BPRConfig(fold_in_regularization=0.0)
