"""The FastAPI application: ``create_app(settings)`` assembles routers; nothing runs at import."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.resources import files

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from cinerec import __version__
from cinerec.config import Settings
from cinerec.errors import CinerecError, NotFoundError, ValidationError
from cinerec.services import background, versions
from cinerec.services.platform import Platform
from cinerec.web.fair_use import ModelGate, TooManyRequests
from cinerec.web.keepalive import KeepAliveLimitMiddleware
from cinerec.web.routes import api, chat, jobs, pages, posts
from cinerec.web.security import AccessError, CSRFError, SecurityMiddleware
from cinerec.web.streaming import MODEL_WORK_THREADS
from cinerec.web.templating import render

log = logging.getLogger(__name__)


def app_from_environment() -> FastAPI:
    """The app of one web worker process, its Settings from the ``CINEREC_*`` variables
    (``cinerec serve --workers N`` starts N processes, each calling this)."""
    return create_app(Settings())


class DeferredWorkMiddleware:
    """Runs the work services asked for during a request (reasons warm-ups after a profile,
    watched-list or feedback change, or after a page's reasons) once the answer has gone out,
    as a background task would: :meth:`~cinerec.services.platform.Platform.run_deferred`."""

    def __init__(self, app: ASGIApp, *, platform: Platform, limiter: anyio.CapacityLimiter) -> None:
        self.app = app
        self.platform = platform
        self.limiter = limiter  # the pool for work that waits on the model

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http" and self.platform.state.deferred.pending():
            await anyio.to_thread.run_sync(self.platform.run_deferred, limiter=self.limiter)


def close_on_exit_signals(platform: Platform) -> Callable[[], None]:
    """Close ``platform`` as soon as SIGINT or SIGTERM arrives, then let the server's own
    handler (uvicorn's) go on; returns the function that puts the server's handlers back.

    The server waits for open requests before it tells the app to shut down, and a request's
    deferred warm-ups run inside it (:class:`DeferredWorkMiddleware`): closing the platform at
    the signal stops them before their next model call, so the stop does not wait for them.
    Only the main thread may set handlers; elsewhere (a test client) nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    chained: dict[int, Callable[..., object]] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)
        if not callable(previous):  # no Python handler to pass the signal on to
            continue

        def handler(signum: int, frame: object, previous: Callable[..., object] = previous) -> None:
            platform.close()
            previous(signum, frame)

        signal.signal(sig, handler)
        chained[sig] = previous

    def restore() -> None:
        for sig, previous in chained.items():
            signal.signal(sig, previous)  # type: ignore[arg-type]

    return restore


def create_app(settings: Settings, *, platform: Platform | None = None) -> FastAPI:
    """Build the web app for one platform (a test passes its own, with a fake model)."""
    platform = platform or Platform(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        platform.migrate()
        # Requests' blocking work: fewer threads than anyio's 40 hand the GIL over less.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.web_threads
        # Training (only while a stand-in serves), review summaries, the embedding index: jobs
        # on a `cinerec worker` with a broker, else on low-priority threads of this process.
        background.start_server_jobs(platform)
        # Keeps the served model version's record fresh, so no other process prunes it.
        threading.Thread(target=versions.heartbeat_loop, args=(platform,), daemon=True,
                         name="cinerec-version-heartbeat").start()  # fmt: skip
        restore = close_on_exit_signals(platform)
        try:
            yield
        finally:
            restore()
            platform.close()  # warm-ups still running stop before their next model call
            platform.release_versions()  # its model version may be pruned from now on

    app = FastAPI(
        title="cinerec",
        version=__version__,
        description="Movie recommendations from trained recommenders, re-ranked and explained "
        "by a language model that only sees catalog facts.",
        lifespan=lifespan,
    )
    app.state.platform = platform
    app.state.model_gate = ModelGate(settings)
    app.state.model_threads = anyio.CapacityLimiter(MODEL_WORK_THREADS)
    app.add_middleware(SecurityMiddleware, secure_cookies=settings.cookie_secure)
    app.add_middleware(DeferredWorkMiddleware, platform=platform, limiter=app.state.model_threads)
    app.add_middleware(KeepAliveLimitMiddleware, requests=settings.keepalive_requests)
    app.mount("/static", StaticFiles(directory=str(files("cinerec.web") / "static")), "static")
    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(chat.router)
    app.include_router(posts.router)
    app.include_router(jobs.router)

    def _wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    def _error(
        request: Request, status: int, message: str, headers: dict[str, str] | None = None
    ) -> Response:
        """Every error has one shape: ``{"detail": "<one sentence>"}`` (``ErrorOut``) for the
        API, the error page for pages; both keep the status's headers (Allow, Retry-After)."""
        response: Response
        if _wants_json(request):
            response = JSONResponse({"detail": message}, status_code=status)
        else:
            response = render(request, "error.html", {"message": message}, status_code=status)
        response.headers.update(headers or {})
        return response

    @app.exception_handler(CSRFError)
    async def _csrf(request: Request, exc: CSRFError) -> Response:
        log.warning("refused %s %s: %s", request.method, request.url.path, exc)
        return _error(request, 403, str(exc))

    @app.exception_handler(AccessError)
    async def _access(request: Request, exc: AccessError) -> Response:
        log.warning("refused %s %s: %s", request.method, request.url.path, exc)
        return _error(request, 403, str(exc))

    @app.exception_handler(TooManyRequests)
    async def _too_many(request: Request, exc: TooManyRequests) -> Response:
        return _error(request, 429, str(exc), {"Retry-After": str(exc.retry_after)})

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
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return _error(request, 422, "The request body is not valid JSON; nothing was changed.")
        parts = [
            f"{e['loc'][-1]} (it needs some text, not only spaces)"
            if e.get("type") == "string_pattern_mismatch"
            and (e.get("ctx") or {}).get("pattern") == r"\S"
            else f"{e['loc'][-1]} ({str(e.get('msg', 'malformed')).lower()})"
            if e.get("loc") and e["loc"][-1] != "body"
            else f"the request body ({str(e.get('msg', 'malformed')).lower()})"
            for e in errors
        ]
        fields = "; ".join(dict.fromkeys(parts)) or "the request"
        return _error(request, 422, f"Please check {fields}. Nothing was changed.")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and _wants_json(request):
            # A body that is not UTF-8 JSON: the same documented 422 as malformed JSON.
            return _error(
                request, 422, "The request body is not valid UTF-8 JSON; nothing was changed."
            )
        if exc.status_code == 400 and request.method in ("POST", "PUT"):
            # The form parser refuses oversized fields (e.g. a 10 MB taste text) before we see them.
            message = (
                "The request was too large or malformed (a taste text is at most "
                f"{platform.settings.max_taste_chars} characters). Nothing was changed."
            )
        elif exc.status_code == 404:
            message = "There is no such page."
        elif exc.status_code == 405:
            allowed = (exc.headers or {}).get("Allow", "")
            message = f"This address does not take {request.method}; it takes {allowed}."
        else:
            message = str(exc.detail)
        return _error(request, exc.status_code, message, dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return _error(request, 500, "Something went wrong on our side; nothing you saved was lost.")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> HTMLResponse:
        return HTMLResponse("ok")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return RedirectResponse("/static/favicon.svg", status_code=301)

    return app
