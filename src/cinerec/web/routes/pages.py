"""Server-rendered pages. Forms work without JavaScript; htmx swaps fragments where it helps."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from cinerec.errors import NotFoundError, ValidationError
from cinerec.services import catalog, users
from cinerec.services import feedback as card_feedback
from cinerec.services.dashboard import load_dashboard
from cinerec.services.recommend import RecommendationPage, recommend_for_user
from cinerec.services.users import UserRecord
from cinerec.web.deps import (
    LANG_COOKIE,
    ONE_YEAR,
    GateDep,
    PlatformDep,
    TokenDep,
    UserDep,
    cookies_secure,
    limit_restore_attempts,
    set_session_cookie,
)
from cinerec.web.schemas import MAX_ID, MovieIdPath
from cinerec.web.security import require_csrf
from cinerec.web.streaming import on_model_pool
from cinerec.web.templating import page_language, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_csrf)])

RECOVERY_COOKIE = "cinerec_recovery"
"""Carries a new recovery code from the profile form's redirect to the page that shows it once."""

MAX_QUERY = 200


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _home(
    request: Request, platform: PlatformDep, user: UserRecord | None, **extra: object
) -> Response:
    lang = page_language(request, user.language if user else "en")
    context: dict[str, object] = {"user": user, "form": None, "error": None, **extra}
    if user is not None:
        context["dash"] = load_dashboard(platform, user=user)
        code = request.cookies.get(RECOVERY_COOKIE, "")
        if len(code) == 29 and code.replace("-", "").isalnum():
            context["recovery_code"] = code
    status = 422 if context.get("error") else 200
    response = render(request, "index.html", context, status_code=status, language=lang)
    if RECOVERY_COOKIE in request.cookies:
        response.delete_cookie(RECOVERY_COOKIE)  # shown once
    if request.query_params.get("lang") in ("en", "ko"):
        response.set_cookie(LANG_COOKIE, lang, max_age=ONE_YEAR, samesite="lax")
    return response


@router.get("/")
def index(request: Request, platform: PlatformDep, user: UserDep) -> Response:
    return _home(request, platform, user)


@router.post("/profile")
def save_profile(
    request: Request,
    platform: PlatformDep,
    token: TokenDep,
    user: UserDep,
    name: Annotated[str, Form()] = "",
    age: Annotated[str, Form()] = "",
    gender: Annotated[str, Form()] = "unspecified",
    taste: Annotated[str, Form()] = "",
    language: Annotated[str, Form()] = "en",
) -> Response:
    raw = {"name": name, "age": age.strip(), "gender": gender, "taste": taste, "language": language}
    try:
        if raw["age"] and not raw["age"].lstrip("-").isdigit():
            raise ValidationError(
                f"Age must be a whole number between {users.MIN_AGE} and {users.MAX_AGE}."
            )
        profile = users.parse_profile(raw, max_taste_chars=platform.settings.max_taste_chars)
    except ValidationError as exc:
        kept = {k: v[:200] for k, v in raw.items()}  # echo a bounded copy of what was typed
        return _home(request, platform, user, error=str(exc), form=kept)
    new_token, user_id = users.save_profile(platform, token=token, profile=profile)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, new_token, secure=cookies_secure(request))
    response.set_cookie(LANG_COOKIE, profile.language, max_age=ONE_YEAR, samesite="lax")
    if new_token != token:  # a new profile: show its recovery code once
        _flash_recovery_code(request, platform, response, user_id)
    return response


def _flash_recovery_code(
    request: Request, platform: PlatformDep, response: Response, user_id: int
) -> None:
    code = users.issue_recovery_code(platform, user_id=user_id)
    response.set_cookie(
        RECOVERY_COOKIE,
        code,
        max_age=600,
        httponly=True,
        samesite="strict",
        secure=cookies_secure(request),
    )


@router.post("/recovery")
def new_recovery_code(request: Request, platform: PlatformDep, user: UserDep) -> Response:
    """Make a new recovery code (the old one stops working) and show it once."""
    current = _require_user(user)
    response = RedirectResponse("/#recovery", status_code=303)
    _flash_recovery_code(request, platform, response, current.id)
    return response


@router.get("/restore")
def restore_page(request: Request, user: UserDep) -> Response:
    return render(request, "restore.html", {"user": user, "error": None})


