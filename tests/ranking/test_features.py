"""Candidate features: the taste pool finds what the retriever misses, the e5 and review
verdict families carry their numbers, and the other families are untouched by them."""

from __future__ import annotations

import numpy as np
import pytest

from cinerec.data.types import Movie, Vocabulary
from cinerec.ranking.features import (
    COLUMNS,
    PRIOR_WEIGHTS,
    FeatureBuilder,
    PriorWeights,
    passage,
)
from tests.ranking.conftest import ROMANCE, SCIFI, make_catalog


def _builder(**kwargs) -> FeatureBuilder:
    catalog = make_catalog()
    items = Vocabulary([m.movie_id for m in catalog])
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(len(items), 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    popularity = np.arange(len(items), dtype=np.float64)
    return FeatureBuilder(items, {m.movie_id: m for m in catalog}, vectors, popularity, **kwargs)


def _scifi_first(builder: FeatureBuilder) -> np.ndarray:
    """Retriever scores that put every sci-fi movie above every romance."""
    return np.array([2.0 if i in SCIFI else 1.0 for i in builder.items.ids.tolist()])


def test_the_taste_pool_adds_movies_the_retriever_ranks_low() -> None:
    builder = _builder(retriever_pool=5, statement_pool=0, taste_pool=10)
    cands = builder.build(SCIFI[:2], "romance in paris, no sci-fi", None, _scifi_first(builder))
    assert cands.from_pools is not None
    added = cands.ids[~cands.from_pools].tolist()
    assert len(added) == 10
    assert set(added) <= set(ROMANCE)
    assert set(cands.ids[cands.from_pools].tolist()) <= set(SCIFI)


def test_without_a_taste_pool_every_candidate_comes_from_the_pools() -> None:
    builder = _builder(retriever_pool=5, statement_pool=0)
    cands = builder.build(SCIFI[:2], "romance in paris", None, _scifi_first(builder))
    assert cands.from_pools is None
    assert set(cands.ids.tolist()) <= set(SCIFI)


def test_taste_scores_drop_disliked_genres_and_count_people() -> None:
    builder = _builder()
    scores = builder.taste_scores("I like Bea Heart films, no sci-fi")
    ids = builder.items.ids.tolist()
    assert np.all(np.isneginf(scores[[ids.index(i) for i in SCIFI]]))
    assert np.all(scores[[ids.index(i) for i in ROMANCE]] >= 2.0)


def test_review_verdicts_fill_their_columns_and_nan_elsewhere() -> None:
    builder = _builder(verdicts={SCIFI[3]: (9.0, 0.75, 7.5)})
    cands = builder.build([SCIFI[0]], "", None, _scifi_first(builder))
    start = COLUMNS.index("rev_log_n")
    rows = {int(i): cands.features[k, start : start + 3] for k, i in enumerate(cands.ids)}
    assert rows[SCIFI[3]] == pytest.approx([np.log1p(9.0), 0.75, 7.5])
    assert np.all(np.isnan(rows[SCIFI[4]]))


def test_e5_columns_are_the_statements_cosine_and_rank() -> None:
    rng = np.random.default_rng(1)
    builder0 = _builder()
    e5 = rng.normal(size=(len(builder0.items), 4)).astype(np.float32)
    e5 /= np.linalg.norm(e5, axis=1, keepdims=True)
    builder = _builder(e5_vectors=e5)
    query = e5[5] / np.linalg.norm(e5[5])
    cands = builder.build([], "anything", None, _scifi_first(builder), statement_e5=query)
    k = cands.ids.tolist().index(int(builder.items.ids[5]))
    assert cands.features[k, COLUMNS.index("e5_sim")] == pytest.approx(1.0, abs=1e-5)
    assert cands.features[k, COLUMNS.index("e5_rank")] == 0
    none = builder0.build([], "anything", None, _scifi_first(builder0))
    assert np.all(none.features[:, COLUMNS.index("e5_sim")] == 0)
    assert np.all(none.features[:, COLUMNS.index("e5_rank")] == len(builder0.items))


def test_a_passage_names_title_genres_keywords_and_people() -> None:
    movie = Movie(1, "Heat", 1995, ("Crime",), keywords=("heist",), director="Michael Mann",
                  cast=("Al Pacino",))  # fmt: skip
    assert passage(movie) == "Heat (1995). Crime. heist. Michael Mann, Al Pacino"


def test_the_prior_lifts_liked_genres_and_sinks_disliked_ones() -> None:
    builder = _builder()
    ids = builder.items.ids.tolist()
    lift = builder.statement_prior("I love sci-fi. No romance, please.") - builder.log_popularity
    assert lift[[ids.index(i) for i in SCIFI]] == pytest.approx(PRIOR_WEIGHTS.liked)
    assert lift[[ids.index(i) for i in ROMANCE]] == pytest.approx(-PRIOR_WEIGHTS.disliked)
    plain = builder.statement_prior("")
    assert plain == pytest.approx(builder.log_popularity)


def test_the_prior_parts_count_named_people_keywords_and_decades() -> None:
    builder = _builder()
    ids = builder.items.ids.tolist()
    people = builder.prior_parts("Anything with Ann Orbit is a plus.")["people"]
    assert np.all(people[[ids.index(i) for i in SCIFI]] == 1)
    assert np.all(people[[ids.index(i) for i in ROMANCE]] == 0)
    # a keyword of one movie counts fully, one shared by 40 movies less, in a Korean sentence too
    hits = builder.prior_parts("kw3, wedding 같은 이야기가 좋아요.")["keywords"]
    assert hits[ids.index(3)] == pytest.approx(1.0)
    assert 0 < hits[ids.index(ROMANCE[0])] < 1.0
    assert hits[ids.index(SCIFI[5])] == 0
    era = builder.prior_parts("I have a soft spot for the 2000s.")["era"]
    assert np.all(era[[ids.index(i) for i in ROMANCE]] == 1)
    assert np.all(era[[ids.index(i) for i in SCIFI]] == 0)
    weights = PriorWeights(liked=0, disliked=0, people=2.0, keywords=0, era=0, similarity=0)
    builder.prior_weights = weights
    lift = builder.statement_prior("Anything with Ann Orbit is a plus.") - builder.log_popularity
    assert lift[ids.index(SCIFI[0])] == pytest.approx(2.0)


def test_the_prior_adds_the_statement_similarity() -> None:
    builder = _builder()
    query = builder.vectors[4]
    parts = builder.prior_parts("anything", query)
    assert parts["similarity"][4] == pytest.approx(1.0, abs=1e-5)
    lift = builder.statement_prior("anything", query) - builder.log_popularity
    assert lift == pytest.approx(PRIOR_WEIGHTS.similarity * parts["similarity"])


def test_prior_columns_and_pool() -> None:
    builder = _builder(retriever_pool=5, statement_pool=0, prior_pool=10)
    cands = builder.build(SCIFI[:2], "romance in paris, no sci-fi", None, _scifi_first(builder))
    assert cands.from_pools is not None
    added = cands.ids[~cands.from_pools].tolist()
    assert len(added) == 10 and set(added) <= set(ROMANCE)
    # the added ones are the most popular romances (popularity grows with the catalog index)
    assert sorted(added) == list(ROMANCE[-10:])
    score = cands.features[:, COLUMNS.index("prior_score")]
    rank = cands.features[:, COLUMNS.index("prior_rank")]
    assert score[~cands.from_pools].min() > score[cands.from_pools].max()
    assert rank[~cands.from_pools].max() < 10


def test_a_catalog_spelling_of_a_genre_matches_the_parser_s() -> None:
    movies = {
        1: Movie(1, "Kid Film", 1995, ("Children's",)),
        2: Movie(2, "Grown Film", 1995, ("Drama",)),
    }
    items = Vocabulary([1, 2])
    builder = FeatureBuilder(items, movies, np.zeros((2, 4), np.float32), np.array([5.0, 5.0]))
    prior = builder.statement_prior("No family movies, please.")
    assert prior[0] < prior[1]
    cands = builder.build([], "I love family movies.", None, np.zeros(2))
    liked = dict(
        zip(cands.ids.tolist(), cands.features[:, COLUMNS.index("taste_liked")], strict=True)
    )
    assert liked == {1: 1.0, 2: 0.0}
