"""Curated posts: a theme form, the post with its shareable cards, and ``POST /api/posts``.

Posts are stored in the database (:func:`cinerec.services.posts.store_post`) under a random id, so
they outlive a restart and any web worker can show them: card URLs are
``/posts/<id>/card/<k>.png`` and never carry a machine path. The form posts, then redirects
to the post's page, so reloading does not write the post again.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from cinerec.errors import ValidationError
from cinerec.services.platform import Platform
from cinerec.services.posts import (
    MAX_POST_MOVIES,
    MAX_THEME_CHARS,
    THEME_WORD,
    Post,
    PostOutcome,
    make_post,
    post_card,
    store_post,
    stored_post,
)
from cinerec.services.users import UserRecord
from cinerec.web.deps import GateDep, PlatformDep, UserDep
from cinerec.web.fair_use import ModelGate
from cinerec.web.schemas import COMMON_ERRORS, MODEL_ERRORS, STRICT_INPUT, WholeNumber
from cinerec.web.security import require_csrf
from cinerec.web.streaming import on_model_pool
from cinerec.web.templating import page_language, render

router = APIRouter(dependencies=[Depends(require_csrf)], responses=COMMON_ERRORS)

NEED_SESSION = "Fill in your profile first: writing a post takes the shared model a minute."


class PostIn(BaseModel):
    """``POST /api/posts`` body."""

    model_config = STRICT_INPUT

    theme: str = Field(min_length=1, max_length=MAX_THEME_CHARS, pattern=THEME_WORD)
    n: Annotated[int, Field(ge=1, le=MAX_POST_MOVIES), WholeNumber] = 5
    lang: Literal["en", "ko"] | None = None


class PostFailureOut(BaseModel):
    """503 body: the error shape plus the failure report."""

    detail: str
    failure: Any = None


class PostPublic(BaseModel):
    """A written post: the post JSON, its card URLs and how it was made."""

    post_id: str
    theme: str
    language: str
    post: Post
    cards: list[str]
    stats: dict[str, Any]


def _card_urls(outcome: PostOutcome) -> list[str]:
    count = len(outcome.post.movies) if outcome.post else 0
    return [f"/posts/{outcome.post_id}/card/{k}.png" for k in range(1, count + 1)]


def _page(request: Request, status_code: int = 200, **context: Any) -> Response:
    defaults: dict[str, Any] = {
        "outcome": None,
        "error": None,
        "form": {},
        "cards": [],
        "user": None,
    }
    return render(request, "posts.html", {**defaults, **context}, status_code=status_code)


async def _write_and_store(
    request: Request,
    platform: Platform,
    gate: ModelGate,
    user: UserRecord,
    theme: str,
    *,
    n: int,
    language: str | None,
) -> PostOutcome:
    """Write a post for ``user`` and store it, on the pool for work that waits on the model
    (the model takes about a minute; the request threads stay free)."""

    def write() -> PostOutcome:
        with gate.hold(f"user:{user.id}"):
            outcome = make_post(platform, theme, n=n, language=language)
        store_post(platform, outcome, user_id=user.id)
        return outcome

    return await on_model_pool(request, write)


@router.get("/posts", include_in_schema=False)
def posts_page(request: Request, user: UserDep) -> Response:
    return _page(request, user=user)


@router.post("/posts", include_in_schema=False)
async def write_post_page(
    request: Request,
    platform: PlatformDep,
    user: UserDep,
    gate: GateDep,
    theme: Annotated[str, Form()] = "",
    n: Annotated[str, Form()] = "5",
    lang: Annotated[str, Form()] = "",
) -> Response:
    form = {"theme": theme[: MAX_THEME_CHARS * 2], "n": n[:3], "lang": lang[:3]}
    try:
        if user is None:
            raise ValidationError(NEED_SESSION)
        if not n.strip().isdigit():
            raise ValidationError(f"Movies must be a whole number from 1 to {MAX_POST_MOVIES}.")
        outcome = await _write_and_store(
            request, platform, gate, user, theme, n=int(n), language=lang or None
        )
    except ValidationError as exc:
        return _page(request, 422, error=str(exc), form=form, user=user)
    return RedirectResponse(f"/posts/{outcome.post_id}", status_code=303)


@router.get("/posts/{post_id}", include_in_schema=False)
def post_page(request: Request, platform: PlatformDep, post_id: str) -> Response:
    outcome = stored_post(platform, post_id)
    form = {"theme": outcome.theme, "n": str(len(outcome.post.movies) if outcome.post else 5)}
    lang = page_language(request, outcome.language)
    return render(
        request,
        "posts.html",
        {"outcome": outcome, "error": None, "form": form, "cards": _card_urls(outcome)},
        language=lang,
    )


@router.get("/posts/{post_id}/card/{k}.png", include_in_schema=False)
def post_card_png(platform: PlatformDep, post_id: str, k: int) -> Response:
    png = post_card(platform, post_id, k)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@router.post(
    "/api/posts",
    tags=["api"],
    response_model=PostPublic,
    responses={
        **MODEL_ERRORS,
        503: {
            "description": "The model could not write a valid post (report inside).",
            "model": PostFailureOut,
        },
    },
)
async def api_write_post(
    request: Request,
    platform: PlatformDep,
    user: UserDep,
    gate: GateDep,
    body: Annotated[PostIn, Body()],
) -> Response | PostPublic:
    """Write a curated post for a theme: ``{caption, movies: [{id, title, one_line_review}]}``.
    Needs a session (a profile): a post takes the shared model about a minute.

    A post that fails validation after the retries is never returned half-formed: the answer is
    503 with the failure report.
    """
    if user is None:
        raise ValidationError(NEED_SESSION + " POST /api/profile first.")
    outcome = await _write_and_store(
        request, platform, gate, user, body.theme, n=body.n, language=body.lang
    )
    if outcome.post is None:
        return JSONResponse(
            {
                "detail": "The model could not write a valid post; nothing was published.",
                "failure": outcome.failure,
            },
            status_code=503,
        )
    return PostPublic(
        post_id=outcome.post_id,
        theme=outcome.theme,
        language=outcome.language,
        post=outcome.post,
        cards=_card_urls(outcome),
        stats=outcome.stats(),
    )