@router.post("/restore")
def restore(
    request: Request,
    platform: PlatformDep,
    user: UserDep,
    gate: GateDep,
    code: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Bring a profile to this browser with its recovery code (rate-limited per client)."""
    try:
        limit_restore_attempts(gate, request)
        token, _ = users.restore_session(platform, code=code)
    except (ValidationError, NotFoundError) as exc:
        return render(request, "restore.html", {"user": user, "error": str(exc)}, status_code=422)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, token, secure=cookies_secure(request))
    return response


@router.get("/search")
def search(
    request: Request, platform: PlatformDep, user: UserDep, q: Annotated[str, Query()] = ""
) -> Response:
    query = q.strip()[:MAX_QUERY]
    results = catalog.search_movies(platform, query, limit=15) if query else []
    watched = users.watched_ids(platform, user_id=user.id) if user is not None else set()
    return render(
        request,
        "_search_results.html",
        {"results": results, "query": query, "watched_ids": watched},
    )


def _require_user(user: UserRecord | None) -> UserRecord:
    if user is None:
        raise ValidationError("Fill in your profile first; it starts your private session.")
    return user


@router.post("/watched")
def add_watched(
    request: Request,
    platform: PlatformDep,
    user: UserDep,
    movie_id: Annotated[str, Form()] = "",
    rating: Annotated[str, Form()] = "",
) -> Response:
    current = _require_user(user)
    users.mark_watched(
        platform,
        user_id=current.id,
        movie_id=users.parse_movie_id(movie_id),
        rating=users.parse_rating(rating),
    )
    return _watched_fragment(request, platform, current)


@router.post("/watched/{movie_id}/delete")
def delete_watched(
    request: Request,
    platform: PlatformDep,
    user: UserDep,
    movie_id: MovieIdPath,
) -> Response:
    current = _require_user(user)
    users.unmark_watched(platform, user_id=current.id, movie_id=movie_id)
    return _watched_fragment(request, platform, current)


def _watched_fragment(request: Request, platform: PlatformDep, user: UserRecord) -> Response:
    if not _is_htmx(request):
        return RedirectResponse("/", status_code=303)
    dash = load_dashboard(platform, user=user, max_runs=0)
    return render(request, "_watched.html", {"dash": dash})


@router.post("/recommend")
async def recommend(
    request: Request,
    platform: PlatformDep,
    user: UserDep,
    gate: GateDep,
    more: Annotated[int, Query(ge=0, le=1)] = 0,
) -> Response:
    current = _require_user(user)
    # With htmx the cards come back at once and the reasons stream in (static/reasons.js);
    # a plain form post waits for the reasons so the page is complete without JavaScript.
    htmx = _is_htmx(request)

    def make() -> RecommendationPage:
        with gate.hold(f"user:{current.id}"):
            return recommend_for_user(
                platform, user_id=current.id, more=bool(more), reasons=not htmx
            )

    page = await on_model_pool(request, make)
    if not htmx:
        return RedirectResponse("/#recommendations", status_code=303)
    return render(
        request,
        "_rec_page.html",
        {
            "rec": page,
            "fresh": True,
            "persona": page.persona,
            "persona_fallback": page.persona_fallback,
            "choices": page.choices,
        },
    )


@router.post("/feedback")
def give_feedback(
    request: Request,
    platform: PlatformDep,
    user: UserDep,
    movie_id: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    run_id: Annotated[str, Form()] = "",
) -> Response:
    """A card's "More like this" (``kind=like``) or "Not for me" (``kind=dislike``)."""
    current = _require_user(user)
    if kind not in card_feedback.CHOICES:
        raise ValidationError("Feedback on a card is 'like' or 'dislike'.")
    movie = users.parse_movie_id(movie_id)
    run = _parse_run_id(run_id)
    card_feedback.give_feedback(platform, user_id=current.id, movie_id=movie, kind=kind, run_id=run)
    return _feedback_fragment(request, movie, run, kind)


@router.post("/feedback/{movie_id}/undo")
def undo_feedback(
    request: Request,
    platform: PlatformDep,
    user: UserDep,
    movie_id: MovieIdPath,
    run_id: Annotated[str, Form()] = "",
) -> Response:
    """Take back a card's choice; the card shows both buttons again."""
    current = _require_user(user)
    card_feedback.undo_feedback(platform, user_id=current.id, movie_id=movie_id)
    return _feedback_fragment(request, movie_id, _parse_run_id(run_id), None)


def _parse_run_id(value: str) -> int | None:
    if not value.strip():
        return None
    if not value.strip().isdigit() or not 0 < int(value) <= MAX_ID:
        raise ValidationError("A run id must be a whole number from 1 to 2147483647.")
    return int(value)


def _feedback_fragment(
    request: Request, movie_id: int, run_id: int | None, choice: str | None
) -> Response:
    if not _is_htmx(request):
        return RedirectResponse("/#recommendations", status_code=303)
    return render(
        request, "_feedback.html", {"movie_id": movie_id, "run_id": run_id, "choice": choice}
    )


@router.get("/movies/{movie_id}")
def movie_page(request: Request, platform: PlatformDep, movie_id: MovieIdPath) -> Response:
    details = catalog.movie_details(platform, movie_id)
    return render(
        request,
        "movie.html",
        {"movie": details.movie, "similar": details.similar, "reviews": details.reviews},
    )
