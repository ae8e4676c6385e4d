"""Candidate features: the taste pool finds what the retriever misses, the e5 and review
verdict families carry their numbers, and the other families are untouched by them."""

from __future__ import annotations

import numpy as np
import pytest

from cinerec.data.types import Movie, Vocabulary
from cinerec.ranking.features import COLUMNS, FeatureBuilder, passage
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
