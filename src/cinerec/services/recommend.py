"""The recommendation flow: candidates -> taste -> stored run -> reasons and persona.

What orders the cards: the trained recommender on the ticked movies, with the taste text
lifting liked genres and dropping disliked ones (``TASTE_WEIGHT``); a feature-aware recommender
(the learned ranker, ``CINEREC_RECOMMENDER=ltr``) reads the taste text itself. The language
model writes the reasons and the persona; it re-scores the cards only when ``rank_method`` asks
for it (off by default: on the newviewer protocol it did not earn a place in the ranking).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from cinerec.data.types import Movie, Rated
from cinerec.db import repository as repo
from cinerec.db.review_summaries import ReviewSummary, get_review_summaries
from cinerec.errors import NotFoundError
from cinerec.llm.backends.cancel import CancelToken
from cinerec.llm.backends.gate import Priority
from cinerec.llm.persona import TEMPLATE_MODEL, UserProfile, template_persona, write_persona
from cinerec.llm.ranking.rerank import Candidate, RankedItem, base_ranking
from cinerec.llm.ranking.score_mix import rank_page
from cinerec.llm.reasons import warm_prefix, write_reasons
from cinerec.recommenders.base import FeatureAware
from cinerec.services.feedback import PageFeedback, demote, page_feedback, session_choices
from cinerec.services.platform import Platform
from cinerec.services.reviews import review_note
from cinerec.services.warm import request_reasons_warm_up
from cinerec.text.taste import TASTE_WEIGHT, Taste, parse_taste, taste_genre_scores

POOL_SIZE = 300  # retriever candidates before the taste filter
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Card:
    """One recommendation as shown: the catalog facts plus the model's fit score and reason."""

    rank: int
    movie: Movie
    base_score: float
    fit_score: float | None
    reason: str | None
    reviews: ReviewSummary | None = None


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
    reasons_pending: bool = False
    choices: dict[int, str] = field(default_factory=dict)
    """The cards' standing "More like this" / "Not for me" (movie id -> ``like`` or
    ``dislike``), read with a freshly made page; empty on a page rebuilt from a stored run."""


def candidate_pool(
    platform: Platform,
    session: Session,
    *,
    history: Sequence[Rated],
    taste: Taste,
    exclude: Collection[int],
    n: int,
    feedback: PageFeedback | None = None,
    taste_text: str = "",
) -> list[Candidate]:
    """The retriever's top items for a history (popularity when empty), re-weighted by taste.

    Movies of a disliked genre are dropped; liked genres lift a movie. Scores are rank-normalised
    to (0, 1] first so that popularity counts and ALS scores mix the same way. ``feedback``
    (the cards' "More like this" / "Not for me") folds liked movies into the history, drops
    disliked ones and demotes their neighbours (:mod:`cinerec.services.feedback`). A
    feature-aware recommender (the learned ranker) gets ``taste_text`` as its statement and its
    order stands (no genre lift: it has learned what the statement is worth).
    """
    if feedback:
        history, exclude = feedback.fold(history, exclude)
    blocked = set(exclude) | {r.movie_id for r in history}
    lift = TASTE_WEIGHT
    if history:
        model, _ = platform.recommender
        if isinstance(model, FeatureAware) and taste_text:
            recs = model.recommend_for(
                history, POOL_SIZE, exclude=blocked, features={"statement": taste_text}
            )
            lift = 0.0
        else:
            recs = model.recommend(history, POOL_SIZE, exclude=blocked)
        ranked = [s.movie_id for s in recs]
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
        scored.append(Candidate(movie=movie, score=base + lift * genre_score))
    if feedback and feedback.disliked:
        scored = demote(platform, scored, feedback.disliked)
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


def _ranked(
    platform: Platform,
    user: repo.UserRecord,
    persona: repo.PersonaRecord | None,
    history: Sequence[Movie],
    candidates: Sequence[Candidate],
) -> tuple[list[RankedItem], str | None]:
    """The page order: the retriever's, or blended with the model's probabilities when
    ``rank_method`` asks for it (see :func:`cinerec.llm.ranking.score_mix.rank_page`). Returns the
    items and the scorer's error (None when it worked or was not used)."""
    settings = platform.settings
    backend = platform.llm_at(Priority.PAGE)
    if settings.rank_method == "none" or backend is None or not candidates:
        return base_ranking(candidates), None
    profile = _profile(user)
    fresh = persona is not None and not persona_is_stale(persona, user)
    text = persona.text if fresh and persona is not None else template_persona(profile, history)
    ranking, _ = rank_page(
        backend,
        profile,
        text,
        history,
        candidates,
        method="yesno" if settings.rank_method == "yesno" else "verbalizer",
        weight=settings.rank_weight,
        timeout_s=settings.llm_timeout_s,
        priors=platform.state.yesno_priors,
    )
    return ranking.items, ranking.error


