"""The catalog as the pages and the API see it: search, one movie, a movie's page.

The web routes call these instead of the database (``tests/architecture``); the catalog types
the pages show (:class:`ReviewSummary`, the Korean genre names :data:`GENRES_KO`) are
re-exported from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from cinerec.data.types import Movie, ScoredItem
from cinerec.db import repository as repo
from cinerec.db.review_summaries import ReviewSummary as ReviewSummary
from cinerec.db.review_summaries import get_review_summaries
from cinerec.errors import NotFoundError
from cinerec.services import similar
from cinerec.services.platform import Platform
from cinerec.text.lang import GENRES_KO as GENRES_KO

MORE_LIKE_THIS = 8


@dataclass(frozen=True)
class MovieDetails:
    """A movie's page: the movie, its closest movies by description (None while the embedding
    index is still being built) and what reviewers say (None when no summary is stored)."""

    movie: Movie
    similar: list[Movie] | None
    reviews: ReviewSummary | None


def search_movies(platform: Platform, query: str, *, limit: int = 10) -> list[Movie]:
    """Type-ahead search over titles; a 4-digit year in the query filters by year."""
    with platform.session() as session:
        return repo.search_movies(session, query=query, limit=limit)


def get_movie(platform: Platform, movie_id: int) -> Movie:
    """One catalog movie.

    Raises:
        NotFoundError: there is no such movie.
    """
    with platform.session() as session:
        movie = repo.get_movie(session, movie_id=movie_id)
    if movie is None:
        raise NotFoundError(f"There is no movie with id {movie_id} in the catalog.")
    return movie


def movie_reviews(platform: Platform, movie_id: int) -> ReviewSummary | None:
    """What reviewers say about a movie; None when no summary is stored for it.

    Raises:
        NotFoundError: there is no such movie.
    """
    with platform.session() as session:
        if repo.get_movie(session, movie_id=movie_id) is None:
            raise NotFoundError(f"There is no movie with id {movie_id} in the catalog.")
        return get_review_summaries(session, movie_ids=[movie_id]).get(movie_id)


def movie_details(
    platform: Platform, movie_id: int, *, n_similar: int = MORE_LIKE_THIS
) -> MovieDetails:
    """Everything a movie's page shows. The similar movies come from the description index
    only when it is already built (a page never waits for the build).

    Raises:
        NotFoundError: there is no such movie.
    """
    ready = similar.ready_catalog_index(platform)
    hits: list[ScoredItem] = []
    missing: NotFoundError | None = None  # the movie is not in the index
    if ready is not None:
        try:
            hits = similar.more_like_this(platform, movie_id, n=n_similar, embedder=ready.embedder)
        except NotFoundError as exc:
            missing = exc
    with platform.session() as session:
        movie = repo.get_movie(session, movie_id=movie_id)
        if movie is None:
            raise NotFoundError(f"There is no movie with id {movie_id} in the catalog.")
        if missing is not None:
            raise missing
        found = repo.get_movies(session, ids=[h.movie_id for h in hits]) if hits else {}
        summary = get_review_summaries(session, movie_ids=[movie_id]).get(movie_id)
    similar_movies = None
    if ready is not None:
        similar_movies = [found[h.movie_id] for h in hits if h.movie_id in found]
    return MovieDetails(movie, similar_movies, summary)
