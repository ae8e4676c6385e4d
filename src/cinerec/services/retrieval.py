"""Hybrid retrieval over the catalog for the chat: titles, people, BM25 and embeddings, fused.

A question such as "other films by the director of Memento?" needs three things the plain
search lists cannot give alone: the movie the question names (a *title match*, exact after
folding case, accents, punctuation and a leading article, one typo away, or written in Hangul:
see :class:`cinerec.text.title_index.TitleIndex`), the relation it asks
about (same director / same cast / similar), and free-text relevance (BM25 over title, people,
keywords, genres and plot, plus description embeddings when their index is built). Explicit
matches come first; everything else is ordered by reciprocal-rank fusion (RRF) of the BM25 and
embedding rankings.

The embedding index (:func:`cinerec.services.similar.catalog_index`) takes about a minute to
build the first time. Retrieval never waits for it: :func:`embeddings_ready` is a non-blocking
check, :func:`start_embedding_build` builds it on a background thread, and until then retrieval
is BM25-only.

Example:
    >>> hits = retrieve(platform, "other films by the director of Memento?", k=5)  # doctest: +SKIP
    >>> [(h.movie.title, h.sources) for h in hits][:2]  # doctest: +SKIP
    [('Memento', ('title',)), ('The Prestige', ('same-director',))]
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from cinerec.data.types import Movie
from cinerec.db.movies import movie_from_row
from cinerec.db.repository import count_movies
from cinerec.db.review_summaries import all_review_summaries, count_review_summaries
from cinerec.db.tables import MovieRow
from cinerec.embeddings.base import Embedder
from cinerec.errors import CinerecError, DataError
from cinerec.services import similar
from cinerec.services.platform import Platform
from cinerec.services.reviews import aspect_line
from cinerec.text.bm25 import BM25Index, fold, tokenize
from cinerec.text.title_index import TitleIndex, TitleMatch, words_of

log = logging.getLogger(__name__)

_ROWS_PER_QUERY = 2000
# Words that ask about a relation of the movie a question names (English and Korean).
DIRECTOR_CUES = ("director", "directed", "directs", "filmmaker", "감독", "연출")
CAST_CUES = ("actor", "actress", "star", "starring", "starred", "cast", "배우", "출연", "주연")
SIMILAR_CUES = ("like", "similar", "resembl", "비슷", "같은", "처럼", "유사")

# Words of a chat question that say what is asked, not what about: kept out of BM25.
QUERY_NOISE = frozenset(
    "about act acted actor actors actress any anything cast directed director else film films "
    "find first genre genres kind last like lighter darker made make more movie movies one "
    "other others please recommend released show similar something star starred starring "
    "suggest tell watch year years".split()
)


@dataclass(frozen=True, slots=True)
class RetrievalConfig:
    """How retrieval ranks.

    Attributes:
        pool: Hits taken from each ranked list (BM25, embeddings) before fusion.
        k_rrf: The RRF constant: a hit at rank ``r`` adds ``1 / (k_rrf + r)``.
        related: Movies added per relation (same director, same cast, a named person, similar).
        min_typo_chars: Shortest query phrase matched to a title with one typo.
    """

    pool: int = 50
    k_rrf: int = 60
    related: int = 6
    min_typo_chars: int = 6


@dataclass(frozen=True, slots=True)
class RetrievalHit:
    """A retrieved movie, its fused score and what found it (``title``, ``bm25``, ...)."""

    movie: Movie
    score: float
    sources: tuple[str, ...]


def _has_cue(folded: str, cues: Iterable[str]) -> bool:
    return any(cue in folded for cue in cues)


def _doc_tokens(movie: Movie, reviews: str = "") -> list[str]:
    """BM25 document: the title three times, the director twice, then everything else, and
    what reviewers say (``reviews``, the aspect verdicts) when known."""
    people = [movie.director or "", movie.director or "", *movie.cast]
    text = " ".join(
        [
            movie.title,
            movie.title,
            movie.title,
            str(movie.year or ""),
            *people,
            " ".join(movie.keywords),
            " ".join(movie.genres),
            movie.overview,
            reviews,
        ]
    )
    return tokenize(text)


class EmbeddingView:
    """Query and neighbour search over a built :class:`~cinerec.services.similar.CatalogIndex`."""

    def __init__(self, index: similar.CatalogIndex) -> None:
        self.index = index

    @property
    def embedder(self) -> Embedder:
        return self.index.embedder

    def query(self, text: str, n: int, exclude: Collection[int] = ()) -> list[tuple[int, float]]:
        """Movies whose description is closest to a free-text query."""
        vector = self.index.embedder.embed_query(text)
        return self.index.index.search(vector, n, exclude=set(exclude))

    def neighbors(
        self, movie_id: int, n: int, exclude: Collection[int] = ()
    ) -> list[tuple[int, float]]:
        """Movies whose description is closest to ``movie_id``'s (never the movie itself)."""
        vector = self.index.vector(movie_id)
        if vector is None:
            return []
        return self.index.index.search(vector, n, exclude={movie_id, *exclude})