def _page_candidates(
    platform: Platform, session: Session, user: repo.UserRecord, *, more: bool
) -> tuple[list[Rated], list[Candidate], int]:
    """The user's history, the candidates of their next page and its page number."""
    history = repo.list_watched(session, user_id=user.id)
    exclude, page = _excluded_for_more(session, user.id) if more else (set(), 1)
    candidates = candidate_pool(
        platform,
        session,
        history=history,
        taste=parse_taste(user.taste),
        exclude=exclude,
        n=platform.settings.n_candidates,
        feedback=page_feedback(session, user_id=user.id),
        taste_text=user.taste,
    )
    return history, candidates, page


def recommend_for_user(
    platform: Platform, *, user_id: int, more: bool = False, reasons: bool = True
) -> RecommendationPage:
    """Make, store and return the next page of recommendations for a user.

    ``more=False`` starts over at page 1; ``more=True`` gives the next page, never repeating a
    movie shown since that page 1. The ranked list is stored first; with ``reasons=False`` the
    page comes back at once with ``reasons_pending=True`` and :func:`stream_reasons` writes the
    reasons (and a stale persona) afterwards; with ``reasons=True`` that happens before
    returning. The language model's failure never fails the page: the ranked list stays and the
    page is flagged ``fallback=True``.

    The user, their history and persona are read once, and the page is built from what was
    just computed (the stored run is not read back).
    """
    settings = platform.settings
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with platform.session() as session:
        user = repo.get_user(session, user_id=user_id)
        if user is None:
            raise NotFoundError("This session has no profile yet; fill in the profile first.")
        history, candidates, page = _page_candidates(platform, session, user, more=more)
        history_movies = repo.get_movies(session, ids=[r.movie_id for r in history])
        persona_row = repo.latest_persona(session, user_id=user_id)
    timings["candidates"] = time.perf_counter() - t0
    viewer = _viewer_of(user, history, history_movies, persona_row)
    _, info = platform.recommender if history else (None, None)
    retriever = f"{settings.recommender}:{info.version}" if info else "popularity+taste"
    t = time.perf_counter()
    ranked_all, rank_error = _ranked(platform, user, persona_row, viewer.history, candidates)
    ranked = ranked_all[: settings.page_size]
    timings["rank"] = time.perf_counter() - t
    timings["ranked_list"] = time.perf_counter() - t0
    by_id = {c.movie.movie_id: c for c in candidates}
    backend = platform.llm
    items = tuple(
        repo.RunItem(
            movie_id=item.movie_id,
            base_score=by_id[item.movie_id].score,
            fit_score=item.fit_score,
            reason=None,
        )
        for item in ranked
    )
    run_timings = {k: round(v, 4) for k, v in timings.items()}
    llm_model = backend.model if backend is not None else TEMPLATE_MODEL
    draft = repo.RunRecord(
        id=0,
        user_id=user_id,
        created_at=datetime.now(UTC),
        page=page,
        retriever=retriever,
        retriever_version=info.version if info else "",
        llm_model=llm_model,
        fallback=backend is None,
        error=rank_error,
        timings=run_timings,
        items=items,
        reasons_pending=True,
    )
    with platform.session() as session:
        run = repo.add_run(session, draft)
        summaries = get_review_summaries(session, movie_ids=[i.movie_id for i in items])
        choices = session_choices(session, user_id=user_id)
    movies = {i.movie_id: by_id[i.movie_id].movie for i in items}
    persona = (persona_row.text, persona_row.fallback) if persona_row else (None, False)
    if reasons:
        end = _ReasonsEnd()
        notes = {i: review_note(s) for i, s in summaries.items()}
        written: dict[int, str | None] = {}
        for event in _produce_reasons(
            platform, user_id=user_id, run=run, viewer=viewer, movies=movies, notes=notes, end=end
        ):
            if event.kind == "reason" and event.movie_id is not None:
                written[event.movie_id] = event.text
            elif event.kind == "persona":
                persona = (event.text, event.fallback)
        run = replace(
            run,
            items=tuple(replace(i, reason=written.get(i.movie_id, i.reason)) for i in items),
            fallback=end.fallback,
            error=end.error,
            timings={**run.timings, **end.timings},
            llm_model=end.model,
            reasons_pending=False,
        )
    built = page_from_run(
        run, movies, persona=persona[0], persona_fallback=persona[1], reviews=summaries
    )
    return replace(built, choices={m: c for m, c in choices.items() if m in movies})


