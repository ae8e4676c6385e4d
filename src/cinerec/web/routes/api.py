"""The JSON API: one endpoint per step of the flow. The session is the same cookie as the pages."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from cinerec.errors import ValidationError
from cinerec.services import catalog, users
from cinerec.services import feedback as card_feedback
from cinerec.services.dashboard import load_dashboard
from cinerec.services.recommend import CancelToken, recommend_for_user, stream_reasons
from cinerec.services.users import UserRecord
from cinerec.web.deps import (
    GateDep,
    PlatformDep,
    TokenDep,
    UserDep,
    cookies_secure,
    limit_restore_attempts,
    set_session_cookie,
)
from cinerec.web.schemas import (
    COMMON_ERRORS,
    MODEL_ERRORS,
    CsrfOut,
    FeedbackIn,
    FeedbackOut,
    FeedbackPublic,
    MovieIdPath,
    MoviePublic,
    PersonaPublic,
    ProfileIn,
    RecommendationPagePublic,
    RecommendationsIn,
    RestoreIn,
    ReviewsPublic,
    RunIdPath,
    UserPublic,
    WatchedIn,
    WatchedPublic,
)
from cinerec.web.security import csrf_token, require_csrf
from cinerec.web.streaming import on_model_pool, until_disconnect

router = APIRouter(
    prefix="/api", tags=["api"], dependencies=[Depends(require_csrf)], responses=COMMON_ERRORS
)


def _require(user: UserRecord | None) -> UserRecord:
    if user is None:
        raise ValidationError("No profile for this session yet: POST /api/profile first.")
    return user


def _public(user: UserRecord) -> UserPublic:
    return UserPublic(
        name=user.name, age=user.age, gender=user.gender, taste=user.taste, language=user.language
    )


@router.get("/csrf", response_model=CsrfOut)
def get_csrf(request: Request) -> CsrfOut:
    """The CSRF token for this client (the ``cinerec_csrf`` cookie is set with it): send it as
    the ``X-CSRF-Token`` header, with the cookie, on every POST, PUT and DELETE."""
    return CsrfOut(csrf_token=csrf_token(request))


@router.put("/profile", response_model=UserPublic)
@router.post("/profile", response_model=UserPublic)
def put_profile(
    request: Request,
    response: Response,
    platform: PlatformDep,
    token: TokenDep,
    body: ProfileIn,
) -> UserPublic:
    """Create this session's user (sets the session cookie; the answer carries the recovery
    code, once) or update the profile."""
    profile = users.parse_profile(
        body.model_dump(), max_taste_chars=platform.settings.max_taste_chars
    )
    new_token, user_id = users.save_profile(platform, token=token, profile=profile)
    code = users.issue_recovery_code(platform, user_id=user_id) if new_token != token else None
    set_session_cookie(response, new_token, secure=cookies_secure(request))
    user = users.current_user(platform, new_token)
    assert user is not None
    return _public(user).model_copy(update={"recovery_code": code})


@router.post("/session/restore", response_model=UserPublic, responses=MODEL_ERRORS)
def restore_session(
    request: Request, response: Response, platform: PlatformDep, body: RestoreIn, gate: GateDep
) -> UserPublic:
    """Bring a profile to this client with its recovery code; the other browser's session
    ends. Attempts are rate-limited per client."""
    limit_restore_attempts(gate, request)
    token, _ = users.restore_session(platform, code=body.code)
    set_session_cookie(response, token, secure=cookies_secure(request))
    user = users.current_user(platform, token)
    assert user is not None
    return _public(user)


@router.get("/profile", response_model=UserPublic)
def get_profile(user: UserDep) -> UserPublic:
    return _public(_require(user))


@router.get("/movies/search", response_model=list[MoviePublic])
def search_movies(
    platform: PlatformDep,
    q: Annotated[str, Query(max_length=200)],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> list[MoviePublic]:
    """Type-ahead search over titles; a 4-digit year in the query filters by year."""
    return [MoviePublic.of(m) for m in catalog.search_movies(platform, q, limit=limit)]


@router.get("/movies/{movie_id}", response_model=MoviePublic)
def get_movie(platform: PlatformDep, movie_id: MovieIdPath) -> MoviePublic:
    return MoviePublic.of(catalog.get_movie(platform, movie_id))


@router.get("/movies/{movie_id}/reviews", response_model=ReviewsPublic | None)
def get_movie_reviews(platform: PlatformDep, movie_id: MovieIdPath) -> ReviewsPublic | None:
    """What reviewers say about a movie (aspects, verdicts, quotes with highlights); null when
    no review summary is stored for it."""
    found = catalog.movie_reviews(platform, movie_id)
    return None if found is None else ReviewsPublic.of(found)


@router.get("/watched", response_model=list[WatchedPublic])
def list_watched(platform: PlatformDep, user: UserDep) -> list[WatchedPublic]:
    dash = load_dashboard(platform, user=_require(user), max_runs=0)
    return [WatchedPublic(movie=MoviePublic.of(w.movie), rating=w.rating) for w in dash.watched]


@router.post("/watched", response_model=list[WatchedPublic])
def add_watched(platform: PlatformDep, user: UserDep, body: WatchedIn) -> list[WatchedPublic]:
    current = _require(user)
    users.mark_watched(
        platform,
        user_id=current.id,
        movie_id=users.parse_movie_id(body.movie_id),
        rating=users.parse_rating(body.rating),
    )
    return list_watched(platform, user)


@router.delete("/watched/{movie_id}", response_model=list[WatchedPublic])
def remove_watched(
    platform: PlatformDep, user: UserDep, movie_id: MovieIdPath
) -> list[WatchedPublic]:
    users.unmark_watched(platform, user_id=_require(user).id, movie_id=movie_id)
    return list_watched(platform, user)


@router.post("/recommendations", response_model=RecommendationPagePublic, responses=MODEL_ERRORS)
async def recommend(
    request: Request,
    platform: PlatformDep,
    user: UserDep,
    gate: GateDep,
    body: RecommendationsIn | None = None,
) -> RecommendationPagePublic:
    """Candidates -> ranked list -> grounded reasons; ``more`` gives the next page without
    repeats. With ``stream_reasons`` the ranked list comes back at once
    (``reasons_pending=true``) and the reasons stream from
    ``GET /api/recommendations/{run_id}/reasons``."""
    current = _require(user)

    def page() -> RecommendationPagePublic:
        with gate.hold(f"user:{current.id}"):
            made = recommend_for_user(
                platform,
                user_id=current.id,
                more=bool(body and body.more),
                reasons=not (body and body.stream_reasons),
            )
        return RecommendationPagePublic.of(made)

    return await on_model_pool(request, page)


def sse(event: str, data: object) -> str:
    """One server-sent event with a JSON payload."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.get(
    "/recommendations/{run_id}/reasons",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def reasons_stream(
    request: Request, platform: PlatformDep, user: UserDep, run_id: RunIdPath
) -> StreamingResponse:
    """Server-sent events: ``reason`` ({movie_id, text}) per card as it is written, then
    ``fallback`` ({message}) if the model failed, ``persona`` ({text, fallback}) when it was
    rewritten, and ``done``. Reasons already written are sent first. Several listeners of one
    run (two tabs) share one producer: each reason is written once. When the last listener
    disconnects, the model stops within about a token and the run stays pending (the next
    listener resumes it)."""
    user_id = _require(user).id
    listener = CancelToken()
    events = stream_reasons(platform, user_id=user_id, run_id=run_id, until=listener)
    first = next(events)  # ownership is checked before the response starts

    def body() -> Iterator[str]:
        for event in itertools.chain([first], events):
            if event.kind == "reason":
                yield sse("reason", {"movie_id": event.movie_id, "text": event.text})
            elif event.kind == "persona":
                yield sse("persona", {"text": event.text, "fallback": event.fallback})
            elif event.kind == "fallback":
                yield sse("fallback", {"message": event.text})
            else:
                yield sse("done", {})

    return StreamingResponse(
        until_disconnect(request, listener, body()),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/recommendations", response_model=list[RecommendationPagePublic])
def past_recommendations(platform: PlatformDep, user: UserDep) -> list[RecommendationPagePublic]:
    """Stored runs, newest first."""
    dash = load_dashboard(platform, user=_require(user))
    return [RecommendationPagePublic.of(p) for p in [*reversed(dash.current), *dash.earlier]]


@router.get("/persona", response_model=PersonaPublic | None)
def get_persona(platform: PlatformDep, user: UserDep) -> PersonaPublic | None:
    persona = users.latest_persona(platform, user_id=_require(user).id)
    return (
        PersonaPublic(text=persona.text, model=persona.model, fallback=persona.fallback)
        if persona
        else None
    )


@router.post("/feedback", response_model=FeedbackOut)
def feedback(platform: PlatformDep, user: UserDep, body: FeedbackIn) -> FeedbackOut:
    """Record feedback about a movie. ``like`` ("More like this") and ``dislike`` ("Not for
    me") replace the movie's earlier choice and shape every next page at once: a liked movie
    joins the history the recommender reads, a disliked one and its close neighbours move down
    (``not_interested`` only hides the movie)."""
    user_id = _require(user).id
    fid = card_feedback.give_feedback(
        platform, user_id=user_id, movie_id=body.movie_id, kind=body.kind, run_id=body.run_id
    )
    return FeedbackOut(id=fid)


@router.get("/feedback", response_model=list[FeedbackPublic])
def list_feedback(platform: PlatformDep, user: UserDep) -> list[FeedbackPublic]:
    """This session's standing "More like this" / "Not for me" choices."""
    found = card_feedback.choices(platform, user_id=_require(user).id)
    return [
        FeedbackPublic(movie_id=m, kind="like" if k == "like" else "dislike")
        for m, k in found.items()
    ]


@router.delete("/feedback/{movie_id}", response_model=list[FeedbackPublic])
def undo_feedback(
    platform: PlatformDep, user: UserDep, movie_id: MovieIdPath
) -> list[FeedbackPublic]:
    """Undo the choice on a movie (nothing happens when there is none); answers the choices
    that remain."""
    user_id = _require(user).id
    card_feedback.undo_feedback(platform, user_id=user_id, movie_id=movie_id)
    return list_feedback(platform, user)
