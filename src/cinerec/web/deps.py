"""Typed request dependencies: the platform, the session token and the current user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from cinerec.services import users
from cinerec.services.platform import Platform
from cinerec.services.users import UserRecord
from cinerec.web.fair_use import ModelGate

RESTORE_ATTEMPTS_PER_MINUTE = 10

SESSION_COOKIE = "cinerec_session"
LANG_COOKIE = "cinerec_lang"
ONE_YEAR = 365 * 24 * 3600


def set_session_cookie(response: Response, token: str, *, secure: bool) -> None:
    """The browser's unguessable session: HttpOnly, SameSite=Lax, kept for a year."""
    response.set_cookie(
        SESSION_COOKIE, token, max_age=ONE_YEAR, httponly=True, samesite="lax", secure=secure
    )


def cookies_secure(request: Request) -> bool:
    """Cookies are ``Secure`` over HTTPS, or always when ``cookie_secure`` is set (a TLS proxy)."""
    return bool(platform_of(request).settings.cookie_secure or request.url.scheme == "https")


def limit_restore_attempts(gate: ModelGate, request: Request) -> None:
    """Recovery-code attempts count per client address (:class:`TooManyRequests` past them)."""
    host = request.client.host if request.client else "-"
    gate.limit(f"restore:{host}", per_minute=RESTORE_ATTEMPTS_PER_MINUTE)


def platform_of(request: Request) -> Platform:
    """The app's platform."""
    return request.app.state.platform  # type: ignore[no-any-return]


# The dependencies that only read the request are coroutines: FastAPI runs a plain ``def``
# dependency on a worker thread, a hand-over that costs far more than the read itself (13-18%
# of the GIL-holding samples of a request in a py-spy profile). Those that touch the database
# stay ``def``.
async def get_platform(request: Request) -> Platform:
    return platform_of(request)


async def get_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE)


def get_user(
    platform: Annotated[Platform, Depends(get_platform)],
    token: Annotated[str | None, Depends(get_token)],
) -> UserRecord | None:
    return users.current_user(platform, token)


async def get_gate(request: Request) -> ModelGate:
    return request.app.state.model_gate  # type: ignore[no-any-return]


PlatformDep = Annotated[Platform, Depends(get_platform)]
GateDep = Annotated[ModelGate, Depends(get_gate)]
TokenDep = Annotated[str | None, Depends(get_token)]
UserDep = Annotated[UserRecord | None, Depends(get_user)]
