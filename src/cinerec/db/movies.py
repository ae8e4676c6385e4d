"""Catalog queries: bulk upsert, lookup, title search and popularity.

Re-exported by :mod:`cinerec.db.repository`, which is what callers import. Like every
repository function these never commit: the caller owns the transaction.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import and_, case, func, insert, or_, select, text, update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from cinerec.data.types import Movie
from cinerec.db.tables import MovieRow

#: Most rows :func:`search_movies` returns, whatever ``limit`` asks for.
MAX_SEARCH_LIMIT = 50
#: Ids per ``IN (...)`` clause; well below every backend's parameter limit.
CHUNK = 500
#: Rows per upsert statement (the driver batches them into multi-row inserts).
UPSERT_BATCH = 2000
# Backends with a native upsert; others select existing ids, then insert and update.
_NATIVE_UPSERT = frozenset({"sqlite", "postgresql", "mysql", "mariadb"})

# A plausible release year, optionally in parentheses as in "Heat (1995)".
_YEAR = re.compile(r"\(?\b(1[89]\d\d|20\d\d)\b\)?")


def chunks(values: Sequence[int], size: int = CHUNK) -> Iterator[Sequence[int]]:
    """Consecutive slices of at most ``size`` values."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def movie_from_row(row: MovieRow) -> Movie:
    """The core :class:`Movie` for a stored row."""
    return Movie(
        movie_id=row.id,
        title=row.title,
        year=row.year,
        genres=tuple(row.genres or ()),
        overview=row.overview or "",
        keywords=tuple(row.keywords or ()),
        director=row.director,
        cast=tuple(row.cast or ()),
        tmdb_id=row.tmdb_id,
        imdb_id=row.imdb_id,
        description=row.description or "",
    )


def fit_names(names: str | None, limit: int) -> str | None:
    """A ", "-joined list of names cut to whole names within ``limit`` characters (a film with
    dozens of credited directors does not fit ``movies.director``; PostgreSQL and MariaDB
    refuse what SQLite would store).

    Example:
        >>> fit_names("Ann Lee, Bo Kim, Cy Park", 16)
        'Ann Lee, Bo Kim'
        >>> fit_names("A very long single name", 6)
        'A very'
    """
    if names is None or len(names) <= limit:
        return names
    kept = names[: limit + 2].rsplit(", ", 1)[0] if ", " in names[: limit + 2] else ""
    return kept if kept and len(kept) <= limit else names[:limit]


def _movie_values(movie: Movie) -> dict[str, Any]:
    return {
        "id": int(movie.movie_id),
        "title": movie.title,
        "title_lower": movie.title.lower(),
        "year": movie.year,
        "genres": list(movie.genres),
        "overview": movie.overview,
        "keywords": list(movie.keywords),
        "director": fit_names(movie.director, MovieRow.__table__.c.director.type.length),
        "cast": list(movie.cast),
        "tmdb_id": movie.tmdb_id,
        "imdb_id": movie.imdb_id,
        "description": movie.description,
    }


def upsert_movies(
    session: Session, *, movies: Iterable[Movie], popularity: Mapping[int, int] | None = None
) -> int:
    """Insert new movies and update existing ones (by ``movie_id``), in bulk.

    Idempotent: calling it twice with the same movies leaves the same rows. When a movie id
    appears several times the last one wins.

    Args:
        session: an open session; nothing is committed.
        movies: the catalog (about 10k MovieLens movies is fast: one multi-row insert).
        popularity: number of ratings per movie id. None keeps the stored popularity of
            existing movies (0 for new ones); a mapping sets every given movie's popularity,
            0 where the id is missing from it.

    Returns:
        The number of distinct movies written.
    """
    by_id = {int(m.movie_id): m for m in movies}
    if not by_id:
        return 0
    if session.get_bind().dialect.name in _NATIVE_UPSERT:
        rows = []
        for movie_id, movie in by_id.items():
            values = _movie_values(movie)
            values["popularity"] = int((popularity or {}).get(movie_id, 0))
            rows.append(values)
        for start in range(0, len(rows), UPSERT_BATCH):
            session.execute(
                _native_upsert(session, keep_popularity=popularity is None),
                rows[start : start + UPSERT_BATCH],
            )
        _analyze(session)
        return len(by_id)
    existing: set[int] = set()
    for chunk in chunks(list(by_id)):
        existing.update(session.scalars(select(MovieRow.id).where(MovieRow.id.in_(chunk))))
    new_rows: list[dict[str, Any]] = []
    old_rows: list[dict[str, Any]] = []
    for movie_id, movie in by_id.items():
        values = _movie_values(movie)
        if popularity is not None or movie_id not in existing:
            values["popularity"] = int((popularity or {}).get(movie_id, 0))
        (old_rows if movie_id in existing else new_rows).append(values)
    if new_rows:
        session.execute(insert(MovieRow), new_rows)
    if old_rows:
        session.execute(update(MovieRow), old_rows)
    return len(by_id)


