"""Web security: CSRF protection and the response security headers.

CSRF uses a double-submit token plus an origin check:

- every response to a browser that has no token cookie sets ``cinerec_csrf`` (random 256 bits,
  ``HttpOnly``, ``SameSite=Lax``, ``Secure`` over HTTPS); pages carry the same value in a hidden
  form field and in ``<meta name="csrf-token">`` (htmx and ``chat.js`` send it as the
  ``X-CSRF-Token`` header);
- a state-changing request (POST, PUT, PATCH, DELETE) must carry that value in the header or in
  the ``csrf_token`` form field, equal to its cookie; a page on another origin can neither read
  the cookie nor, under ``SameSite=Lax``, have it sent with a cross-site POST;
- the browser's own provenance headers must agree: ``Sec-Fetch-Site`` may not be ``cross-site``
  or ``same-site`` (another port on the same host is another origin but the same site), and an
  ``Origin`` (else ``Referer``) header, when sent, must be this server's origin or one listed in
  ``CINEREC_ALLOWED_ORIGINS``.

API clients that are not browsers get the token from ``GET /api/csrf`` (which also sets the
cookie) and send it back as ``X-CSRF-Token`` with the cookie.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from http.cookies import SimpleCookie
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cinerec.errors import CinerecError

CSRF_COOKIE = "cinerec_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
TOKEN_BYTES = 32
MAX_TOKEN_CHARS = 100

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI and ReDoc (/docs, /redoc) load their bundles from a CDN and start them inline.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com; worker-src 'self' blob:; "
    "frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")


class CSRFError(CinerecError):
    """A state-changing request without a valid CSRF token or from another origin (403)."""


class AccessError(CinerecError):
    """A request without the operator's token that the operation needs (403)."""


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a malformed cookie header is no token
                return None
            morsel = jar.get(name)
            if morsel is not None and 0 < len(morsel.value) <= MAX_TOKEN_CHARS:
                return morsel.value
    return None


class SecurityMiddleware:
    """Issues the CSRF cookie and adds the security headers to every response.

    A pure ASGI middleware, so streamed responses (server-sent events) pass through unbuffered.
    The request's token, old or new, is put on ``request.state.csrf_token`` for the templates.
    """

    def __init__(self, app: ASGIApp, *, secure_cookies: bool = False) -> None:
        self.app = app
        self.secure_cookies = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _cookie(scope, CSRF_COOKIE)
        issue = token is None
        if token is None:
            token = secrets.token_urlsafe(TOKEN_BYTES)
        scope.setdefault("state", {})["csrf_token"] = token
        secure = self.secure_cookies or scope.get("scheme") == "https"
        docs = str(scope.get("path", "")).startswith(DOCS_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = {
                    b"content-security-policy": (DOCS_CSP if docs else CSP).encode(),
                    b"x-content-type-options": b"nosniff",
                    b"x-frame-options": b"DENY",
                    b"referrer-policy": b"same-origin",
                }
                headers += [(k, v) for k, v in extra.items() if k not in names]
                if issue:
                    cookie = (
                        f"{CSRF_COOKIE}={token}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax"
                        + ("; Secure" if secure else "")
                    )
                    headers.append((b"set-cookie", cookie.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def own_origin(request: Request) -> str:
    """This server's origin as the browser addressed it (scheme and Host header)."""
    host = request.headers.get("host") or request.url.netloc
    return f"{request.url.scheme}://{host}".lower()


def check_origin(request: Request, allowed: Iterable[str] = ()) -> None:
    """Refuse a request that the browser says comes from another site or origin.

    Raises:
        CSRFError: ``Sec-Fetch-Site`` is cross-site or same-site, or ``Origin``/``Referer``
            names an origin other than this server's and the allowed ones.
    """
    if request.headers.get("sec-fetch-site", "").lower() in ("cross-site", "same-site"):
        raise CSRFError("This request came from another site; nothing was changed.")
    claimed = request.headers.get("origin")
    if claimed is None and request.headers.get("referer"):
        claimed = _origin_of(request.headers["referer"]) or "null"
    if claimed is None:
        return  # not a browser, or a browser that withholds both: the token still decides
    trusted = {own_origin(request), *(a.rstrip("/").lower() for a in allowed)}
    if claimed.rstrip("/").lower() not in trusted:
        raise CSRFError("This request came from another origin; nothing was changed.")


async def require_csrf(request: Request) -> None:
    """Router dependency: a state-changing request needs its origin and its CSRF token right.

    The token is read from the ``X-CSRF-Token`` header, else from the ``csrf_token`` field of
    a form body (FastAPI has already parsed the form, so reading it here costs nothing).

    Raises:
        CSRFError: the request is refused (403); nothing was changed.
    """
    if request.method in SAFE_METHODS:
        return
    platform = request.app.state.platform
    check_origin(request, platform.settings.allowed_origins)
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        field = (await request.form()).get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    if not cookie or not sent or not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise CSRFError(
            "This form has expired or did not come from this site; reload the page and try "
            "again. Nothing was changed."
        )


def require_jobs_token(request: Request) -> None:
    """Route dependency: the request carries ``Authorization: Bearer <jobs_token>``.

    The jobs API needs no session, so what changes a job (cancelling it) needs the operator's
    token instead; with none configured it is refused.

    Raises:
        AccessError: no token configured, or a missing or wrong one (403); nothing was changed.
    """
    wanted = request.app.state.platform.settings.jobs_token.get_secret_value()
    if not wanted:
        raise AccessError(
            "Cancelling jobs over HTTP is off: set CINEREC_JOBS_TOKEN on the server and send it "
            "as 'Authorization: Bearer <token>' (or run `cinerec jobs cancel`). Nothing was "
            "changed."
        )
    scheme, _, sent = request.headers.get("authorization", "").partition(" ")
    right = hmac.compare_digest(sent.strip().encode(), wanted.encode())
    if scheme.lower() != "bearer" or not right:
        raise AccessError("This needs the operator's jobs token; nothing was changed.")


def csrf_token(request: Request) -> str:
    """The token of this request (set by :class:`SecurityMiddleware`)."""
    return str(getattr(request.state, "csrf_token", ""))


CSRFDep = Annotated[None, Depends(require_csrf)]