class CatalogRetriever:
    """Every catalog movie, indexed for title, person and BM25 lookup.

    Args:
        movies: The catalog.
        popularity: Ratings count per movie id (breaks ties between equal matches).
        config: Ranking knobs.
        reviews: Per movie id, what reviewers say (the aspect verdicts), searched with the
            rest of the movie's text ("well-acted thriller" finds praised acting).
    """

    def __init__(
        self,
        movies: Sequence[Movie],
        popularity: Mapping[int, int] | None = None,
        *,
        config: RetrievalConfig | None = None,
        reviews: Mapping[int, str] | None = None,
    ) -> None:
        self.config = config or RetrievalConfig()
        self.movies: dict[int, Movie] = {m.movie_id: m for m in movies}
        self.popularity = {int(k): int(v) for k, v in (popularity or {}).items()}
        said = reviews or {}
        self.bm25 = BM25Index.build(
            list(self.movies),
            tokens=[_doc_tokens(m, said.get(i, "")) for i, m in self.movies.items()],
        )
        self.titles = TitleIndex(movies, self.popularity, min_typo_chars=self.config.min_typo_chars)
        self._by_director: dict[str, list[int]] = defaultdict(list)
        self._by_cast: dict[str, list[int]] = defaultdict(list)
        #: A person's folded key (as :meth:`TitleIndex.person_matches` gives it) -> their name.
        self.person_names: dict[str, str] = {}
        for movie in self.movies.values():
            if movie.director:
                self._by_director[movie.director].append(movie.movie_id)
            for name in movie.cast[:5]:
                self._by_cast[name].append(movie.movie_id)
            for name in [*movie.cast[:5], *movie.directors]:
                if name.strip():
                    self.person_names.setdefault(" ".join(words_of(name)), name.strip())

    def __len__(self) -> int:
        return len(self.movies)

    def title_matches(self, query: str) -> list[TitleMatch]:
        """Catalog movies the query names (see :meth:`TitleIndex.title_matches`)."""
        return self.titles.title_matches(query)

    def is_person(self, phrase: str) -> bool:
        """Whether ``phrase`` names a director or cast member of the catalog."""
        return self.titles.is_person(phrase)

    def people_in(self, query: str) -> list[str]:
        """Display names of the catalog people a query names (Latin or Hangul), in order."""
        keys = self.titles.person_matches(query)
        return [self.person_names.get(k, k) for k in keys]

    def titles_in_text(self, text: str) -> list[tuple[str, int]]:
        """``(phrase, movie id)`` of catalog titles written title-cased in generated text."""
        return [(m.phrase, m.movie_id) for m in self.titles.titles_in_text(text)]

    def _by_popularity(self, ids: Iterable[int]) -> list[int]:
        return sorted(set(ids), key=lambda i: (-self.popularity.get(i, 0), i))

    # Search -----------------------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int = 5,
        *,
        exclude: Collection[int] = (),
        embeddings: EmbeddingView | None = None,
    ) -> list[RetrievalHit]:
        """The ``k`` movies most relevant to ``query``, best first.

        Order: named titles; then movies related to them as the question asks (same director,
        same cast, similar) and movies of named people; then the RRF of BM25 and embeddings.
        """
        cfg = self.config
        blocked = {int(i) for i in exclude}
        folded = fold(query)
        scores: dict[int, float] = defaultdict(float)
        sources: dict[int, list[str]] = defaultdict(list)

        def add(movie_id: int, score: float, source: str) -> None:
            if movie_id in blocked or movie_id not in self.movies:
                return
            scores[movie_id] += score
            if source not in sources[movie_id]:
                sources[movie_id].append(source)

        titles = self.titles.title_matches(query)[:3]
        for rank, match in enumerate(titles):
            add(match.movie_id, (4.0 if match.exact else 3.0) - 0.01 * rank, "title")
        # The words of the named title are not cues: "Star Wars" asks nothing about stars.
        asked = folded
        for match in titles:
            asked = asked.replace(match.phrase, " ")
        related: list[tuple[list[int], str]] = []
        if titles:
            movie = self.movies[titles[0].movie_id]
            if movie.director and _has_cue(asked, DIRECTOR_CUES):
                ids = self._by_popularity(self._by_director[movie.director])
                related.append((ids, "same-director"))
            if movie.cast and _has_cue(asked, CAST_CUES):
                ids = [i for name in movie.cast[:2] for i in self._by_cast[name]]
                related.append((self._by_popularity(ids), "same-cast"))
            if _has_cue(asked, SIMILAR_CUES):
                if embeddings is not None:
                    near = [i for i, _ in embeddings.neighbors(movie.movie_id, cfg.related * 2)]
                else:
                    probe = [*movie.keywords[:12], *movie.genres, movie.director or ""]
                    near = [i for i, _ in self.bm25.search(" ".join(probe), cfg.related * 2)]
                related.append((near, "similar"))
        for name in self.titles.person_matches(query):
            related.append((self.titles.movies_of(name), "person"))
        titled = {m.movie_id for m in titles}
        for ids, source in related:
            kept = [i for i in ids if i not in titled and i not in blocked][: cfg.related]
            for rank, movie_id in enumerate(kept):
                add(movie_id, 2.0 - 0.01 * rank, source)

        terms = [t for t in tokenize(query) if t not in QUERY_NOISE]
        rankings = [("bm25", self.bm25.search(terms, cfg.pool, exclude=blocked))]
        if embeddings is not None:
            try:
                rankings.append(("embedding", embeddings.query(query, cfg.pool, blocked)))
            except CinerecError as exc:  # a broken embedder must not break the chat
                log.warning("embedding search failed, BM25 only: %s", exc)
        for source, ranked in rankings:
            for rank, (movie_id, _) in enumerate(ranked, start=1):
                add(movie_id, 1.0 / (cfg.k_rrf + rank), source)

        ordered = sorted(scores, key=lambda i: (-scores[i], -self.popularity.get(i, 0), i))
        return [
            RetrievalHit(self.movies[i], round(scores[i], 6), tuple(sources[i]))
            for i in ordered[:k]
        ]


