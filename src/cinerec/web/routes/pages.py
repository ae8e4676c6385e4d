"""Server-rendered pages. Forms work without JavaScript; htmx swaps fragments where it helps."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from cinerec.db import repository as repo
from cinerec.errors import NotFoundError, ValidationError
from cinerec.services import reviews, similar, users
from cinerec.services.dashboard import load_dashboard
from cinerec.services.recommend import recommend_for_user, warm_reasons
from cinerec.web.deps import (
    LANG_COOKIE,
    ONE_YEAR,
    PlatformDep,
    TokenDep,
    UserDep,
    set_session_cookie,
)
from cinerec.web.templating import page_language, render

router = APIRouter(include_in_schema=False)

MAX_QUERY = 200


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _home(
    request: Request, platform: PlatformDep, user: repo.UserRecord | None, **extra: object
) -> Response:
    lang = page_language(request, user.language if user else "en")
    context: dict[str, object] = {"user": user, "form": None, "error": None, **extra}
    if user is not None:
        context["dash"] = load_dashboard(platform, user_id=user.id)
    status = 422 if context.get("error") else 200
    response = render(request, "index.html", context, status_code=status, language=lang)
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
    tasks: BackgroundTasks,
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
    token, user_id = users.save_profile(platform, token=token, profile=profile)
    tasks.add_task(warm_reasons, platform, user_id=user_id)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, token, secure=platform.settings.cookie_secure)
    response.set_cookie(LANG_COOKIE, profile.language, max_age=ONE_YEAR, samesite="lax")
    return response


@router.get("/search")
def search(
    request: Request, platform: PlatformDep, user: UserDep, q: Annotated[str, Query()] = ""
) -> Response:
    query = q.strip()[:MAX_QUERY]
    results = []
    if query:
        with platform.session() as session:
            results = repo.search_movies(session, query=query, limit=15)
    watched: set[int] = set()
    if user is not None:
        with platform.session() as session:
            watched = {w.movie_id for w in repo.list_watched(session, user_id=user.id)}
    return render(
        request,
        "_search_results.html",
        {"results": results, "query": query, "watched_ids": watched},
    )


def _require_user(user: repo.UserRecord | None) -> repo.UserRecord:
    if user is None:
        raise ValidationError("Fill in your profile first; it starts your private session.")
    return user


@router.post("/watched")
def add_watched(
    request: Request,
    platform: PlatformDep,
    user: UserDep,
    tasks: BackgroundTasks,
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
    tasks.add_task(warm_reasons, platform, user_id=current.id)
    return _watched_fragment(request, platform, current)


@router.post("/watched/{movie_id}/delete")
def delete_watched(
    request: Request, platform: PlatformDep, user: UserDep, movie_id: int, tasks: BackgroundTasks
) -> Response:
    current = _require_user(user)
    users.unmark_watched(platform, user_id=current.id, movie_id=movie_id)
    tasks.add_task(warm_reasons, platform, user_id=current.id)
    return _watched_fragment(request, platform, current)


def _watched_fragment(request: Request, platform: PlatformDep, user: repo.UserRecord) -> Response:
    if not _is_htmx(request):
        return RedirectResponse("/", status_code=303)
    dash = load_dashboard(platform, user_id=user.id, max_runs=0)
    return render(request, "_watched.html", {"dash": dash})


@router.post("/recommend")
def recommend(
    request: Request, platform: PlatformDep, user: UserDep, more: Annotated[int, Query()] = 0
) -> Response:
    current = _require_user(user)
    # With htmx the cards come back at once and the reasons stream in (static/reasons.js);
    # a plain form post waits for the reasons so the page is complete without JavaScript.
    htmx = _is_htmx(request)
    page = recommend_for_user(platform, user_id=current.id, more=bool(more), reasons=not htmx)
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
        },
    )


MORE_LIKE_THIS = 8


@router.get("/movies/{movie_id}")
def movie_page(request: Request, platform: PlatformDep, movie_id: int) -> Response:
    with platform.session() as session:
        movie = repo.get_movie(session, movie_id=movie_id)
    if movie is None:
        raise NotFoundError(f"There is no movie with id {movie_id} in the catalog.")
    similar_movies = None  # None: the embedding index is still being built
    ready = similar.ready_catalog_index(platform)
    if ready is not None:
        hits = similar.more_like_this(platform, movie_id, n=MORE_LIKE_THIS, embedder=ready.embedder)
        with platform.session() as session:
            found = repo.get_movies(session, ids=[h.movie_id for h in hits])
        similar_movies = [found[h.movie_id] for h in hits if h.movie_id in found]
    summary = reviews.summaries_for(platform, [movie_id]).get(movie_id)
    return render(
        request, "movie.html", {"movie": movie, "similar": similar_movies, "reviews": summary}
    )
