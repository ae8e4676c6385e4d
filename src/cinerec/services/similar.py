"""'More like this' and free-text taste candidates from description embeddings.

The catalog's descriptions are read from the database, embedded once per model (vectors are
cached on disk under ``<cache_dir>/embeddings``, keyed by model and text hash, so only new or
changed descriptions are embedded again) and indexed in memory on first use. The index is
rebuilt when the number of movies in the database changes, or on ``refresh=True``.
When the database is PostgreSQL with pgvector, the vectors are also stored there and searched
by its HNSW index (:mod:`cinerec.db.vectors`); on any other database the index is in-process.

The embedder is the ``embedder`` setting when Settings has one, else
:data:`~cinerec.embeddings.registry.DEFAULT_EMBEDDER` (``fast-use``).

Example:
    >>> more_like_this(platform, movie_id=1, n=10)  # doctest: +SKIP
    [ScoredItem(movie_id=3114, score=0.83), ...]
    >>> taste_query_candidates(platform, "느린 전개의 SF, 공포 말고", n=20)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from cinerec.config import Settings
from cinerec.data.types import ScoredItem
from cinerec.db.repository import count_movies
from cinerec.db.tables import MovieRow
from cinerec.embeddings.base import Embedder
from cinerec.embeddings.cache import EmbeddingCache, Progress
from cinerec.embeddings.index import VectorIndex, build_index
from cinerec.embeddings.registry import DEFAULT_EMBEDDER, build_embedder
from cinerec.embeddings.taste_search import rank_for_taste
from cinerec.errors import DataError, NotFoundError
from cinerec.llm.backends.cancel import CancelToken
from cinerec.services.platform import Platform

log = logging.getLogger(__name__)
_ROWS_PER_QUERY = 2000


@dataclass(frozen=True)
class CatalogIndex:
    """Every catalog movie's description vector, searchable, with the genres for filtering."""

    embedder: Embedder
    ids: tuple[int, ...]
    vectors: np.ndarray
    genres: dict[int, tuple[str, ...]]
    index: VectorIndex
    build_seconds: float

    def vector(self, movie_id: int) -> np.ndarray | None:
        """The description vector of ``movie_id`` (None when it is not in the catalog)."""
        position = self._positions.get(int(movie_id))
        return None if position is None else self.vectors[position]

    @property
    def _positions(self) -> dict[int, int]:
        cached = self.__dict__.get("_positions_cache")
        if cached is None:
            cached = {movie_id: p for p, movie_id in enumerate(self.ids)}
            object.__setattr__(self, "_positions_cache", cached)
        return cached


def embedder_name(settings: Settings) -> str:
    """The configured embedder: ``settings.embedder`` when it exists, else the default."""
    return str(getattr(settings, "embedder", None) or DEFAULT_EMBEDDER)


def embedding_cache_dir(settings: Settings) -> Path:
    """Where description vectors are cached: ``<cache_dir>/embeddings``."""
    return settings.cache_dir / "embeddings"


def _catalog_rows(platform: Platform) -> list[tuple[int, str, tuple[str, ...]]]:
    """(id, text to embed, genres) for every movie, in id order, a few thousand rows a query."""
    rows: list[tuple[int, str, tuple[str, ...]]] = []
    last = -1
    with platform.session() as session:
        while True:
            batch = session.execute(
                select(MovieRow.id, MovieRow.description, MovieRow.title, MovieRow.genres)
                .where(MovieRow.id > last)
                .order_by(MovieRow.id)
                .limit(_ROWS_PER_QUERY)
            ).all()
            if not batch:
                return rows
            for movie_id, description, title, genres in batch:
                rows.append((int(movie_id), description or title, tuple(genres or ())))
            last = int(batch[-1][0])