# Per-platform state (kept in ``platform.state.retriever``) ----------------------------------


def load_catalog_movies(platform: Platform) -> tuple[list[Movie], dict[int, int]]:
    """Every movie and its popularity, a few thousand rows a query."""
    movies: list[Movie] = []
    popularity: dict[int, int] = {}
    last = -1
    with platform.session() as session:
        while True:
            rows = list(
                session.scalars(
                    select(MovieRow)
                    .where(MovieRow.id > last)
                    .order_by(MovieRow.id)
                    .limit(_ROWS_PER_QUERY)
                )
            )
            if not rows:
                return movies, popularity
            for row in rows:
                movies.append(movie_from_row(row))
                popularity[row.id] = int(row.popularity or 0)
            last = rows[-1].id


def _count_reviewed(session: Session) -> int:
    try:
        return count_review_summaries(session)
    except SQLAlchemyError:  # a database not yet migrated to the review table
        session.rollback()
        return 0


def _review_lines(platform: Platform) -> dict[int, str]:
    try:
        with platform.session() as session:
            stored = all_review_summaries(session)
    except SQLAlchemyError:
        return {}
    return {i: aspect_line(s) for i, s in stored.items()}


def catalog_retriever(platform: Platform, *, refresh: bool = False) -> CatalogRetriever:
    """The platform's retriever, built on first use (a second or two) and when the catalog's
    size or the number of stored review summaries changes.

    Raises:
        DataError: the catalog is empty or unreadable.
    """
    slot = platform.state.retriever
    with slot.lock:
        with platform.session() as session:
            count = count_movies(session)
            reviewed = _count_reviewed(session)
        if count == 0:
            raise DataError("The catalog is empty; run `cinerec ingest` first.")
        cached = slot.entry
        if cached is not None and cached[0] == (count, reviewed) and not refresh:
            return cached[1]
        movies, popularity = load_catalog_movies(platform)
        retriever = CatalogRetriever(movies, popularity, reviews=_review_lines(platform))
        slot.entry = ((count, reviewed), retriever)
        return retriever


def embedding_view(platform: Platform) -> EmbeddingView | None:
    """The built embedding index of the platform, or None while it is not built (never waits).

    Reads the cache of :func:`cinerec.services.similar.catalog_index` without taking its lock,
    which is held for the whole (long) first build.
    """
    index = similar.built_catalog_index(platform)
    return EmbeddingView(index) if index is not None else None


def embeddings_ready(platform: Platform) -> bool:
    """Whether description embeddings can be used now (a non-blocking check)."""
    return embedding_view(platform) is not None


def start_embedding_build(platform: Platform, *, embedder: Embedder | None = None) -> bool:
    """Build the retriever, then the catalog embedding index, on a daemon thread (call it at
    server start); False when the index is built or being built."""
    slot = platform.state.retriever
    with slot.lock:
        if embeddings_ready(platform) or slot.building:
            return False
        slot.building = True

    def build() -> None:
        try:
            catalog_retriever(platform)  # the quick part first: titles, people, BM25
            similar.catalog_index(platform, embedder=embedder)
        except Exception as exc:  # noqa: BLE001 - a background failure leaves BM25-only search
            log.warning("catalog embedding index not built (chat stays BM25-only): %s", exc)
        finally:
            with slot.lock:
                slot.building = False

    threading.Thread(target=build, name="cinerec-embeddings", daemon=True).start()
    return True


def retrieve(
    platform: Platform,
    query: str,
    k: int = 5,
    *,
    exclude: Collection[int] = (),
    use_embeddings: bool = True,
) -> list[RetrievalHit]:
    """Hybrid retrieval on the platform's catalog (embeddings only when already built)."""
    view = embedding_view(platform) if use_embeddings else None
    return catalog_retriever(platform).search(query, k, exclude=exclude, embeddings=view)
