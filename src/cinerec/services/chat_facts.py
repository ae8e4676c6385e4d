"""What the model is told about in a chat turn: retrieved facts, or recommendation candidates.

A question gets the hybrid retrieval of :mod:`cinerec.services.retrieval`; a follow-up that names
no movie ("who starred in it?") also gets the movies the last answer cited. A recommendation
request ("something like Inception but lighter", "볼만한 영화 추천해줘") gets candidates from the
same pool as the main page (:func:`cinerec.services.recommend.candidate_pool`: the trained
recommender on the viewer's watched list, re-weighted by taste, plus what the request says)
fused by reciprocal rank with what retrieval finds for the request. A request bound to a person
or relation ("one of Bong Joon-ho's films") keeps to those movies, ordered by the pool.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Literal

from sqlalchemy.orm import Session

from cinerec.data.types import Movie, Rated
from cinerec.db import repository as repo
from cinerec.errors import CinerecError
from cinerec.services.platform import Platform
from cinerec.services.recommend import candidate_pool
from cinerec.services.retrieval import RetrievalHit, catalog_retriever, embedding_view
from cinerec.text.taste import TASTE_WEIGHT, Taste, parse_taste, taste_genre_scores

log = logging.getLogger(__name__)

Intent = Literal["facts", "recommend"]

_RECOMMEND = re.compile(
    r"\b(recommend\w*|suggest\w*|what (?:should|could|can) i watch|what to watch|"
    r"(?:something|anything|movies?|films?|more) (?:like|similar)|similar to|"
    r"in the mood for|worth watching)\b"
    r"|추천|볼만한|볼 만한|뭐 볼까|뭘 볼까|보고 싶|비슷한|같은 영화",
    re.IGNORECASE,
)
_LIGHT = re.compile(r"\b(light(?:er|-hearted)?|fun(?:ny|nier)?|cheerful|upbeat)\b|가벼운|밝은|유쾌")
_DARK = re.compile(r"\b(dark(?:er)?|gritty|grim|bleak)\b|어두운|무거운")


def detect_intent(message: str) -> Intent:
    """``recommend`` for requests for something to watch (English or Korean), else ``facts``.

    Example:
        >>> detect_intent("something like Inception but lighter"), detect_intent("누가 감독했어?")
        ('recommend', 'facts')
    """
    return "recommend" if _RECOMMEND.search(message) else "facts"


def request_taste(user_taste: str, message: str) -> Taste:
    """The profile's taste plus what the request says ("no horror", "lighter", "어두운")."""
    extra = []
    if _LIGHT.search(message):
        extra.append("comedy, adventure, animation")
    if _DARK.search(message):
        extra.append("thriller, crime, drama")
    return parse_taste(". ".join([user_taste, message, *extra]))


def _fuse(
    rankings: Sequence[Sequence[int]], *, bonus: Mapping[int, float] | None = None, k: int = 60
) -> list[int]:
    """Reciprocal-rank fusion; each unit of ``bonus`` (liked genres) is worth half a top rank."""
    scores: dict[int, float] = {i: 0.5 * b / (k + 1) for i, b in (bonus or {}).items()}
    for ranking in rankings:
        for rank, movie_id in enumerate(ranking, start=1):
            scores[movie_id] = scores.get(movie_id, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda i: (-scores[i], i))


def _explicit(hit: RetrievalHit) -> bool:
    return bool({"title", "same-director", "same-cast", "person"} & set(hit.sources))


def select_facts(
    platform: Platform,
    session: Session,
    *,
    question: str,
    intent: Intent,
    user_taste: str,
    history: Sequence[Rated],
    context_ids: Sequence[int],
    n_retrieve: int = 8,
    pool_size: int = 30,
    use_embeddings: bool = True,
) -> list[Movie]:
    """The movies the model is told about, best first."""
    retriever = catalog_retriever(platform)
    view = embedding_view(platform) if use_embeddings else None
    watched = {r.movie_id for r in history}
    if intent == "recommend":
        hits = retriever.search(question, n_retrieve * 2, embeddings=view)
        named = [h.movie.movie_id for h in hits if "title" in h.sources]
        taste = request_taste(user_taste, question)
        blocked = watched | set(named)
        try:
            pool = candidate_pool(
                platform, session, history=history, taste=taste, exclude=blocked, n=pool_size
            )
        except CinerecError as exc:  # no trained recommender: popularity + taste
            log.warning("chat candidates without the recommender: %s", exc)
            pool = candidate_pool(
                platform, session, history=[], taste=taste, exclude=blocked, n=pool_size
            )
        ranked = [c.movie.movie_id for c in pool]
        # "Recommend one of Bong Joon-ho's films": the named person or relation bounds the
        # candidates; the viewer's pool only orders them.
        bound = [
            h.movie
            for h in hits
            if _explicit(h)
            and "title" not in h.sources
            and h.movie.movie_id not in blocked
            and taste_genre_scores(taste, h.movie.genres) >= 0
        ]
        if bound:
            order = {movie_id: rank for rank, movie_id in enumerate(ranked)}
            return sorted(bound, key=lambda m: order.get(m.movie_id, len(order)))
        # What the request finds, re-weighted by taste the way the pool is.
        kept = [h.movie for h in hits if h.movie.movie_id not in blocked]
        scored = {
            m.movie_id: 1.0 - k / len(kept) + TASTE_WEIGHT * taste_genre_scores(taste, m.genres)
            for k, m in enumerate(kept)
        }
        found = sorted((i for i in scored if scored[i] >= 0), key=lambda i: -scored[i])
        movies = {h.movie.movie_id: h.movie for h in hits} | {
            c.movie.movie_id: c.movie for c in pool
        }
        bonus = {
            i: min(max(taste_genre_scores(taste, movies[i].genres), 0.0), 2.0)
            for i in {*found, *ranked}
        }
        ids = _fuse([found, ranked], bonus=bonus)
        return [movies[i] for i in ids]
    hits = retriever.search(question, n_retrieve, embeddings=view)
    explicit = [h.movie for h in hits if _explicit(h)]
    rest = [h.movie for h in hits if not _explicit(h)]
    # A follow-up without a title ("who starred in it?") is about the movies just discussed.
    follow = [] if any("title" in h.sources for h in hits) else list(context_ids[:2])
    by_id = {m.movie_id: m for m in [*explicit, *rest]}
    if follow:
        by_id.update(repo.get_movies(session, ids=follow))
    order = [m.movie_id for m in explicit] + follow + [m.movie_id for m in rest]
    return [by_id[i] for i in dict.fromkeys(order) if i in by_id]