def _analyze(session: Session) -> None:
    """PostgreSQL: refresh the planner's statistics of the table now. Without them (a fresh
    ingest, until autovacuum comes round a minute or more later) a title search plans a scan
    of every movie instead of the trigram index (migration 0011)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE movies"))


def _native_upsert(session: Session, *, keep_popularity: bool) -> Executable:
    """``INSERT .. ON CONFLICT/DUPLICATE KEY UPDATE`` for the backends that have it."""
    table = MovieRow.metadata.tables[MovieRow.__tablename__]
    updated = [c.name for c in table.columns if c.name != "id"]
    if keep_popularity:
        updated.remove("popularity")
    dialect = session.get_bind().dialect.name
    if dialect in ("mysql", "mariadb"):
        my_stmt = mysql_insert(table)
        return my_stmt.on_duplicate_key_update({c: my_stmt.inserted[c] for c in updated})
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    return stmt.on_conflict_do_update(
        index_elements=["id"], set_={c: stmt.excluded[c] for c in updated}
    )


def count_movies(session: Session) -> int:
    """Number of movies in the catalog."""
    return int(session.scalar(select(func.count()).select_from(MovieRow)) or 0)


def get_movie(session: Session, *, movie_id: int) -> Movie | None:
    """One movie, or None when the id is not in the catalog."""
    row = session.get(MovieRow, int(movie_id))
    return movie_from_row(row) if row is not None else None


def get_movies(session: Session, *, ids: Sequence[int]) -> dict[int, Movie]:
    """Movies by id, in the order asked for; unknown ids are left out."""
    wanted = list(dict.fromkeys(int(i) for i in ids))
    found: dict[int, Movie] = {}
    for chunk in chunks(wanted):
        for row in session.scalars(select(MovieRow).where(MovieRow.id.in_(chunk))):
            found[row.id] = movie_from_row(row)
    return {i: found[i] for i in wanted if i in found}


def missing_movie_ids(session: Session, *, ids: Iterable[int]) -> list[int]:
    """The ids that are not in the catalog, sorted."""
    wanted = sorted({int(i) for i in ids})
    known: set[int] = set()
    for chunk in chunks(wanted):
        known.update(session.scalars(select(MovieRow.id).where(MovieRow.id.in_(chunk))))
    return [i for i in wanted if i not in known]


def search_movies(session: Session, *, query: str, limit: int = 10) -> list[Movie]:
    """Movies whose title contains ``query``, ignoring case.

    A year in the query ("heat 1995", "Heat (1995)") restricts results to that year; titles
    that contain the whole query literally ("2001: A Space Odyssey" for "2001") match too.
    ``%`` and ``_`` are matched literally. Titles starting with the text come first, then
    the most rated.

    Args:
        session: an open session.
        query: what the user typed; blank gives no results.
        limit: at most this many results, capped at :data:`MAX_SEARCH_LIMIT`.
    """
    text = " ".join(query.split()).lower()
    limit = min(int(limit), MAX_SEARCH_LIMIT)
    if not text or limit < 1:
        return []
    column = MovieRow.title_lower
    whole = column.contains(text, autoescape=True)
    match = _YEAR.search(text)
    if match:
        rest = " ".join(f"{text[: match.start()]} {text[match.end() :]}".split())
        by_year = MovieRow.year == int(match.group(1))
        if rest:
            by_year = and_(by_year, column.contains(rest, autoescape=True))
        condition = or_(by_year, whole)
        prefix = rest or text
    else:
        condition = whole
        prefix = text
    starts = case((column.startswith(prefix, autoescape=True), 0), else_=1)
    stmt = (
        select(MovieRow)
        .where(condition)
        .order_by(starts, MovieRow.popularity.desc(), MovieRow.title_lower, MovieRow.id)
        .limit(limit)
    )
    return [movie_from_row(row) for row in session.scalars(stmt)]


def popular_movie_ids(session: Session, *, limit: int, exclude: Collection[int] = ()) -> list[int]:
    """The ``limit`` most rated movie ids, most rated first, skipping ``exclude``."""
    if limit < 1:
        return []
    excluded = {int(i) for i in exclude}
    # Over-fetch instead of a NOT IN list, which could exceed parameter limits.
    stmt = (
        select(MovieRow.id)
        .order_by(MovieRow.popularity.desc(), MovieRow.id)
        .limit(int(limit) + len(excluded))
    )
    ids = [i for i in session.scalars(stmt) if i not in excluded]
    return ids[:limit]
