"""The movie catalog: MovieLens movies enriched with TMDB text, each with a description."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from cinerec.data.descriptions import build_description
from cinerec.data.movielens import ML_100K, ML_LATEST_SMALL, load_links, load_movielens_movies
from cinerec.data.tmdb import (
    MOVIES_DATASET_KEYWORDS,
    TMDB_COLUMNS,
    TMDB_CREDITS,
    TMDB_MOVIES,
    load_movie_keywords,
    load_tmdb,
)
from cinerec.data.types import Movie

logger = logging.getLogger(__name__)
# TMDB columns MovieLens also has; MovieLens' win, TMDB's only fill gaps.
_TMDB_RENAMES = {"title": "title_tmdb", "year": "year_tmdb", "genres": "genres_tmdb"}


def _optional(value: Any) -> Any:
    """``None`` for pandas' missing markers, the value otherwise."""
    return (
        None
        if value is None or value is pd.NA or (isinstance(value, float) and value != value)
        else value
    )


def _int_or_none(value: Any) -> int | None:
    value = _optional(value)
    return None if value is None else int(value)


def _has_any(data_dir: Path, *relative: str) -> bool:
    return any((data_dir / r).is_file() for r in relative)


def load_catalog(
    data_dir: Path, dataset: str = ML_LATEST_SMALL, *, max_description_chars: int = 1200
) -> list[Movie]:
    """Every movie of a MovieLens data set as a :class:`Movie`, in MovieLens file order.

    For ``ml-latest-small`` the movies are joined through ``links.csv`` (tmdbId) with TMDB 5000
    (overview, director, top cast, keywords) and, for movies TMDB 5000 has no keywords for, with
    The Movies Dataset's keywords. MovieLens title, year and genres win; TMDB's year and genres
    only fill gaps. The TMDB sources are optional: when their files are absent (a download
    fetches MovieLens only) the catalog has MovieLens fields and a note is logged; when present
    but corrupt they raise :class:`DataError`. ``ml-100k`` gives MovieLens fields only.
    ``description`` is filled by :func:`build_description`.

    Example:
        >>> movies = load_catalog(resolve_data_dir())  # doctest: +SKIP
        >>> len(movies), movies[0].director  # doctest: +SKIP
        (9742, 'John Lasseter')
    """
    movies = load_movielens_movies(data_dir, dataset)
    if dataset == ML_100K:
        return [
            _finish(
                Movie(movie_id=int(i), title=t, year=_int_or_none(y), genres=g),
                max_description_chars,
            )
            for i, t, y, g in zip(
                movies["movie_id"], movies["title"], movies["year"], movies["genres"], strict=True
            )
        ]

    links = load_links(data_dir).drop_duplicates("movie_id").set_index("movie_id")
    movies = movies.join(links, on="movie_id")
    tmdb = _load_tmdb_or_empty(data_dir)
    movies = movies.join(tmdb, on="tmdb_id")
    extra = _extra_keywords(data_dir, movies)

    catalog: list[Movie] = []
    for row in movies.itertuples(index=False):
        tmdb_id = _int_or_none(row.tmdb_id)
        keywords = row.keywords if isinstance(row.keywords, tuple) else ()
        if not keywords and tmdb_id is not None:
            keywords = extra.get(tmdb_id, ())
        year = _int_or_none(row.year)
        if year is None:
            year = _int_or_none(row.year_tmdb)
        genres = row.genres or (row.genres_tmdb if isinstance(row.genres_tmdb, tuple) else ())
        movie = Movie(
            movie_id=int(row.movie_id),
            title=row.title,
            year=year,
            genres=genres,
            overview=row.overview if isinstance(row.overview, str) else "",
            keywords=keywords,
            director=_optional(row.director),
            cast=row.cast if isinstance(row.cast, tuple) else (),
            tmdb_id=tmdb_id,
            imdb_id=_optional(row.imdb_id),
        )
        catalog.append(_finish(movie, max_description_chars))
    return catalog


def texts_of(movies: Iterable[Movie]) -> dict[int, str]:
    """Movie id -> description (what a content model embeds)."""
    return {m.movie_id: m.description for m in movies}


def catalog_texts(data_dir: Path, dataset: str = ML_LATEST_SMALL) -> dict[int, str]:
    """Movie id -> description of every movie of ``dataset``."""
    return texts_of(load_catalog(data_dir, dataset))


def _finish(movie: Movie, max_chars: int) -> Movie:
    return replace(movie, description=build_description(movie, max_chars=max_chars))


def _load_tmdb_or_empty(data_dir: Path) -> pd.DataFrame:
    if _has_any(data_dir, TMDB_MOVIES, TMDB_CREDITS):
        return load_tmdb(data_dir).rename(columns=_TMDB_RENAMES)
    logger.info("No TMDB 5000 files under %s; the catalog has no overviews or cast.", data_dir)
    empty = pd.DataFrame(
        columns=[_TMDB_RENAMES.get(c, c) for c in TMDB_COLUMNS],
        index=pd.Index([], name="tmdb_id", dtype="int64"),
    )
    return empty


def _extra_keywords(data_dir: Path, movies: pd.DataFrame) -> dict[int, tuple[str, ...]]:
    """The Movies Dataset keywords for linked movies TMDB 5000 has no keywords for."""
    if not _has_any(data_dir, MOVIES_DATASET_KEYWORDS):
        logger.info(
            "No %s under %s; keywords come from TMDB 5000 only.", MOVIES_DATASET_KEYWORDS, data_dir
        )
        return {}
    lacking = movies["keywords"].map(lambda k: not isinstance(k, tuple) or not k)
    ids = movies.loc[lacking, "tmdb_id"].dropna().astype("int64").tolist()
    return load_movie_keywords(data_dir, ids) if ids else {}
