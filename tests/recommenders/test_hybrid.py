"""The LightFM-style hybrid: the shared contract, feature-only cold users, save/load, config."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cinerec.data.types import Interactions, Rated
from cinerec.errors import ConfigError
from cinerec.recommenders.base import FeatureAware, Recommender, TrainingOptions
from cinerec.recommenders.hybrid import HybridConfig, HybridRecommender, age_bucket, user_tokens

from .conftest import A_ITEMS, A_USERS, B_ITEMS, B_USERS
from .test_contract import RecommenderContract

pytest.importorskip("torch")

SMALL = HybridConfig(dim=16, epochs=40, batch_size=64, learning_rate=0.02, max_history=8)
OPTIONS = TrainingOptions(seed=3, threads=1)

# The community is given by a feature: A users are "occupation=artist", B users "engineer";
# age and gender are the same mix in both, so only the occupation tells them apart.
USER_FEATURES = {
    **{u: {"age": 20 + u % 30, "gender": "MF"[u % 2], "occupation": "artist"} for u in A_USERS},
    **{u: {"age": 20 + u % 30, "gender": "MF"[u % 2], "occupation": "engineer"} for u in B_USERS},
}
ITEM_FEATURES = {**{i: ("Drama",) for i in A_ITEMS}, **{i: ("Action",) for i in B_ITEMS}}


class TestHybridContract(RecommenderContract):
    registry_name = "hybrid"

    def make_model(self) -> Recommender:
        return HybridRecommender(SMALL)


@pytest.fixture(scope="module")
def with_features(communities: Interactions) -> HybridRecommender:
    model = HybridRecommender(SMALL)
    model.fit_features(USER_FEATURES, ITEM_FEATURES)
    model.fit(communities, OPTIONS)
    return model


def test_is_feature_aware(with_features: HybridRecommender) -> None:
    assert isinstance(with_features, FeatureAware)


def test_feature_only_cold_user_gets_their_community(with_features: HybridRecommender) -> None:
    artist = with_features.recommend_for([], n=10, features={"age": 33, "occupation": "artist"})
    engineer = with_features.recommend_for([], n=10, features={"occupation": "engineer"})
    assert {r.movie_id for r in artist} <= set(A_ITEMS)  # though B's movies are more popular
    assert {r.movie_id for r in engineer} <= set(B_ITEMS)


def test_unknown_features_are_ignored(with_features: HybridRecommender) -> None:
    plain = with_features.recommend([Rated(100)], n=10)
    odd = with_features.recommend_for([Rated(100)], n=10, features={"occupation": "pilot"})
    assert odd == plain


def test_save_load_round_trip_keeps_scores(
    with_features: HybridRecommender, tmp_path: Path
) -> None:
    with_features.save(tmp_path / "m")
    loaded = HybridRecommender.load(tmp_path / "m")
    assert loaded.config == with_features.config
    for history, features in (([], {"occupation": "artist"}), ([Rated(205)], {"age": 60})):
        before = with_features.recommend_for(history, n=40, features=features)
        after = loaded.recommend_for(history, n=40, features=features)
        assert [r.movie_id for r in after] == [r.movie_id for r in before]
        np.testing.assert_array_equal([r.score for r in after], [r.score for r in before])


def test_training_loss_falls(with_features: HybridRecommender) -> None:
    assert len(with_features.losses) == SMALL.epochs
    assert np.mean(with_features.losses[-5:]) < np.mean(with_features.losses[:5])


def test_tokens_bucket_age_and_skip_empty_values() -> None:
    assert age_bucket(17) == "<18" and age_bucket(18) == "18-24" and age_bucket(56) == "56+"
    assert user_tokens({"gender": "F", "age": 45, "zip": ""}) == ["age=45-49", "gender=F"]
    assert user_tokens(None) == []


def test_invalid_config_rejected() -> None:
    with pytest.raises(ConfigError, match="dim"):
        HybridConfig(dim=0)
    with pytest.raises(ConfigError, match="feature_dropout"):
        HybridConfig(feature_dropout=1.5)


def test_a_cancelled_training_stops_before_its_next_epoch(communities: Interactions) -> None:
    from cinerec.llm.backends.cancel import Cancelled

    from .conftest import CancelAfter

    model = HybridRecommender(SMALL)
    with pytest.raises(Cancelled, match="Training hybrid was stopped"):
        model.fit(communities, TrainingOptions(seed=3, threads=1, cancel=CancelAfter(3)))
    assert len(model.losses) == 3  # of SMALL.epochs
