"""A kept-alive connection ends after about ``keepalive_requests`` answers (``Connection: close``
on the answer), so clients reconnect to a free worker; 0 keeps every connection."""

from __future__ import annotations

import random
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cinerec.web.keepalive import KeepAliveLimitMiddleware
from tests.web.conftest import SchemaAwareFake, make_platform
from tests.web.servers import in_process_server


def _app(requests: int, seed: int = 0) -> FastAPI:
    app = FastAPI()

    @app.get("/")
    def root() -> dict[str, bool]:
        return {"ok": True}

    app.add_middleware(KeepAliveLimitMiddleware, requests=requests, draw=random.Random(seed))
    return app


@pytest.mark.parametrize("requests", [0, 1, 20])
def test_about_one_answer_in_n_closes_its_connection(requests: int) -> None:
    with TestClient(_app(requests)) as client:
        closing = sum(client.get("/").headers.get("connection") == "close" for _ in range(2000))
    expected = 0 if requests == 0 else 2000 / requests
    assert abs(closing - expected) <= 3 * (expected**0.5) + 1, (closing, expected)


def test_the_answer_says_close_once_even_when_the_app_said_keep_alive() -> None:
    app = FastAPI()

    @app.get("/")
    def root() -> dict[str, bool]:
        from fastapi.responses import JSONResponse

        return JSONResponse({"ok": True}, headers={"Connection": "keep-alive"})  # type: ignore[return-value]

    app.add_middleware(KeepAliveLimitMiddleware, requests=1)
    with TestClient(app) as client:
        answer = client.get("/")
    assert answer.headers.get_list("connection") == ["close"]


def _answers_on_one_connection(url: str, limit: int) -> int:
    """Requests answered on one raw TCP connection before the server closes it (at most
    ``limit``)."""
    where = urlsplit(url)
    request = f"GET /api/csrf HTTP/1.1\r\nHost: {where.netloc}\r\n\r\n".encode()
    with socket.create_connection((where.hostname, where.port), timeout=10) as sock:
        stream = sock.makefile("rb")
        for answered in range(limit):
            try:
                sock.sendall(request)
            except OSError:
                return answered
            status = stream.readline()
            if not status:
                return answered
            length, close = 0, False
            while (line := stream.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                close |= name.lower() == "connection" and "close" in value.lower()
            stream.read(length)
            if close:
                return answered + 1
        return limit


def test_the_real_server_closes_a_connection_after_its_answers(tmp_path: Path) -> None:
    """The product's app on uvicorn: with ``keepalive_requests=5`` a connection ends after a
    few answers (geometric, mean 5); with 0 it serves all 200."""
    platform = make_platform(tmp_path, SchemaAwareFake())
    try:
        for setting, check in ((5, lambda n: n < 60), (0, lambda n: n == 200)):
            settings = platform.settings.model_copy(update={"keepalive_requests": setting})
            with in_process_server(platform, settings=settings) as url:
                counts = [_answers_on_one_connection(url, 200) for _ in range(5)]
            assert all(check(n) for n in counts), (setting, counts)
    finally:
        platform.engine.dispose()
