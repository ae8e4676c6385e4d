"""The contract every recommender keeps; a new model gets it by adding one subclass here.

Like implicit's ``RecommenderBaseTestMixin``: a synthetic matrix with a known right answer
(two disjoint communities, see ``conftest.py``) and the promises of
:class:`cinerec.recommenders.base.Recommender`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cinerec.data.types import Interactions, Rated
from cinerec.errors import ModelError
from cinerec.recommenders.als import ALSConfig, ALSRecommender
from cinerec.recommenders.base import Recommender, TrainingOptions
from cinerec.recommenders.popularity import PopularityConfig, PopularityRecommender

OPTIONS = TrainingOptions(seed=7, threads=1)
A_HISTORY = [Rated(100, 5.0), Rated(101, 4.0), Rated(102, None)]
UNKNOWN = 999_999


class RecommenderContract:
    """Mixin: subclasses set ``make_model`` and ``personalized``."""

    registry_name: str | None = None
    """The entry of the family's registry this suite checks (None: a test double)."""

    personalized: bool = True

    def make_model(self) -> Recommender:
        raise NotImplementedError

    @pytest.fixture
    def model(self, communities: Interactions) -> Recommender:
        model = self.make_model()
        model.fit(communities, OPTIONS)
        return model

    def test_follows_protocol(self, model: Recommender) -> None:
        assert isinstance(model, Recommender)
        assert isinstance(model.name, str) and model.name
        assert model.config is not None  # part of the protocol: the typed settings

    def test_known_right_answer(
        self, model: Recommender, community_items: dict[str, tuple[int, ...]]
    ) -> None:
        top = [r.movie_id for r in model.recommend(A_HISTORY, n=5)]
        if self.personalized:
            assert set(top) <= set(community_items["A"])  # though B is more popular
        else:
            assert set(top) <= set(community_items["B"])  # popular, whatever the history

    def test_n_respected(self, model: Recommender, communities: Interactions) -> None:
        assert len(model.recommend(A_HISTORY, n=5)) == 5
        assert model.recommend(A_HISTORY, n=0) == []
        everything = model.recommend(A_HISTORY, n=1000, exclude=[200])
        assert len(everything) == len(communities.items) - len(A_HISTORY) - 1

    def test_negative_n_rejected(self, model: Recommender) -> None:
        with pytest.raises(ValueError, match="n must be"):
            model.recommend(A_HISTORY, n=-1)

    def test_never_history_or_excluded(self, model: Recommender) -> None:
        exclude = {103, 104, 200, 201, UNKNOWN}
        ids = {r.movie_id for r in model.recommend(A_HISTORY, n=1000, exclude=exclude)}
        assert not ids & {r.movie_id for r in A_HISTORY}
        assert not ids & exclude

    def test_only_known_ids(self, model: Recommender, communities: Interactions) -> None:
        known = set(communities.items.ids.tolist())
        assert {r.movie_id for r in model.recommend(A_HISTORY, n=1000)} <= known

    def test_scores_sorted_descending(self, model: Recommender) -> None:
        scores = [r.score for r in model.recommend(A_HISTORY, n=30)]
        assert scores == sorted(scores, reverse=True)
        assert all(isinstance(s, float) for s in scores)

    def test_unknown_ids_in_history_ignored(self, model: Recommender) -> None:
        with_unknown = [*A_HISTORY, Rated(UNKNOWN, 5.0), Rated(UNKNOWN + 1)]
        assert model.recommend(with_unknown, n=10) == model.recommend(A_HISTORY, n=10)

    @pytest.mark.parametrize("history", [[], [Rated(UNKNOWN)]])
    def test_empty_or_unknown_history_still_recommends(
        self, model: Recommender, history: list[Rated]
    ) -> None:
        recs = model.recommend(history, n=5)
        assert len(recs) == 5
        assert len({r.movie_id for r in recs}) == 5

    def test_save_load_round_trip(self, model: Recommender, tmp_path: Path) -> None:
        model.save(tmp_path / "m")
        loaded = type(model).load(tmp_path / "m")
        assert loaded.config == model.config
        for history in (A_HISTORY, [], [Rated(205, 2.0)]):
            assert loaded.recommend(history, n=10, exclude=[201]) == model.recommend(
                history, n=10, exclude=[201]
            )

    def test_deterministic_with_same_seed(
        self, model: Recommender, make_interactions: Callable[[int], Interactions]
    ) -> None:
        again = self.make_model()
        again.fit(make_interactions(0), OPTIONS)
        assert again.recommend(A_HISTORY, n=10) == model.recommend(A_HISTORY, n=10)

    def test_untrained_model_says_so(self) -> None:
        with pytest.raises(ModelError, match="not trained"):
            self.make_model().recommend(A_HISTORY, n=3)

    def test_load_missing_directory_says_train(self, tmp_path: Path) -> None:
        with pytest.raises(ModelError, match="cinerec train"):
            type(self.make_model()).load(tmp_path / "nothing-here")


class TestPopularityContract(RecommenderContract):
    registry_name = "popularity"
    personalized = False

    def make_model(self) -> Recommender:
        return PopularityRecommender(PopularityConfig())


class TestALSContract(RecommenderContract):
    registry_name = "als"

    def make_model(self) -> Recommender:
        return ALSRecommender(ALSConfig(factors=8, regularization=0.1, iterations=10))
