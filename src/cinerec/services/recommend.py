"""The recommendation flow: candidates -> taste -> persona -> grounded re-rank -> stored run."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from cinerec.data.types import Movie, Rated
from cinerec.db import repository as repo
from cinerec.errors import NotFoundError
from cinerec.llm.persona import PersonaResult, UserProfile, write_persona
from cinerec.llm.rerank import Candidate, rerank
from cinerec.services.platform import Platform
from cinerec.text.taste import Taste, parse_taste, taste_genre_scores

POOL_SIZE = 300  # retriever candidates before the taste filter
TASTE_WEIGHT = 0.35  # how much a liked genre lifts a candidate (scores are rank-normalised)


@dataclass(frozen=True, slots=True)
class Card:
    """One recommendation as shown: the catalog facts plus the model's fit score and reason."""

    rank: int
    movie: Movie
    base_score: float
    fit_score: float | None
    reason: str | None


@dataclass(frozen=True)
class RecommendationPage:
    """A page of recommendations and how it was made."""

    run_id: int | None
    page: int
    cards: list[Card]
    fallback: bool
    error: str | None
    persona: str | None
    persona_fallback: bool
    retriever: str
    llm_model: str
    timings: dict[str, float] = field(default_factory=dict)


def candidate_pool(
    platform: Platform,
    session: Session,
    *,
    history: Sequence[Rated],
    taste: Taste,
    exclude: Collection[int],
    n: int,
) -> list[Candidate]:
    """The retriever's top items for a history (popularity when empty), re-weighted by taste.

    Movies of a disliked genre are dropped; liked genres lift a movie. Scores are rank-normalised
    to (0, 1] first so that popularity counts and ALS scores mix the same way.
    """
    blocked = set(exclude) | {r.movie_id for r in history}
    if history:
        model, _ = platform.recommender
        ranked = [s.movie_id for s in model.recommend(history, POOL_SIZE, exclude=blocked)]
    else:
        ranked = []
    if len(ranked) < POOL_SIZE:
        seen = set(ranked) | blocked
        ranked += [
            i
            for i in repo.popular_movie_ids(session, limit=POOL_SIZE + len(seen), exclude=seen)
            if i not in seen
        ][: POOL_SIZE - len(ranked)]
    movies = repo.get_movies(session, ids=ranked)
    scored: list[Candidate] = []
    for rank, movie_id in enumerate(ranked):
        movie = movies.get(movie_id)
        if movie is None:
            continue
        genre_score = taste_genre_scores(taste, movie.genres)
        if genre_score < 0:
            continue
        base = 1.0 - rank / len(ranked)
        scored.append(Candidate(movie=movie, score=base + TASTE_WEIGHT * genre_score))
    scored.sort(key=lambda c: c.score, reverse=True)
    return scored[:n]


def _profile(user: repo.UserRecord) -> UserProfile:
    return UserProfile(
        name=user.name, age=user.age, gender=user.gender, taste=user.taste, language=user.language
    )


def current_batch(runs: Sequence[repo.RunRecord]) -> list[repo.RunRecord]:
    """The runs since (and including) the newest page 1, newest first."""
    batch: list[repo.RunRecord] = []
    for run in runs:  # newest first
        batch.append(run)
        if run.page == 1:
            break
    return batch


def _excluded_for_more(session: Session, user_id: int) -> tuple[set[int], int]:
    """Ids shown since the newest first page, and the next page number."""
    runs = repo.list_runs(session, user_id=user_id, limit=50)
    if not runs:
        return set(), 1
    shown = {item.movie_id for run in current_batch(runs) for item in run.items}
    return shown, runs[0].page + 1


def persona_is_stale(persona: repo.PersonaRecord | None, user: repo.UserRecord) -> bool:
    """A persona is redone when the profile or the watched list changed after it was written."""
    return persona is None or persona.created_at < user.changed_at