def page_from_run(
    run: repo.RunRecord,
    movies: dict[int, Movie],
    *,
    persona: str | None = None,
    persona_fallback: bool = False,
    reviews: Mapping[int, ReviewSummary] | None = None,
) -> RecommendationPage:
    """A stored run as a page of cards (movies missing from ``movies`` are skipped); each card
    carries its movie's review summary from ``reviews`` when there is one."""
    cards = [
        Card(
            rank=k + 1,
            movie=movies[item.movie_id],
            base_score=item.base_score,
            fit_score=item.fit_score,
            reason=item.reason,
            reviews=(reviews or {}).get(item.movie_id),
        )
        for k, item in enumerate(run.items)
        if item.movie_id in movies
    ]
    timings = dict(run.timings or {})
    return RecommendationPage(
        run_id=run.id,
        page=run.page,
        cards=cards,
        fallback=run.fallback,
        error=run.error,
        persona=persona,
        persona_fallback=persona_fallback,
        retriever=run.retriever,
        llm_model=run.llm_model,
        timings=timings,
        reasons_pending=run.reasons_pending and not run.fallback,
    )


@dataclass(frozen=True, slots=True)
class ReasonEvent:
    """One step of :func:`stream_reasons`.

    ``kind`` is ``reason`` (``movie_id`` and ``text``; text None when nothing usable was
    written), ``persona`` (``text``, ``fallback``), ``fallback`` (the model failed: ``text`` is
    the error; the ranked list stands) or ``done``.
    """

    kind: str
    movie_id: int | None = None
    text: str | None = None
    fallback: bool = False


@dataclass(frozen=True)
class _Viewer:
    """What a reasons prompt is made of for one user, read in one session."""

    user: repo.UserRecord
    history: list[Movie]
    persona_stale: bool
    persona_text: str


def _viewer_of(
    user: repo.UserRecord,
    history: Sequence[Rated],
    found: Mapping[int, Movie],
    persona: repo.PersonaRecord | None,
) -> _Viewer:
    """The viewer from what was read: the stored persona when fresh, else the template persona
    (a fresh one is written after the reasons)."""
    movies = [found[r.movie_id] for r in history if r.movie_id in found]
    stale = persona_is_stale(persona, user)
    text = template_persona(_profile(user), movies) if stale or persona is None else persona.text
    return _Viewer(user, movies, stale, text)


def _viewer(session: Session, user_id: int) -> _Viewer:
    """The user, their watched movies and the persona the reasons use, read in one session."""
    user = repo.get_user(session, user_id=user_id)
    if user is None:
        raise NotFoundError(f"There is no user {user_id}.")
    history = repo.list_watched(session, user_id=user_id)
    found = repo.get_movies(session, ids=[r.movie_id for r in history])
    return _viewer_of(user, history, found, repo.latest_persona(session, user_id=user_id))


def warm_reasons(platform: Platform, *, user_id: int) -> int:
    """Evaluate this viewer's reasons prompt prefix now, so their next page's first reason needs
    only its card's facts (:func:`cinerec.llm.reasons.warm_prefix`).

    Meant for a background task after the profile or the watched list changes, and after a
    persona is rewritten. Requests coalesce: while one warm-up runs, later requests only leave
    the newest user to warm next, so a burst of ticks costs at most two warm-ups; a running
    warm-up that a newer request supersedes, or that the platform's shutdown
    (:meth:`~cinerec.services.platform.Platform.close`) overtakes, stops before its model
    call. Does nothing without a language model or with ``settings.prefill_reasons`` off;
    never raises (a failure is logged), nor for a backend that keeps no prefix cache
    (``caches_prefix``). Warm-ups wait behind every page and chat call (``Priority.WARMUP``)
    and are skipped when the model stays busy. Returns how many warm-ups this call ran.
    """
    backend = platform.llm
    if backend is None or not backend.caches_prefix or not platform.settings.prefill_reasons:
        return 0
    state = platform.state.reason_warm_ups
    with state.lock:
        state.wanted = user_id
        if state.running:
            return 0
        state.running = True
    done = 0
    try:
        while True:
            with state.lock:
                wanted, state.wanted = state.wanted, None
                if wanted is None or platform.closing:
                    return done
            done += _warm_once(
                platform, wanted, stop=lambda: platform.closing or state.superseded()
            )
    finally:
        with state.lock:
            state.running = False


