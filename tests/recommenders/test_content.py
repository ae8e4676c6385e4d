"""The content recommender keeps the contract, with a hashing embedder on community texts."""

from __future__ import annotations

from pathlib import Path

import pytest

from cinerec.data.types import Interactions, Rated
from cinerec.errors import ConfigError, ModelError
from cinerec.recommenders.base import Recommender, TextAware, TrainingOptions, give_texts
from cinerec.recommenders.content import ContentConfig, ContentRecommender
from cinerec.recommenders.popularity import PopularityRecommender
from tests.embeddings.fakes import HashingEmbedder
from tests.recommenders.conftest import A_ITEMS, B_ITEMS
from tests.recommenders.test_contract import RecommenderContract

# Community A movies share A words, B movies share B words (with a per-movie word).
TEXTS = {
    **{i: f"space western frontier alpha film{i}" for i in A_ITEMS},
    **{i: f"romance musical paris beta film{i}" for i in B_ITEMS},
}


class TestContentContract(RecommenderContract):
    registry_name = "content"

    @pytest.fixture(autouse=True)
    def _cache(self, tmp_path: Path) -> None:
        self.cache_dir = str(tmp_path / "embeddings")

    def make_model(self) -> Recommender:
        config = ContentConfig(embedder="fake-hash", cache_dir=getattr(self, "cache_dir", None))
        return ContentRecommender(config, embedder=HashingEmbedder(), texts=TEXTS)


@pytest.fixture
def fitted(communities: Interactions, tmp_path: Path) -> ContentRecommender:
    model = ContentRecommender(
        ContentConfig(cache_dir=str(tmp_path)), embedder=HashingEmbedder(), texts=TEXTS
    )
    model.fit(communities, TrainingOptions(threads=1))
    return model


def test_one_ticked_movie_is_enough(fitted: ContentRecommender) -> None:
    recs = fitted.recommend([Rated(205)], n=5)
    assert {r.movie_id for r in recs} <= set(B_ITEMS)


def test_low_rating_pushes_away(fitted: ContentRecommender) -> None:
    recs = fitted.recommend([Rated(100, 1.0)], n=5)
    assert {r.movie_id for r in recs} <= set(B_ITEMS)  # disliked an A movie: B comes first


def test_loaded_model_needs_no_embedder(fitted: ContentRecommender, tmp_path: Path) -> None:
    fitted.save(tmp_path / "m")
    loaded = ContentRecommender.load(tmp_path / "m")
    assert loaded._embedder is None
    assert loaded.recommend([Rated(101, 5.0)], n=3) == fitted.recommend([Rated(101, 5.0)], n=3)


def test_items_without_text_still_rankable(communities: Interactions, tmp_path: Path) -> None:
    texts = {i: t for i, t in TEXTS.items() if i != 219}
    model = ContentRecommender(
        ContentConfig(cache_dir=str(tmp_path)), embedder=HashingEmbedder(), texts=texts
    )
    model.fit(communities, TrainingOptions(threads=1))
    assert 219 in {r.movie_id for r in model.recommend([Rated(100, 5.0)], n=1000)}


def test_config_validated() -> None:
    with pytest.raises(ConfigError, match="unrated_weight"):
        ContentConfig(unrated_weight=0)


def test_fit_reads_no_data_from_disk(communities: Interactions, tmp_path: Path) -> None:
    """Without descriptions the model says what it needs; it never loads a catalog itself."""
    config = ContentConfig(cache_dir=str(tmp_path), data_dir=str(tmp_path / "no-such-dir"))
    model = ContentRecommender(config, embedder=HashingEmbedder())
    with pytest.raises(ModelError, match="descriptions"):
        model.fit(communities, TrainingOptions(threads=1))


def test_descriptions_passed_in_by_the_caller(communities: Interactions, tmp_path: Path) -> None:
    calls: list[int] = []

    def source() -> dict[int, str]:
        calls.append(1)
        return TEXTS

    model = ContentRecommender(ContentConfig(cache_dir=str(tmp_path)), embedder=HashingEmbedder())
    assert isinstance(model, TextAware)
    give_texts(model, source)
    assert calls == []  # called by fit, not before
    model.fit(communities, TrainingOptions(threads=1))
    assert calls == [1]
    assert {r.movie_id for r in model.recommend([Rated(205)], n=5)} <= set(B_ITEMS)


def test_other_models_never_load_descriptions() -> None:
    def source() -> dict[int, str]:
        raise AssertionError("a model that embeds nothing asked for descriptions")

    give_texts(PopularityRecommender(), source)
    give_texts(PopularityRecommender(), None)