def catalog_index(
    platform: Platform,
    *,
    embedder: Embedder | None = None,
    refresh: bool = False,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> CatalogIndex:
    """The platform's catalog index, built on first use (slow once: embeds what is uncached).

    Args:
        platform: gives the database and settings.
        embedder: overrides the configured embedder (tests pass a fake one).
        refresh: rebuild even if the movie count did not change.
        progress: called while new descriptions are embedded.
        cancel: checked between batches of new descriptions (the batches done stay in the
            embedding cache); raises :class:`~cinerec.llm.backends.cancel.Cancelled` once set.
    """
    slot = platform.state.catalog_index
    with slot.lock:
        try:
            with platform.session() as session:
                count = count_movies(session)
        except SQLAlchemyError as exc:
            raise DataError(
                f"Cannot read the catalog ({type(exc).__name__}); run `cinerec ingest` first"
            ) from exc
        if count == 0:
            raise DataError("The catalog is empty; run `cinerec ingest` first")
        cached = slot.entry
        wanted = embedder.name if embedder is not None else embedder_name(platform.settings)
        if (
            cached is not None
            and not refresh
            and cached[0] == count
            and cached[1].embedder.name.startswith(wanted)
        ):
            return cached[1]
        started = time.perf_counter()
        model = embedder or build_embedder(wanted)
        rows = _catalog_rows(platform)
        cache = EmbeddingCache(embedding_cache_dir(platform.settings))
        vectors = cache.embed(
            model, [text for _, text, _ in rows], progress=progress, cancel=cancel
        )
        ids = tuple(movie_id for movie_id, _, _ in rows)
        built = CatalogIndex(
            embedder=model,
            ids=ids,
            vectors=vectors,
            genres={movie_id: genres for movie_id, _, genres in rows},
            index=_vector_index(platform, model.name, ids, vectors),
            build_seconds=time.perf_counter() - started,
        )
        slot.entry = (count, built)
        return built


def _vector_index(
    platform: Platform, model_name: str, ids: Sequence[int], vectors: np.ndarray
) -> VectorIndex:
    """pgvector's HNSW index when the database can hold vectors, else an in-process index."""
    try:
        from cinerec.db import vectors as pg
    except ImportError:  # the pgvector package (the 'postgres' extra) is not installed
        return build_index(ids, vectors)
    if not pg.pgvector_available(platform.engine):
        return build_index(ids, vectors)
    try:
        return pg.sync_vectors(platform.engine, model=model_name, ids=ids, vectors=vectors)
    except SQLAlchemyError as exc:
        log.warning("Storing vectors in PostgreSQL failed (%s); using the in-process index", exc)
        return build_index(ids, vectors)


def built_catalog_index(platform: Platform) -> CatalogIndex | None:
    """The last built catalog index, even if the catalog changed since (None before the first
    build); never waits for a build in progress."""
    entry = platform.state.catalog_index.entry  # replaced whole: a lock-free read is safe
    return entry[1] if entry is not None else None


def ready_catalog_index(platform: Platform) -> CatalogIndex | None:
    """The catalog index if it is already built for the current catalog, else None (never blocks
    on a build; a stale index, built before the catalog changed, counts as not ready)."""
    cached = platform.state.catalog_index.entry
    if cached is None:
        return None
    try:
        with platform.session() as session:
            count = count_movies(session)
    except SQLAlchemyError:
        return None
    return cached[1] if cached[0] == count else None


def more_like_this(
    platform: Platform,
    movie_id: int,
    n: int = 10,
    *,
    exclude: Collection[int] = (),
    embedder: Embedder | None = None,
) -> list[ScoredItem]:
    """The ``n`` movies whose descriptions are closest to ``movie_id``'s, best first.

    Never returns the movie itself or an id in ``exclude``.

    Raises:
        NotFoundError: ``movie_id`` is not in the catalog.
    """
    index = catalog_index(platform, embedder=embedder)
    vector = index.vector(movie_id)
    if vector is None:
        raise NotFoundError(f"Movie {movie_id} is not in the catalog; search for its title first")
    hits = index.index.search(vector, n, exclude={int(movie_id), *map(int, exclude)})
    return [ScoredItem(i, s) for i, s in hits]


def taste_query_candidates(
    platform: Platform,
    text: str,
    n: int = 20,
    exclude: Collection[int] = (),
    *,
    embedder: Embedder | None = None,
) -> list[ScoredItem]:
    """Movies fitting a free-text taste (English, Korean, ...); stated dislikes filtered out.

    Useful as candidates for users with 0-3 ticked movies. See
    :func:`cinerec.embeddings.taste_search.rank_for_taste` for how dislikes are handled.
    """
    index = catalog_index(platform, embedder=embedder)
    return rank_for_taste(
        text,
        embedder=index.embedder,
        ids=index.ids,
        vectors=index.vectors,
        genres=index.genres,
        n=n,
        exclude=exclude,
    )


def similar_for_history(
    platform: Platform, movie_ids: Sequence[int], n: int = 10, *, embedder: Embedder | None = None
) -> list[ScoredItem]:
    """Cold-start candidates: movies closest to the mean vector of a few ticked movies."""
    index = catalog_index(platform, embedder=embedder)
    known = [v for v in (index.vector(i) for i in movie_ids) if v is not None]
    if not known:
        return []
    profile = np.mean(known, axis=0)
    hits = index.index.search(profile / max(np.linalg.norm(profile), 1e-12), n, set(movie_ids))
    return [ScoredItem(i, s) for i, s in hits]
