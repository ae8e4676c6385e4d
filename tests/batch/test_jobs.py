"""jobs: each batch job on a real local Ray cluster stores what the in-process code stores."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cinerec.batch.cluster import ClusterConfig
from cinerec.batch.jobs import (
    catalog_embeddings,
    evaluation_grid,
    review_scores,
    review_scores_path,
    review_summaries,
)
from cinerec.config import Settings
from cinerec.data.types import Movie
from cinerec.db import repository as repo
from cinerec.errors import ConfigError
from cinerec.evaluation.harness import HarnessOptions
from cinerec.evaluation.protocols import leave_one_out_task
from cinerec.evaluation.tuning import grid_search
from cinerec.services import reviews
from cinerec.services.platform import Platform
from tests.evaluation.conftest import synthetic_ratings
from tests.services.test_reviews import platform, write_archive  # noqa: F401 - fixture

ONE = ClusterConfig(workers=1)


def _content(summaries: dict[int, Any]) -> dict[int, Any]:
    """Summaries without their storage time."""
    return {m: dataclasses.replace(s, updated_at=None) for m, s in summaries.items()}


def test_review_summaries_on_ray_equal_the_in_process_build(
    ray_local: Any,
    platform: Platform,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    data = write_archive(tmp_path / "data")
    report = review_summaries(platform, data_dir=data, cluster=ONE, shard_size=1)
    on_ray = _content(reviews.summaries_for(platform, [1, 2, 3]))
    assert report.items == 2 and report.outputs == 1 and report.shards == 2  # movies 1 and 2
    assert report.details["reviews"] == 5 and report.map_seconds > 0
    reviews.build_review_summaries(platform, data_dir=data)
    assert _content(reviews.summaries_for(platform, [1, 2, 3])) == on_ray
    with platform.session() as session:
        assert "acting" in session.get(reviews.MovieRow, 1).description


def test_review_scores_cover_every_review(
    ray_local: Any,
    platform: Platform,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    data = write_archive(tmp_path / "data")
    report = review_scores(platform, data_dir=data, cluster=ONE, shard_size=3)
    saved = np.load(review_scores_path(platform.settings.home))
    assert report.outputs == report.items == len(saved["p_positive"]) == 8
    assert report.shards == 3
    assert ((saved["p_positive"] >= 0) & (saved["p_positive"] <= 1)).all()
    assert report.details["test_accuracy"] is None  # the tiny archive has no test split


def test_evaluation_grid_on_ray_equals_grid_search(ray_local: Any) -> None:
    task = leave_one_out_task(synthetic_ratings())
    grid = [{"min_rating": None}, {"min_rating": 6.0}]
    options = HarnessOptions(ks=(10,))
    best, trials, report = evaluation_grid(task, "popularity", grid, cluster=ONE, options=options)
    local_best, local = grid_search(task, "popularity", grid, options=options)
    assert [t.score for t in trials] == [t.score for t in local]
    assert best.config == local_best.config and report.outputs == 2
    with pytest.raises(ConfigError, match="empty"):
        evaluation_grid(task, "popularity", [], cluster=ONE)


@pytest.mark.slow
def test_catalog_embeddings_fill_the_cache_the_index_reads(ray_local: Any, tmp_path: Path) -> None:
    platform = Platform(  # noqa: F811 - its own cache directory, not the user's
        Settings(home=tmp_path / "home", cache_dir=tmp_path / "cache", llm_backend="none")
    )
    platform.migrate()
    with platform.session() as session:
        repo.upsert_movies(
            session,
            movies=[
                Movie(1, "Heat", 1995, ("Crime",)),
                Movie(2, "Tiny", 2001, ("Drama",)),
                Movie(3, "Alien", 1979, ("Horror",)),
            ],
            popularity={},
        )
    from cinerec.embeddings.cache import EmbeddingCache
    from cinerec.embeddings.registry import build_embedder
    from cinerec.services.similar import embedding_cache_dir

    report = catalog_embeddings(platform, cluster=ONE, embedder="fast-use", shard_size=2)
    assert report.items == 3 and report.outputs == 3 and report.shards == 2
    model = build_embedder("fast-use")
    cache = EmbeddingCache(embedding_cache_dir(platform.settings))
    with platform.session() as session:
        texts = [
            r.description or r.title
            for r in session.scalars(reviews.select(reviews.MovieRow).order_by(reviews.MovieRow.id))
        ]
    assert cache.missing(model, texts) == []
    np.testing.assert_allclose(
        cache.embed(model, texts[:1])[0], model.embed_passages(texts[:1])[0], atol=1e-5
    )
    again = catalog_embeddings(platform, cluster=ONE, embedder="fast-use")
    assert again.outputs == 0 and again.shards == 0  # nothing left to embed
