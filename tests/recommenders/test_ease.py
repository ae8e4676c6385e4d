"""EASE: the shared contract, the closed form on a hand-sized matrix, and real data (slow)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cinerec.data.types import Interactions, Rated
from cinerec.errors import ConfigError, ModelError
from cinerec.recommenders.base import Recommender, TrainingOptions
from cinerec.recommenders.ease import EASEConfig, EASERecommender

from .test_contract import RecommenderContract


class TestEASEContract(RecommenderContract):
    registry_name = "ease"

    def make_model(self) -> Recommender:
        return EASERecommender(EASEConfig(regularization=10.0))


def _tiny() -> Interactions:
    rows = [(1, 10), (1, 11), (2, 10), (2, 11), (2, 12), (3, 12), (3, 13)]
    frame = pd.DataFrame(rows, columns=["user_id", "item_id"]).assign(rating=4.0, timestamp=0)
    return Interactions(frame)


def test_weights_equal_the_closed_form() -> None:
    model = EASERecommender(EASEConfig(regularization=1.0))
    model.fit(_tiny(), TrainingOptions(threads=1))
    x = _tiny().to_csr().toarray().astype(np.float64)
    p = np.linalg.inv(x.T @ x + np.eye(4))
    expected = np.eye(4) - p / np.diag(p)
    np.testing.assert_allclose(model._weights, expected, atol=1e-5)  # noqa: SLF001
    assert np.all(np.diag(model._weights) == 0)  # noqa: SLF001
    # A history of item 10 scores the co-watched 11 above 12, and 13 (never with 10) last.
    assert [r.movie_id for r in model.recommend([Rated(10)], n=3)] == [11, 12, 13]


def test_min_rating_ignores_low_ratings_but_still_excludes_them() -> None:
    model = EASERecommender(EASEConfig(regularization=1.0, min_rating=3.0))
    model.fit(_tiny(), TrainingOptions(threads=1))
    low_only = [r.movie_id for r in model.recommend([Rated(12, 1.0)], n=3)]
    popular = [r.movie_id for r in model.recommend([], n=4, exclude=[12])]
    assert low_only == popular  # nothing liked: the popularity fallback, minus the seen 12


def test_config_and_size_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="regularization"):
        EASEConfig(regularization=0.0)
    monkeypatch.setattr("cinerec.recommenders.ease.MAX_ITEMS", 3)
    with pytest.raises(ModelError, match="too many"):
        EASERecommender().fit(_tiny(), TrainingOptions(threads=1))
