"""'More like this' and taste candidates on a real SQLite catalog with a hashing embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from cinerec.config import LLMBackendName, Settings
from cinerec.data.types import Movie
from cinerec.db.repository import upsert_movies
from cinerec.errors import DataError, NotFoundError
from cinerec.services import similar
from cinerec.services.platform import Platform
from tests.conftest import PgvectorServer
from tests.embeddings.fakes import HashingEmbedder

MOVIES = [
    Movie(1, "Alien", 1979, ("Horror", "Sci-Fi"), description="space creature horror ship crew"),
    Movie(2, "Aliens", 1986, ("Action", "Sci-Fi"), description="space creature marines ship"),
    Movie(3, "Solaris", 1972, ("Drama", "Sci-Fi"), description="space station slow-burn ocean"),
    Movie(4, "Notting Hill", 1999, ("Comedy", "Romance"), description="london bookshop romance"),
    Movie(5, "Amelie", 2001, ("Comedy", "Romance"), description="paris cafe romance whimsy"),
    Movie(6, "Moon", 2009, ("Drama", "Sci-Fi"), description="space station slow-burn clone"),
    Movie(7, "Untitled", None, ()),  # no description: the title is embedded
]


@pytest.fixture
def platform(tmp_path: Path) -> Platform:
    settings = Settings(
        home=tmp_path / "home", cache_dir=tmp_path / "cache", llm_backend=LLMBackendName.NONE
    )
    platform = Platform(settings)
    platform.migrate()
    with platform.session() as session:
        upsert_movies(session, movies=MOVIES)
    return platform


def test_more_like_this_ranks_by_description(platform: Platform) -> None:
    fake = HashingEmbedder()
    recs = similar.more_like_this(platform, 1, n=3, embedder=fake)
    assert recs[0].movie_id == 2 and 1 not in {r.movie_id for r in recs}
    assert len(recs) == 3
    assert [r.score for r in recs] == sorted((r.score for r in recs), reverse=True)
    assert 2 not in {r.movie_id for r in similar.more_like_this(platform, 1, exclude=[2])}


def test_unknown_movie_is_not_found(platform: Platform) -> None:
    with pytest.raises(NotFoundError, match="not in the catalog"):
        similar.more_like_this(platform, 999, embedder=HashingEmbedder())


def test_taste_candidates_filter_dislikes(platform: Platform) -> None:
    fake = HashingEmbedder()
    recs = similar.taste_query_candidates(platform, "slow-burn space, no horror", embedder=fake)
    ids = [r.movie_id for r in recs]
    assert 1 not in ids and ids[0] in (3, 6)
    korean = similar.taste_query_candidates(platform, "로맨스 싫어요", n=10, embedder=fake)
    assert not {4, 5} & {r.movie_id for r in korean}
    excluded = similar.taste_query_candidates(platform, "space", exclude=[3, 6], embedder=fake)
    assert not {3, 6} & {r.movie_id for r in excluded}


def test_index_is_built_once_and_vectors_cached_on_disk(platform: Platform) -> None:
    fake = HashingEmbedder()
    first = similar.catalog_index(platform, embedder=fake)
    assert similar.catalog_index(platform, embedder=fake) is first
    assert len(fake.calls) == len(MOVIES) and "Untitled" in fake.calls
    with platform.session() as session:
        upsert_movies(session, movies=[Movie(8, "Gravity", 2013, ("Sci-Fi",), description="orbit")])
    rebuilt = similar.catalog_index(platform, embedder=fake)
    assert rebuilt is not first and 8 in rebuilt.ids
    assert fake.calls[len(MOVIES) :] == ["orbit"]  # only the new description was embedded
    other = Platform(platform.settings)  # a new process: vectors come from the disk cache
    similar.catalog_index(other, embedder=fake)
    assert len(fake.calls) == len(MOVIES) + 1


def test_cold_start_from_a_few_movies(platform: Platform) -> None:
    recs = similar.similar_for_history(platform, [3], n=2, embedder=HashingEmbedder())
    assert recs[0].movie_id == 6
    assert similar.similar_for_history(platform, [999], embedder=HashingEmbedder()) == []


def test_default_embedder_comes_from_settings(platform: Platform) -> None:
    assert similar.embedder_name(platform.settings) == "fast-use"


def test_empty_or_missing_catalog_says_ingest(tmp_path: Path) -> None:
    bare = Platform(
        Settings(home=tmp_path, cache_dir=tmp_path / "c", llm_backend=LLMBackendName.NONE)
    )
    with pytest.raises(DataError, match="cinerec ingest"):
        similar.more_like_this(bare, 1, embedder=HashingEmbedder())
    bare.migrate()
    with pytest.raises(DataError, match="catalog is empty"):
        similar.more_like_this(bare, 1, embedder=HashingEmbedder())


@pytest.mark.slow
def test_real_catalog_more_like_this(prepared_home: Path, real_data_dir: Path) -> None:
    """fast-USE over the ingested catalog (vectors from the user cache when present; a cold
    cache embeds ~9.7k descriptions, 1-3 minutes on a busy 2-core machine)."""
    import time

    platform = Platform(
        Settings(home=prepared_home, data_dir=real_data_dir, llm_backend=LLMBackendName.NONE)
    )
    toy_story_like = similar.more_like_this(platform, 1, n=10)  # 1 = Toy Story (1995)
    assert len(toy_story_like) == 10 and 1 not in {r.movie_id for r in toy_story_like}
    index = similar.catalog_index(platform)
    animated = [r for r in toy_story_like if "Animation" in index.genres[r.movie_id]]
    assert len(animated) >= 5
    times = []
    for movie_id in index.ids[:200]:
        started = time.perf_counter()
        similar.more_like_this(platform, movie_id, n=10)
        times.append(time.perf_counter() - started)
    assert sorted(times)[int(0.99 * len(times))] < 0.05  # p99 well under 50 ms, DB included
    recs = similar.taste_query_candidates(platform, "공포 말고 우주 SF 영화", n=10)
    assert recs and not any("Horror" in index.genres[r.movie_id] for r in recs)


def test_ready_index_is_none_until_built_then_stale_after_catalog_change(
    platform: Platform,
) -> None:
    assert similar.ready_catalog_index(platform) is None
    similar.catalog_index(platform, embedder=HashingEmbedder())
    ready = similar.ready_catalog_index(platform)
    assert ready is not None and set(ready.ids) == {m.movie_id for m in MOVIES}
    with platform.session() as session:
        upsert_movies(session, movies=[Movie(8, "Gravity", 2013, ("Sci-Fi",))])
    assert similar.ready_catalog_index(platform) is None  # built before the catalog grew


@pytest.mark.db
def test_postgres_with_pgvector_serves_similar_movies_from_the_database(
    platform: Platform, tmp_path: Path, pgvector_server: PgvectorServer
) -> None:
    """On PostgreSQL with pgvector the vectors live in ``movie_vectors`` and its HNSW index
    answers; the answers are the in-process (SQLite, exact) ones."""
    from sqlalchemy import text

    settings = Settings(
        home=tmp_path / "pg-home",
        cache_dir=tmp_path / "pg-cache",
        database_url=pgvector_server.new_database(),
        llm_backend=LLMBackendName.NONE,
    )
    on_postgres = Platform(settings)
    on_postgres.migrate()
    with on_postgres.session() as session:
        upsert_movies(session, movies=MOVIES)
    fake = HashingEmbedder()
    index = similar.catalog_index(on_postgres, embedder=fake)
    assert index.index.kind == "pgvector"
    assert similar.catalog_index(platform, embedder=fake).index.kind == "exact"  # SQLite
    for movie_id in (1, 3, 4):
        got = similar.more_like_this(on_postgres, movie_id, n=4, embedder=fake)
        want = similar.more_like_this(platform, movie_id, n=4, embedder=fake)
        assert [r.movie_id for r in got] == [r.movie_id for r in want]
        assert [r.score for r in got] == pytest.approx([r.score for r in want], abs=1e-6)
    assert similar.similar_for_history(on_postgres, [3], n=2, embedder=fake)[0].movie_id == 6
    with on_postgres.session() as session:
        stored = session.execute(
            text("SELECT movie_id FROM movie_vectors WHERE model = :m"), {"m": fake.name}
        ).scalars()
        assert sorted(stored) == [m.movie_id for m in MOVIES]
        upsert_movies(session, movies=[Movie(8, "Gravity", 2013, ("Sci-Fi",), description="orbit")])
    grown = similar.catalog_index(on_postgres, embedder=fake)
    assert len(grown.index) == len(MOVIES) + 1
    on_postgres.engine.dispose()