def _warm_once(platform: Platform, user_id: int, *, stop: Callable[[], bool]) -> int:
    """One user's warm-up; 0 without its model call when ``stop()`` says so first (a newer
    request waits, or the platform is closing)."""
    backend = platform.llm_at(Priority.WARMUP)  # pages and chat go first; skipped when busy
    if backend is None:
        return 0
    try:
        with platform.session() as session:
            viewer = _viewer(session, user_id)
            try:
                movie, note = _predicted_first_card(platform, session, viewer.user)
            except Exception as exc:  # e.g. no trained recommender yet: warm the viewer block
                log.info("no predicted first card for user %s: %s", user_id, exc)
                movie, note = None, ""
        if stop():
            log.info("warm-up for user %s stopped: superseded or shutting down", user_id)
            return 0
        ok = warm_prefix(
            backend,
            _profile(viewer.user),
            viewer.persona_text,
            viewer.history,
            timeout_s=platform.settings.llm_timeout_s,
            movie=movie,
            note=note,
            cancel=platform.state.shutdown,
        )
    except Exception:  # a background warm-up must never break a request
        log.exception("warming the reasons prompt for user %s failed", user_id)
        return 0
    return int(ok)


def _predicted_first_card(
    platform: Platform, session: Session, user: repo.UserRecord
) -> tuple[Movie | None, str]:
    """The first card of the page this user most likely asks for next, with its review note.

    After a change of profile or watched list that is a new page 1; after a page shown since
    the last change, the next page ("more"). The retriever's order is deterministic and cheap,
    so the prediction is exact unless the model re-ranks the page (``rank_method`` other than
    ``none``: then no card is predicted and only the viewer block is warmed).
    """
    if platform.settings.rank_method != "none":
        return None, ""
    runs = repo.list_runs(session, user_id=user.id, limit=1)
    more = bool(runs) and runs[0].created_at >= user.changed_at
    _, candidates, _ = _page_candidates(platform, session, user, more=more)
    if not candidates:
        return None, ""
    movie = candidates[0].movie  # the retriever's order is the page order (base_ranking)
    return movie, _reason_notes(session, [movie.movie_id]).get(movie.movie_id, "")


def _reason_notes(session: Session, movie_ids: Sequence[int]) -> dict[int, str]:
    """Per movie id, the review line a card's reasons prompt carries (movies without reviews are
    missing). The warm-up and the reasons stream both use it, so their prompts match."""
    summaries = get_review_summaries(session, movie_ids=list(movie_ids))
    return {i: review_note(s) for i, s in summaries.items()}


def stream_reasons(
    platform: Platform, *, user_id: int, run_id: int, until: CancelToken | None = None
) -> Iterator[ReasonEvent]:
    """Write the reasons of a stored run card by card, then a stale persona; store each at once.

    Reasons already stored are sent again without calling the model, so a reloaded page gets
    the same text. Listeners of a run whose reasons are being written share one producer
    (:class:`~cinerec.services.streams.SharedStreams`): two tabs on the same run get the same
    events, and the model writes each reason once. A listener leaves once ``until`` is
    cancelled (its web client disconnected); when the last one leaves, the card being written
    stops within about a token and the run stays pending: the next listener resumes it. The
    persona used in the reasons' prompt is the stored one when it is fresh, else the template
    persona (a fresh one is written after the reasons, so the first reason is not delayed by
    it). The run, the viewer and the cards' review notes are read in one session.

    Raises:
        NotFoundError: the run does not exist or belongs to someone else (raised here, before
            any event).
    """
    with platform.session() as session:
        run = repo.get_run(session, run_id=run_id)
        if run is None or run.user_id != user_id:
            raise NotFoundError(f"There is no recommendation run {run_id} in this session.")
        viewer = _viewer(session, user_id)
        movies = repo.get_movies(session, ids=[i.movie_id for i in run.items])
        notes = _reason_notes(session, list(movies))
    abandon = CancelToken()
    return platform.shared_streams.join(
        ("reasons", run_id),
        lambda: _produce_reasons(
            platform,
            user_id=user_id,
            run=run,
            viewer=viewer,
            movies=movies,
            notes=notes,
            cancel=abandon,
        ),
        until=until,
        abandon=abandon,
    )


