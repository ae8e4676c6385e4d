"""Structured catalog queries for the chat: movies by a person, by years, by genre.

Keyword-only functions like :mod:`cinerec.db.repository`; they never commit. People and genres
are stored in JSON lists (``cast``, ``genres``) and the director as text that may hold several
comma-separated names, so each query narrows the rows in SQL with a ``LIKE`` on the stored
text (portable across SQLite, PostgreSQL and MariaDB) and then keeps only exact matches in
Python. Results are the most rated first.

Example::

    with Session.begin() as session:
        nolan = movies_by_person(session, name="Christopher Nolan", role="director")
        nineties_comedies = movies_matching(session, year_from=1990, year_to=1999,
                                            genre="Comedy", limit=10)
"""

from __future__ import annotations

import json
from typing import Literal

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from cinerec.data.types import Movie
from cinerec.db.movies import movie_from_row
from cinerec.db.tables import MovieRow

Role = Literal["director", "cast", "any"]
#: Most rows one structured query returns.
MAX_ROWS = 200


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _has_person(movie: Movie, name: str, role: Role) -> bool:
    key = name.casefold()
    directed = any(d.casefold() == key for d in movie.directors)
    acted = any(c.casefold() == key for c in movie.cast)
    return {"director": directed, "cast": acted, "any": directed or acted}[role]


def movies_by_person(
    session: Session, *, name: str, role: Role = "any", limit: int = MAX_ROWS
) -> list[Movie]:
    """Movies ``name`` directed (``role="director"``), acted in (``"cast"``) or either.

    Names compare exactly, ignoring case. Most rated first, then by id.
    """
    name = " ".join(name.split())
    if not name or limit < 1:
        return []
    # JSON lists are stored as json.dumps text: a non-ASCII name is stored \u-escaped.
    in_cast = cast(MovieRow.cast, String).like(_like(json.dumps(name)[1:-1]), escape="\\")
    in_director = MovieRow.director.ilike(_like(name), escape="\\")
    where = {"director": in_director, "cast": in_cast, "any": in_director | in_cast}[role]
    rows = session.scalars(
        select(MovieRow).where(where).order_by(MovieRow.popularity.desc(), MovieRow.id)
    )
    found = [m for m in map(movie_from_row, rows) if _has_person(m, name, role)]
    return found[: min(limit, MAX_ROWS)]


def movies_matching(
    session: Session,
    *,
    year_from: int | None = None,
    year_to: int | None = None,
    genre: str | None = None,
    limit: int = 20,
) -> list[Movie]:
    """Movies released between ``year_from`` and ``year_to`` (inclusive) of ``genre``.

    Any bound may be None (no bound). Most rated first, then by id.
    """
    if limit < 1:
        return []
    stmt = select(MovieRow)
    if year_from is not None:
        stmt = stmt.where(MovieRow.year >= int(year_from))
    if year_to is not None:
        stmt = stmt.where(MovieRow.year <= int(year_to))
    if genre:
        stmt = stmt.where(cast(MovieRow.genres, String).like(_like(json.dumps(genre)), escape="\\"))
    stmt = stmt.order_by(MovieRow.popularity.desc(), MovieRow.id).limit(min(limit, MAX_ROWS) * 2)
    movies = [movie_from_row(row) for row in session.scalars(stmt)]
    if genre:
        movies = [m for m in movies if genre in m.genres]
    return movies[: min(limit, MAX_ROWS)]


def popularity_of(session: Session, *, ids: list[int]) -> dict[int, int]:
    """Ratings count per movie id (ids not in the catalog are left out)."""
    if not ids:
        return {}
    rows = session.execute(
        select(MovieRow.id, MovieRow.popularity).where(MovieRow.id.in_([int(i) for i in ids]))
    )
    return {int(i): int(p or 0) for i, p in rows}
