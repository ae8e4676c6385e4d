"""The learned ranker: trains on simulated viewers of training users only, reads the
statement, keeps its promises (no ticks, n items), and saves and loads to the same order."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from cinerec.data.types import Interactions, Rated
from cinerec.errors import ConfigError, ModelError
from cinerec.evaluation.newviewer import newviewer_data
from cinerec.ranking.features import COLUMNS
from cinerec.ranking.ranker import (
    TRAINING_KS,
    LearnedRanker,
    LearnedRankerConfig,
    held_out_users,
)
from cinerec.ranking.statements import LANGUAGES
from cinerec.ranking.viewers import DRAWS
from cinerec.recommenders.base import FeatureAware, TrainingOptions
from cinerec.recommenders.registry import build
from tests.embeddings.fakes import HashingEmbedder
from tests.ranking.conftest import ROMANCE, SCIFI, make_catalog, make_ratings

MIXED_TICKS = [Rated(SCIFI[0]), Rated(ROMANCE[0]), Rated(SCIFI[1]), Rated(ROMANCE[1])]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> LearnedRanker:
    data = newviewer_data(make_ratings(200), make_catalog(), dataset="synthetic", seed=1)
    config = LearnedRankerConfig(
        retriever="ease", cache_dir=str(tmp_path_factory.mktemp("emb")), n_estimators=60
    )
    ranker = LearnedRanker(config, embedder=HashingEmbedder(), catalog=make_catalog())
    ranker.fit(Interactions(data.train), TrainingOptions(seed=0, threads=1))
    return ranker


def test_it_is_a_registered_feature_aware_recommender() -> None:
    model = build("ltr", {"families": ["retriever", "statement"]})
    assert isinstance(model, LearnedRanker) and isinstance(model, FeatureAware)
    assert model.config.families == ("retriever", "statement")


@pytest.mark.parametrize("families", [(), ("llm",), ("retriever", "colour")])
def test_unknown_or_llm_families_are_refused(families: tuple[str, ...]) -> None:
    with pytest.raises(ConfigError, match="families"):
        LearnedRankerConfig(families=families)


def test_it_trains_on_simulated_viewers(trained: LearnedRanker) -> None:
    assert trained.training_rows > 0
    assert trained._booster.num_trees() >= 1


def test_the_statement_decides_between_two_tastes(trained: LearnedRanker) -> None:
    scifi = trained.recommend_for(
        MIXED_TICKS,
        10,
        features={"statement": "I love sci-fi. Stories about robot and space hook me."},
    )
    romance = trained.recommend_for(
        MIXED_TICKS, 10, features={"statement": "I love romance. Stories about wedding hook me."}
    )
    assert sum(r.movie_id in SCIFI for r in scifi) >= 8
    assert sum(r.movie_id in ROMANCE for r in romance) >= 8


def test_never_returns_a_tick_or_an_excluded_movie(trained: LearnedRanker) -> None:
    recs = trained.recommend_for(MIXED_TICKS, 20, exclude=[SCIFI[2]], features={})
    ids = [r.movie_id for r in recs]
    assert len(ids) == 20 == len(set(ids))
    assert not {SCIFI[0], SCIFI[1], ROMANCE[0], ROMANCE[1], SCIFI[2]} & set(ids)


def test_save_and_load_give_the_same_order(trained: LearnedRanker, tmp_path: Path) -> None:
    trained.save(tmp_path / "ltr")
    loaded = LearnedRanker.load(
        tmp_path / "ltr", embedder=HashingEmbedder(), catalog=make_catalog()
    )
    features = {"statement": "Give me sci-fi, the more mind-bending the better."}
    before = trained.recommend_for(MIXED_TICKS, 15, features=features)
    after = loaded.recommend_for(MIXED_TICKS, 15, features=features)
    assert [r.movie_id for r in after] == [r.movie_id for r in before]
    assert [r.score for r in after] == pytest.approx([r.score for r in before], rel=1e-5)


def test_an_ablation_retrains_without_the_family(trained: LearnedRanker) -> None:
    ablated = trained.with_config(families=("retriever", "ticks", "popularity", "year"))
    assert ablated._booster is not trained._booster
    recs = ablated.recommend_for(MIXED_TICKS, 10, features={"statement": "I love romance."})
    assert len(recs) == 10


def test_loading_nothing_says_to_train(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cinerec train ltr"):
        LearnedRanker.load(tmp_path / "missing")


def _fit_and_reload(
    tmp_path: Path, statement: str, e5: bool = False, **changes: object
) -> tuple[LearnedRanker, LearnedRanker]:
    """A small ranker fitted on the synthetic viewers, and the same saved and loaded."""
    data = newviewer_data(make_ratings(200), make_catalog(), dataset="synthetic", seed=1)
    config = LearnedRankerConfig(
        retriever="ease",
        cache_dir=str(tmp_path / "emb"),
        n_estimators=30,
        retriever_pool=10,
        statement_pool=2,
        **changes,
    )
    extra = {"e5": HashingEmbedder()} if e5 else {}
    ranker = LearnedRanker(config, embedder=HashingEmbedder(), catalog=make_catalog(), **extra)
    ranker.fit(Interactions(data.train), TrainingOptions(seed=0, threads=1))
    ranker.save(tmp_path / "ltr")
    extra = {"e5": HashingEmbedder()} if e5 else {}
    loaded = LearnedRanker.load(
        tmp_path / "ltr", embedder=HashingEmbedder(), catalog=make_catalog(), **extra
    )
    ticks = [Rated(SCIFI[0]), Rated(SCIFI[1])]
    before = ranker.recommend_for(ticks, 10, features={"statement": statement})
    after = loaded.recommend_for(ticks, 10, features={"statement": statement})
    assert [r.movie_id for r in after] == [r.movie_id for r in before]
    assert [r.score for r in after] == pytest.approx([r.score for r in before], abs=1e-9)
    assert sum(r.movie_id in ROMANCE for r in after) >= 8
    return ranker, loaded


def test_the_e5_family_and_taste_pool_train_save_and_load(tmp_path: Path) -> None:
    statement = "romance and weddings in paris, no sci-fi"
    ranker, _ = _fit_and_reload(
        tmp_path,
        statement,
        e5=True,
        families=("retriever", "ticks", "statement", "taste", "popularity", "e5"),
        taste_pool=20,
        prior_pool=0,
    )
    cands = ranker.candidates([SCIFI[0], SCIFI[1]], statement)
    assert cands.from_pools is not None and (~cands.from_pools).any()
    assert np.any(cands.features[:, COLUMNS.index("e5_sim")] != 0)


def test_the_prior_family_and_pool_train_save_and_load(tmp_path: Path) -> None:
    statement = "I love romance. No sci-fi, please."
    ranker, loaded = _fit_and_reload(
        tmp_path,
        statement,
        families=("retriever", "ticks", "statement", "taste", "popularity", "prior"),
        prior_pool=20,
    )
    assert loaded.config.prior_pool == 20 and "prior" in loaded.config.families
    cands = ranker.candidates([SCIFI[0], SCIFI[1]], statement)
    assert cands.from_pools is not None and (~cands.from_pools).any()
    added = cands.ids[~cands.from_pools].tolist()
    assert set(added) <= set(ROMANCE)
    score = cands.features[:, COLUMNS.index("prior_score")]
    assert score[~cands.from_pools].min() > score[np.isin(cands.ids, SCIFI)].max()


def _training_log_pop_gap(ranker: LearnedRanker) -> float:
    """Mean ``log_pop`` served minus mean trained on (every movie is a candidate here)."""
    assert ranker._training is not None and ranker._builder is not None
    trained_on = ranker._training.x[:, COLUMNS.index("log_pop")].mean()
    return float(ranker._builder.log_popularity.mean() - trained_on)


def test_training_sees_the_served_popularity_scale_and_every_view(
    trained: LearnedRanker, tmp_path: Path
) -> None:
    # The training part's raw counts made every movie look 1 / (1 - ranker_users) times as
    # popular when served as when trained; the ranker fell below its retriever at k=1.
    data = newviewer_data(make_ratings(200), make_catalog(), dataset="synthetic", seed=1)
    old = LearnedRanker(
        replace(trained.config, scale_popularity=False, training_views="sampled"),
        embedder=HashingEmbedder(),
        catalog=make_catalog(),
    )
    old.fit(Interactions(data.train), TrainingOptions(seed=0, threads=1))
    assert abs(_training_log_pop_gap(trained)) < 0.15
    assert _training_log_pop_gap(old) > 0.4
    assert trained._training is not None and old._training is not None
    # the same simulated viewers: one query per k, draw and language against one per k
    assert trained._training.viewers == len(DRAWS) * len(LANGUAGES) * old._training.viewers
    assert old._training.viewers % len(TRAINING_KS) == 0


def test_unknown_training_views_are_refused() -> None:
    with pytest.raises(ConfigError, match="training_views"):
        LearnedRankerConfig(training_views="some")


@pytest.mark.parametrize("folds", [-1, 2.5, True, "3"])
def test_bad_fold_counts_are_refused(folds: object) -> None:
    with pytest.raises(ConfigError, match="ranker_folds"):
        LearnedRankerConfig(ranker_folds=folds)  # type: ignore[arg-type]


def test_folds_partition_the_users_by_seed() -> None:
    users = np.arange(1, 101)
    folds = held_out_users(users, LearnedRankerConfig(ranker_folds=3), seed=7)
    assert len(folds) == 3 and sorted(len(f) for f in folds) == [33, 33, 34]
    assert set().union(*folds) == set(users.tolist()) and sum(map(len, folds)) == 100
    assert folds == held_out_users(users, LearnedRankerConfig(ranker_folds=3), seed=7)
    assert folds != held_out_users(users, LearnedRankerConfig(ranker_folds=3), seed=8)
    (single,) = held_out_users(users, LearnedRankerConfig(ranker_folds=1), seed=7)
    assert len(single) == 45
    with pytest.raises(ConfigError, match="ranker_folds"):
        held_out_users(users[:2], LearnedRankerConfig(ranker_folds=3), seed=7)


def test_with_folds_every_training_user_supplies_queries(
    trained: LearnedRanker, tmp_path: Path
) -> None:
    data = newviewer_data(make_ratings(200), make_catalog(), dataset="synthetic", seed=1)
    folded = LearnedRanker(
        replace(trained.config, ranker_folds=3, cache_dir=str(tmp_path)),
        embedder=HashingEmbedder(),
        catalog=make_catalog(),
    )
    fitted_on: list[set[int]] = []
    fit_retriever = folded._fitted_retriever

    def recording(interactions: Interactions, *args: object) -> object:
        fitted_on.append(set(interactions.frame["user_id"].unique().tolist()))
        return fit_retriever(interactions, *args)  # type: ignore[arg-type]

    folded._fitted_retriever = recording  # type: ignore[method-assign]
    folded.fit(Interactions(data.train), TrainingOptions(seed=0, threads=1))
    assert folded._training is not None and trained._training is not None
    users = set(data.train["user_id"].unique().tolist())
    # one retriever per fold, fitted without that fold's users, then one on everyone
    folds = held_out_users(np.array(sorted(users)), folded.config, seed=0)
    assert fitted_on == [users - fold for fold in folds] + [users]
    assert set(folded._training.users) == users
    assert len(trained._training.users) < 0.5 * len(users)
    assert folded._training.viewers > 2 * trained._training.viewers
    recs = folded.recommend_for(MIXED_TICKS, 10, features={"statement": "I love romance."})
    assert sum(r.movie_id in ROMANCE for r in recs) >= 8
