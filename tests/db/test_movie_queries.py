"""Structured catalog queries: by person (director, cast), by years and genre."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from cinerec.config import Settings
from cinerec.data.types import Movie
from cinerec.db.movie_queries import movies_by_person, movies_matching
from cinerec.db.repository import upsert_movies
from cinerec.services.platform import Platform

CATALOG = [
    Movie(1, "Fargo", 1996, ("Crime", "Comedy"), director="Joel Coen, Ethan Coen", cast=("Frances McDormand",)),  # noqa: E501
    Movie(2, "No Country for Old Men", 2007, ("Crime",), director="Ethan Coen, Joel Coen", cast=("Josh Brolin",)),  # noqa: E501
    Movie(3, "Amélie", 2001, ("Comedy", "Romance"), director="Jean-Pierre Jeunet", cast=("Audrey Tautou",)),  # noqa: E501
    Movie(4, "Three Billboards", 2017, ("Drama",), director="Martin McDonagh", cast=("Frances McDormand",)),  # noqa: E501
    Movie(5, "Blood Simple", 1984, ("Crime",), director="Joel Coen", cast=("Frances McDormand", "Jean-Pierre Jeunet")),  # noqa: E501
]  # fmt: skip


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    platform = Platform(Settings(home=tmp_path, llm_backend="none"))
    platform.migrate()
    with platform.session() as s:
        upsert_movies(s, movies=CATALOG, popularity={1: 50, 2: 40, 3: 30, 4: 20, 5: 10})
    with platform.session() as s:
        yield s
    platform.engine.dispose()


def test_people_match_exactly_by_role_most_rated_first(session: Session) -> None:
    assert [m.movie_id for m in movies_by_person(session, name="Joel Coen", role="director")] == [
        1,
        2,
        5,
    ]
    assert [m.movie_id for m in movies_by_person(session, name="ethan coen", role="director")] == [
        1,
        2,
    ]
    assert [
        m.movie_id for m in movies_by_person(session, name="Frances McDormand", role="cast")
    ] == [1, 4, 5]
    assert [
        m.movie_id for m in movies_by_person(session, name="Jean-Pierre Jeunet", role="director")
    ] == [3]
    assert [m.movie_id for m in movies_by_person(session, name="Jean-Pierre Jeunet")] == [3, 5]
    assert movies_by_person(session, name="Coen") == []  # a part of a name is no one
    assert [m.movie_id for m in movies_by_person(session, name="Audrey Tautou", role="cast")] == [3]


def test_years_and_genre(session: Session) -> None:
    assert [m.movie_id for m in movies_matching(session, year_from=1990, year_to=1999)] == [1]
    assert [m.movie_id for m in movies_matching(session, genre="Comedy")] == [1, 3]
    assert [m.movie_id for m in movies_matching(session, genre="Crime", year_to=2000)] == [1, 5]
    assert movies_matching(session, genre="Western") == []
