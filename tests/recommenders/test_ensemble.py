"""The blend: the shared contract, normalisation, weight fitting and artifacts."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from cinerec.data.types import Interactions, Rated
from cinerec.errors import ConfigError, ModelError
from cinerec.recommenders.artifacts import load_artifact, train_artifact
from cinerec.recommenders.base import Recommender, TrainingOptions
from cinerec.recommenders.ease import EASEConfig, EASERecommender
from cinerec.recommenders.ensemble import (
    EnsembleConfig,
    EnsembleRecommender,
    blend_ndcg,
    coordinate_ascent,
    drop_rare_items,
    normalize,
)
from cinerec.recommenders.popularity import PopularityConfig, PopularityRecommender
from cinerec.recommenders.registry import make_config

from .conftest import A_ITEMS, A_USERS
from .test_contract import OPTIONS, RecommenderContract

SMALL_ALS = {"factors": 8, "regularization": 0.1, "iterations": 10}
FIXED = EnsembleConfig(
    members=("ease", "als"), weights=(1.0, 0.5), member_configs={"als": SMALL_ALS}
)


class TestBlendContract(RecommenderContract):
    registry_name = "blend"

    def make_model(self) -> Recommender:
        return EnsembleRecommender(FIXED)


class TestLearnedBlendContract(RecommenderContract):
    registry_name = "blend"

    def make_model(self) -> Recommender:
        return EnsembleRecommender(EnsembleConfig(members=("ease", "popularity"), weights=None))


def _a_cases(interactions: Interactions) -> list[tuple[list[Rated], int]]:
    """Community-A users: their first 7 movies, then the 8th as the next item."""
    cases = []
    for user in A_USERS:
        history = interactions.history(user)
        cases.append((history[:-1], history[-1].movie_id))
    return cases


def test_fit_weights_prefers_the_member_that_finds_the_next_item(
    communities: Interactions,
) -> None:
    pop = PopularityRecommender(PopularityConfig())
    ease = EASERecommender(EASEConfig(regularization=10.0))
    for member in (pop, ease):
        member.fit(communities, OPTIONS)
    config = EnsembleConfig(members=("popularity", "ease"))
    blend = EnsembleRecommender.from_fitted(config, [pop, ease], communities)
    weights = blend.fit_weights(_a_cases(communities))
    # Popularity answers an A history with B movies, so it must not outweigh EASE.
    assert weights.sum() == pytest.approx(1.0)
    assert blend.weights["ease"] > blend.weights["popularity"]
    assert blend.validation_ndcg is not None and blend.validation_ndcg > 0
    top = [r.movie_id for r in blend.recommend([Rated(100), Rated(101)], n=5)]
    assert set(top) <= set(A_ITEMS)


def test_from_fitted_checks_member_names(communities: Interactions) -> None:
    ease = EASERecommender()
    ease.fit(communities, OPTIONS)
    with pytest.raises(ConfigError, match="do not match"):
        EnsembleRecommender.from_fitted(FIXED, [ease], communities)


def test_zscore_and_rrf_normalisation_keep_order_and_nan() -> None:
    raw = np.array([[3.0, 1.0, np.nan, 2.0]])
    z = normalize(raw, "zscore")
    assert np.isnan(z[0, 2])
    assert z[0, 0] > z[0, 3] > z[0, 1]
    assert np.nanmean(z) == pytest.approx(0.0)
    rrf = normalize(raw, "rrf")
    assert rrf[0, 0] == pytest.approx(1 / 60) and rrf[0, 1] == pytest.approx(1 / 62)


def test_coordinate_ascent_drops_a_useless_member() -> None:
    rng = np.random.default_rng(0)
    cases, items = 40, 30
    targets = rng.integers(0, items, size=cases)
    good = rng.normal(size=(cases, items))
    good[np.arange(cases), targets] += 10.0  # member 0 alone always ranks the target first
    noise = rng.normal(size=(cases, items)) * 3
    normalized = np.stack([good, noise], axis=1)
    weights, ndcg = coordinate_ascent(normalized, targets)
    assert weights[0] == pytest.approx(1.0) and weights[1] == 0.0
    assert ndcg == pytest.approx(blend_ndcg(normalized, targets, np.array([1.0, 0.0])))
    assert ndcg == pytest.approx(1.0)
    assert blend_ndcg(normalized, targets, np.array([0.0, 1.0])) < 0.5


def test_blend_ndcg_ignores_blocked_and_unknown_targets() -> None:
    normalized = np.array([[[0.0, 1.0, 2.0]], [[5.0, 1.0, 0.0]]])
    normalized[0, 0, 2] = np.nan  # the top item of case 0 is blocked: the target ranks first
    targets = np.array([1, -1])
    assert blend_ndcg(normalized, targets, np.array([1.0])) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ({"members": ()}, "at least one"),
        ({"members": ("ease", "ease")}, "differ"),
        ({"members": ("ease", "blend")}, "unknown member 'blend'"),
        ({"members": ("ease", "lightfm")}, "unknown member 'lightfm'"),
        ({"members": ("ease", "als"), "weights": (1.0,)}, "1 weights for 2"),
        ({"members": ("ease", "als"), "weights": (1.0, -1.0)}, ">= 0"),
        ({"members": ("ease",), "member_configs": {"als": {}}}, "non-members"),
        ({"normalization": "softmax"}, "normalization"),
        ({"min_item_count": 0}, "min_item_count"),
    ],
)
def test_invalid_config_rejected(values: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        EnsembleConfig(**values)


def test_default_config_is_the_validation_fit() -> None:
    config = EnsembleConfig()
    assert config.members == ("sasrec", "ease")
    assert config.weights is not None and len(config.weights) == len(config.members)
    assert config.weights[0] > config.weights[1] > 0  # SASRec leads, EASE adds a little


def test_other_members_need_their_own_weights() -> None:
    with pytest.raises(ConfigError, match="one weight per member, or weights null"):
        EnsembleConfig(members=("sasrec", "ease", "als"))
    assert EnsembleConfig(members=("sasrec", "ease", "als"), weights=None).weights is None


def test_config_survives_json() -> None:
    again = make_config("blend", json.loads(json.dumps(asdict(FIXED))))
    assert again == FIXED
    assert isinstance(again.members, tuple) and isinstance(again.weights, tuple)


def test_artifact_round_trip_keeps_members_and_weights(
    communities: Interactions, tmp_path: Path
) -> None:
    model, info = train_artifact("blend", communities, tmp_path / "blend", config=FIXED,
                                 options=TrainingOptions(seed=3, threads=1))  # fmt: skip
    loaded, info2 = load_artifact(tmp_path / "blend")
    assert info2.version == info.version
    assert isinstance(loaded, EnsembleRecommender)
    assert loaded.weights == pytest.approx({"ease": 2 / 3, "als": 1 / 3})
    history = [Rated(100, 5.0), Rated(205)]
    assert loaded.recommend(history, n=10) == model.recommend(history, n=10)


def test_zero_weight_member_is_not_asked(communities: Interactions) -> None:
    model = EnsembleRecommender(EnsembleConfig(members=("ease", "popularity"), weights=(1.0, 0.0)))
    model.fit(communities, OPTIONS)
    unused = model._members[1]  # type: ignore[index]

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a member with weight 0 was asked")

    unused.recommend = refuse  # type: ignore[method-assign]
    top = [r.movie_id for r in model.recommend([Rated(100), Rated(101)], n=5)]
    assert len(top) == 5 and set(top) <= set(A_ITEMS)


def test_rare_items_are_dropped_before_fitting(communities: Interactions) -> None:
    frame = communities.frame.copy()
    frame.loc[len(frame)] = [1, 777, 5.0, 2_000_000]  # one interaction only
    with_rare = Interactions(frame)
    assert len(drop_rare_items(with_rare, 1).items) == len(with_rare.items)
    assert 777 not in drop_rare_items(with_rare, 2).items
    model = EnsembleRecommender(FIXED)
    model.fit(with_rare, OPTIONS)
    assert 777 not in {r.movie_id for r in model.recommend([Rated(100)], n=1000)}
    with pytest.raises(ModelError, match="min_item_count"):
        drop_rare_items(with_rare, 10_000)
