"""The FastAPI application: ``create_app(settings)`` assembles routers; nothing runs at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from cinerec import __version__
from cinerec.config import Settings
from cinerec.errors import CinerecError, NotFoundError, ValidationError
from cinerec.services import ingest, retrieval, reviews
from cinerec.services.platform import Platform
from cinerec.web.routes import api, chat, pages, posts
from cinerec.web.templating import render

log = logging.getLogger(__name__)


def create_app(settings: Settings, *, platform: Platform | None = None) -> FastAPI:
    """Build the web app for one platform (a test passes its own, with a fake model)."""
    platform = platform or Platform(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        platform.migrate()
        ingest.start_background_training(platform)  # only when a stand-in model is serving
        if settings.warm_embeddings:  # chat retrieval, then the embedding index, in background
            retrieval.start_embedding_build(platform)
        if settings.review_summaries:  # aspect summaries from IMDB reviews, in background
            reviews.start_review_build(platform)
        yield

    app = FastAPI(
        title="cinerec",
        version=__version__,
        description="Movie recommendations from trained recommenders, re-ranked and explained "
        "by a language model that only sees catalog facts.",
        lifespan=lifespan,
    )
    app.state.platform = platform
    app.mount("/static", StaticFiles(directory=str(files("cinerec.web") / "static")), "static")
    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(chat.router)
    app.include_router(posts.router)

    def _wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    def _error(request: Request, status: int, message: str) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=status)
        return render(request, "error.html", {"message": message}, status_code=status)

    @app.exception_handler(ValidationError)
    async def _validation(request: Request, exc: ValidationError) -> Response:
        return _error(request, 422, str(exc))

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, exc: NotFoundError) -> Response:
        return _error(request, 404, str(exc))

    @app.exception_handler(CinerecError)
    async def _cinerec(request: Request, exc: CinerecError) -> Response:
        log.warning("request failed: %s", exc)
        return _error(request, 503, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _request_validation(request: Request, exc: RequestValidationError) -> Response:
        fields = ", ".join(str(e["loc"][-1]) for e in exc.errors() if e.get("loc")) or "the request"
        return _error(request, 422, f"Please check {fields}: the value is missing or malformed.")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and request.method == "POST":
            # The form parser refuses oversized fields (e.g. a 10 MB taste text) before we see them.
            message = (
                "The form was too large or malformed; keep the taste text under "
                f"{platform.settings.max_taste_chars} characters. Nothing was changed."
            )
        elif exc.status_code == 404:
            message = "There is no such page."
        else:
            message = str(exc.detail)
        return _error(request, exc.status_code, message)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return _error(request, 500, "Something went wrong on our side; nothing you saved was lost.")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> HTMLResponse:
        return HTMLResponse("ok")

    return app