def recommend_for_user(
    platform: Platform, *, user_id: int, more: bool = False
) -> RecommendationPage:
    """Make, store and return the next page of recommendations for a user.

    ``more=False`` starts over at page 1; ``more=True`` gives the next page, never repeating a
    movie shown since that page 1. The language model's failure never fails the page: the base
    ranking is returned with ``fallback=True``.
    """
    settings = platform.settings
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with platform.session() as session:
        user = repo.get_user(session, user_id=user_id)
        if user is None:
            raise NotFoundError("This session has no profile yet; fill in the profile first.")
        history = repo.list_watched(session, user_id=user_id)
        exclude, page = _excluded_for_more(session, user_id) if more else (set(), 1)
        taste = parse_taste(user.taste)
        candidates = candidate_pool(
            platform,
            session,
            history=history,
            taste=taste,
            exclude=exclude,
            n=settings.n_candidates,
        )
        history_movies = list(repo.get_movies(session, ids=[r.movie_id for r in history]).values())
        persona_row = repo.latest_persona(session, user_id=user_id)
    timings["candidates"] = time.perf_counter() - t0
    _, info = platform.recommender if history else (None, None)
    retriever = f"{settings.recommender}:{info.version}" if info else "popularity+taste"

    profile = _profile(user)
    backend = platform.llm
    persona: PersonaResult | None = None
    if persona_is_stale(persona_row, user):
        t = time.perf_counter()
        persona = write_persona(backend, profile, history_movies, timeout_s=settings.llm_timeout_s)
        timings["persona"] = time.perf_counter() - t
        persona_text, persona_fallback = persona.text, persona.fallback
    else:
        assert persona_row is not None
        persona_text, persona_fallback = persona_row.text, persona_row.fallback

    t = time.perf_counter()
    result = rerank(
        backend,
        profile,
        persona_text,
        history_movies,
        candidates,
        n=settings.page_size,
        timeout_s=settings.llm_timeout_s,
    )
    timings["rerank"] = time.perf_counter() - t
    by_id = {c.movie.movie_id: c for c in candidates}
    cards = [
        Card(
            rank=k + 1,
            movie=by_id[item.movie_id].movie,
            base_score=by_id[item.movie_id].score,
            fit_score=item.fit_score,
            reason=item.reason,
        )
        for k, item in enumerate(result.items[: settings.page_size])
    ]
    timings["total"] = time.perf_counter() - t0
    with platform.session() as session:
        if persona is not None:
            repo.save_persona(
                session,
                user_id=user_id,
                text=persona.text,
                model=persona.model,
                fallback=persona.fallback,
            )
        run_id = repo.save_run(
            session,
            user_id=user_id,
            page=page,
            retriever=retriever,
            retriever_version=info.version if info else "",
            llm_model=result.model,
            fallback=result.fallback,
            error=result.error,
            timings={k: round(v, 4) for k, v in timings.items()},
            items=[
                repo.RunItem(
                    movie_id=c.movie.movie_id,
                    base_score=c.base_score,
                    fit_score=c.fit_score,
                    reason=c.reason,
                )
                for c in cards
            ],
        )
    return RecommendationPage(
        run_id=run_id,
        page=page,
        cards=cards,
        fallback=result.fallback,
        error=result.error,
        persona=persona_text,
        persona_fallback=persona_fallback,
        retriever=retriever,
        llm_model=result.model,
        timings=timings,
    )


def recommend_for_history(
    platform: Platform, *, history: Sequence[Rated], taste_text: str = "", n: int = 10
) -> list[Candidate]:
    """Candidates for an ad-hoc history without a stored user (used by ``cinerec recommend``)."""
    with platform.session() as session:
        known = repo.get_movies(session, ids=[r.movie_id for r in history])
        unknown = [r.movie_id for r in history if r.movie_id not in known]
        if unknown:
            raise NotFoundError(f"Unknown movie ids: {unknown[:10]}; look them up with search.")
        return candidate_pool(
            platform, session, history=history, taste=parse_taste(taste_text), exclude=(), n=n
        )