@dataclass
class _ReasonsEnd:
    """How a run's reasons ended (what :func:`_produce_reasons` stored with ``finish_run``)."""

    fallback: bool = False
    error: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    model: str = ""


def _produce_reasons(
    platform: Platform,
    *,
    user_id: int,
    run: repo.RunRecord,
    viewer: _Viewer,
    movies: Mapping[int, Movie],
    notes: Mapping[int, str],
    end: _ReasonsEnd | None = None,
    cancel: CancelToken | None = None,
) -> Iterator[ReasonEvent]:
    """The run's events (see :func:`stream_reasons`). Once ``cancel`` is cancelled (nobody
    listens any more) the card being written stops and the run is left pending, unfinished."""
    settings = platform.settings
    run_id = run.id
    user, history_movies = viewer.user, viewer.history
    end = end if end is not None else _ReasonsEnd()
    end.fallback, end.error, end.model = run.fallback, run.error, run.llm_model
    for item in run.items:
        if item.reason:
            yield ReasonEvent("reason", item.movie_id, item.reason)
    pending = [movies[i.movie_id] for i in run.items if not i.reason and i.movie_id in movies]
    if not run.reasons_pending:
        yield ReasonEvent("done")
        return
    profile = _profile(user)
    backend = platform.llm_at(Priority.PAGE)
    stale = viewer.persona_stale
    persona_text = viewer.persona_text
    t0 = time.perf_counter()
    error: str | None = None
    first: float | None = None
    model = backend.model if backend is not None else TEMPLATE_MODEL
    if backend is None:
        error = "No language model is configured (llm_backend = none)."
    else:
        for reason in write_reasons(
            backend,
            profile,
            persona_text,
            history_movies,
            pending,
            timeout_s=settings.llm_timeout_s,
            notes=dict(notes),
            cancel=cancel,
        ):
            if reason.error is not None:
                if cancel is not None and cancel.cancelled:
                    log.info("reasons of run %s stopped: %s", run_id, cancel.reason)
                    return  # left pending: the next listener writes the rest
                error = reason.error
                break
            first = first if first is not None else time.perf_counter() - t0
            model = reason.model
            with platform.session() as session:
                repo.set_run_item_reason(
                    session, run_id=run_id, movie_id=reason.movie_id, reason=reason.text
                )
            yield ReasonEvent("reason", reason.movie_id, reason.text)
    timings = {"reasons": round(time.perf_counter() - t0, 4)}
    if first is not None:
        timings["first_reason"] = round(first, 4)
    end.fallback = error is not None
    end.error = (error if backend is not None else None) or run.error
    end.timings, end.model = timings, model
    with platform.session() as session:
        repo.finish_run(
            session,
            run_id=run_id,
            fallback=end.fallback,
            error=end.error,
            timings=timings,
            llm_model=model,
        )
    if error is not None:
        yield ReasonEvent("fallback", text=error, fallback=True)
    if stale:
        persona = write_persona(
            platform.llm_at(Priority.CHAT),  # after the reasons, behind other pages' reasons
            profile,
            history_movies,
            timeout_s=settings.llm_timeout_s,
        )
        with platform.session() as session:
            repo.save_persona(
                session,
                user_id=user_id,
                text=persona.text,
                model=persona.model,
                fallback=persona.fallback,
            )
        yield ReasonEvent("persona", text=persona.text, fallback=persona.fallback)
    # The page shown (and a rewritten persona) change the next page's prompt: warm it after
    # this answer has gone out.
    request_reasons_warm_up(platform, user_id=user_id)
    yield ReasonEvent("done")


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
            platform,
            session,
            history=history,
            taste=parse_taste(taste_text),
            exclude=(),
            n=n,
            taste_text=taste_text,
        )
