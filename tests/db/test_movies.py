"""Catalog functions: bulk upsert, lookups, title search and popularity, on every backend."""

from __future__ import annotations

import dataclasses
import time

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cinerec.data.types import Movie
from cinerec.db import repository as repo


def _ids(movies: list[Movie]) -> list[int]:
    return [m.movie_id for m in movies]


def test_catalog_round_trips_as_core_movies(session: Session, catalog: dict[int, Movie]) -> None:
    assert repo.count_movies(session) == len(catalog)
    for movie_id, movie in catalog.items():
        assert repo.get_movie(session, movie_id=movie_id) == movie  # Korean and HTML included
    assert repo.get_movie(session, movie_id=424242) is None


def test_get_movies_keeps_requested_order_and_skips_unknown(
    session: Session, catalog: dict[int, Movie]
) -> None:
    found = repo.get_movies(session, ids=[11, 999, 1, 11, 5])
    assert list(found) == [11, 1, 5]
    assert found[11] == catalog[11]
    assert repo.get_movies(session, ids=[]) == {}
    assert repo.missing_movie_ids(session, ids=[3, 998, 999, 3]) == [998, 999]


def test_upsert_updates_and_keeps_popularity_unless_given(
    session: Session, catalog: dict[int, Movie]
) -> None:
    renamed = dataclasses.replace(catalog[4], title="Heat (TV)", genres=("Drama",))
    assert repo.upsert_movies(session, movies=[renamed, Movie(100, "New")]) == 2
    assert repo.get_movie(session, movie_id=4) == renamed
    assert repo.search_movies(session, query="heat (tv)") == [renamed]
    assert repo.count_movies(session) == len(catalog) + 1
    # Popularity was kept for id 4 (5 ratings) and is 0 for the new movie.
    ranking = repo.popular_movie_ids(session, limit=100)
    assert ranking.index(4) < ranking.index(100) == len(ranking) - 1
    repo.upsert_movies(session, movies=[catalog[4]], popularity={4: 10_000})
    assert repo.popular_movie_ids(session, limit=1) == [4]


def test_upsert_is_idempotent_and_last_duplicate_wins(session: Session) -> None:
    movies = [Movie(1, "One"), Movie(2, "Two"), Movie(1, "Uno")]
    assert repo.upsert_movies(session, movies=movies) == 2
    assert repo.upsert_movies(session, movies=movies) == 2
    assert repo.count_movies(session) == 2
    assert repo.get_movie(session, movie_id=1) == Movie(1, "Uno")
    assert repo.upsert_movies(session, movies=[]) == 0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("heat", [1, 2, 4, 3]),  # titles starting with it first, then by number of ratings
        ("  HEAT  ", [1, 2, 4, 3]),
        ("HEAT 1995", [1]),  # a year filters
        ("Heat (1986)", [4]),
        ("2001", [5, 6]),  # the number in a title, and movies of that year
        ("100%", [7]),  # % is literal, so "1000 Wolves" does not match
        ("snake_eyes", [9]),  # _ is literal
        ("기생충", [11]),
        ("PARASITE", [11]),
        ("<script>", [12]),
        ("zzz", []),
        ("   ", []),
    ],
)
def test_search(
    session: Session, catalog: dict[int, Movie], query: str, expected: list[int]
) -> None:
    assert _ids(repo.search_movies(session, query=query)) == expected


def test_search_limits(session: Session, catalog: dict[int, Movie]) -> None:
    repo.upsert_movies(session, movies=[Movie(1000 + i, f"Zed {i}") for i in range(60)])
    assert len(repo.search_movies(session, query="zed", limit=1000)) == repo.MAX_SEARCH_LIMIT == 50
    assert _ids(repo.search_movies(session, query="heat", limit=2)) == [1, 2]
    assert repo.search_movies(session, query="heat", limit=0) == []


def test_popular_movie_ids(session: Session, catalog: dict[int, Movie]) -> None:
    assert repo.popular_movie_ids(session, limit=3) == [1, 5, 6]
    assert repo.popular_movie_ids(session, limit=3, exclude={1, 6, 424242}) == [5, 11, 3]
    assert repo.popular_movie_ids(session, limit=0) == []
    assert len(repo.popular_movie_ids(session, limit=100, exclude=[12])) == len(catalog) - 1


def test_bulk_upsert_of_10k_movies(
    engine: Engine, session_factory: sessionmaker[Session], timings: dict[str, float]
) -> None:
    n = 10_000
    movies = [
        Movie(
            i,
            f"영화 Movie {i}",
            1900 + i % 120,
            ("Drama", "드라마"),
            overview="줄거리 " * 20,
            keywords=("k1", "k2"),
            director="감독",
            cast=("배우 A", "Actor B"),
            tmdb_id=i * 3,
            imdb_id=f"tt{i:07d}",
            description="설명 <b>html</b>",
        )
        for i in range(1, n + 1)
    ]
    popularity = {i: i % 500 for i in range(1, n + 1)}
    backend = "mariadb" if getattr(engine.dialect, "is_mariadb", False) else engine.dialect.name
    start = time.perf_counter()
    with session_factory.begin() as s:
        assert repo.upsert_movies(s, movies=movies, popularity=popularity) == n
    timings[f"upsert 10k movies, insert ({backend})"] = time.perf_counter() - start

    changed = [dataclasses.replace(m, title=m.title + " (restored)") for m in movies]
    start = time.perf_counter()
    with session_factory.begin() as s:
        assert repo.upsert_movies(s, movies=changed) == n
    timings[f"upsert 10k movies, update ({backend})"] = time.perf_counter() - start

    with session_factory() as s:
        assert repo.count_movies(s) == n
        sample = repo.get_movies(s, ids=[1, 5000, n])
        assert sample == {m.movie_id: m for m in (changed[0], changed[4999], changed[-1])}
        assert repo.popular_movie_ids(s, limit=1) == [499]  # popularity kept on update
        assert _ids(repo.search_movies(s, query="movie 9999 (restored)")) == [9999]


def test_a_film_with_dozens_of_directors_is_stored_with_whole_names(session: Session) -> None:
    directors = ", ".join(f"Director Number {k}" for k in range(40))  # 800+ characters
    movie = Movie(7, "Anthology", 2012, ("Drama",), director=directors)
    repo.upsert_movies(session, movies=[movie], popularity={})
    stored = repo.get_movie(session, movie_id=7)
    assert stored is not None and stored.director is not None
    assert 200 < len(stored.director) <= 255
    assert directors.startswith(stored.director + ", ")  # cut between names
