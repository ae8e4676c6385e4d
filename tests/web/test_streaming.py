"""A streamed chat answer, a whole (not streamed) chat answer, or a page's reasons, whose client
disconnects stops the model (a real uvicorn server and a real TCP connection that the client
closes; the model is a fake that writes a word per 20 ms and checks its cancel token after every
word)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from cinerec.web.security import CSRF_HEADER
from tests.llm.fakes import TokenFake
from tests.web.conftest import make_platform
from tests.web.servers import in_process_server


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, TokenFake, object]]:
    model = TokenFake(token_s=0.02)  # 256 words (the chat's cap): about 5 s uncancelled
    platform = make_platform(tmp_path, model)  # type: ignore[arg-type]
    try:
        with in_process_server(platform) as url:
            yield url, model, platform
    finally:
        platform.engine.dispose()


def _stored_turn(client: httpx.Client) -> list[dict[str, Any]]:
    """The messages of the session's newest conversation once its answer is stored (the turn
    stores it as it ends, just after the model stopped)."""
    conversation = client.get("/api/chat/conversations").json()[0]
    deadline = time.monotonic() + 5
    while True:
        messages = client.get(f"/api/chat/conversations/{conversation['id']}").json()
        if messages and messages[-1]["role"] == "assistant":
            return messages
        assert time.monotonic() < deadline, "the interrupted turn was not stored"
        time.sleep(0.05)


@contextmanager
def _chat_stream(client: httpx.Client) -> Iterator[httpx.Response]:
    """A new session's chat turn, streamed (its response open while the block runs)."""
    client.headers[CSRF_HEADER] = client.get("/api/csrf").json()["csrf_token"]
    assert client.put("/api/profile", json={"name": "Mina"}).status_code == 200
    with client.stream(
        "POST", "/api/chat/stream", json={"message": "Tell me about Film Number 3."}
    ) as response:
        assert response.status_code == 200
        yield response


def test_a_client_that_disconnects_stops_the_model(served: tuple[str, TokenFake, object]) -> None:
    url, model, _ = served
    with httpx.Client(base_url=url, timeout=10) as client:
        with _chat_stream(client) as response:
            lines = response.iter_lines()
            assert next(lines) == "event: meta"
            assert model.running.wait(5), "the model never started"
            time.sleep(0.2)  # it writes; the grounder holds the words until a sentence ends
        closed_at = time.monotonic()  # leaving the block closed the connection
        while model.running.is_set():
            assert time.monotonic() - closed_at < 2.0, "the model kept writing for nobody"
            time.sleep(0.01)
        stopped_s = time.monotonic() - closed_at
        assert stopped_s < 1.0 and model.generated < 100  # of 256
        messages = _stored_turn(client)
    assert "interrupted" in messages[-1]["flags"] and "fallback" in messages[-1]["flags"]


def _events(lines: Iterator[str]) -> Iterator[str]:
    """The event names of a server-sent-event stream."""
    for line in lines:
        if line.startswith("event:"):
            yield line[len("event:") :].strip()


def test_a_page_whose_reasons_nobody_reads_stops_the_model_and_resumes_later(
    served: tuple[str, TokenFake, object],
) -> None:
    url, model, _ = served
    with httpx.Client(base_url=url, timeout=30) as client:
        client.headers[CSRF_HEADER] = client.get("/api/csrf").json()["csrf_token"]
        assert client.put("/api/profile", json={"name": "Mina"}).status_code == 200
        run = client.post("/api/recommendations", json={"stream_reasons": True}).json()
        reasons = f"/api/recommendations/{run['run_id']}/reasons"
        with client.stream("GET", reasons) as response:
            assert response.status_code == 200
            assert model.running.wait(5), "the model never started"
            time.sleep(0.1)
        closed_at = time.monotonic()  # the only listener went away
        while model.running.is_set():
            assert time.monotonic() - closed_at < 2.0, "the model kept writing for nobody"
            time.sleep(0.01)
        assert time.monotonic() - closed_at < 1.0 and model.generated < 40  # of 48 a card

        model.token_s = 0.001  # the next listener resumes the pending run, quickly
        with client.stream("GET", reasons) as response:
            names = list(_events(response.iter_lines()))
    assert names[-1] == "done" and "fallback" not in names
    assert names.count("reason") == 5  # every card of the page, none lost to the stop


def test_a_whole_answer_whose_client_disconnects_stops_the_model(
    served: tuple[str, TokenFake, object],
) -> None:
    """``POST /api/chat`` answers at once, not streamed: while the model writes, the client
    closes its TCP connection; the model's cancel token is set within a bounded time and the
    stored turn is the flagged facts answer, as the stream stores it."""
    url, model, _ = served
    tokens: list[Any] = []
    stream = model.stream

    def recording(messages, **kwargs):  # type: ignore[no-untyped-def]
        tokens.append(kwargs.get("cancel"))
        return stream(messages, **kwargs)

    model.stream = recording  # type: ignore[method-assign]
    with httpx.Client(base_url=url, timeout=10) as client:
        client.headers[CSRF_HEADER] = client.get("/api/csrf").json()["csrf_token"]
        assert client.put("/api/profile", json={"name": "Mina"}).status_code == 200
        body = json.dumps({"message": "Tell me about Film Number 3."}).encode()
        cookies = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        where = urlsplit(url)
        request = (
            f"POST /api/chat HTTP/1.1\r\nHost: {where.netloc}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"{CSRF_HEADER}: {client.headers[CSRF_HEADER]}\r\nCookie: {cookies}\r\n\r\n"
        ).encode() + body
        with socket.create_connection((where.hostname, where.port), timeout=10) as sock:
            sock.sendall(request)
            assert model.running.wait(5), "the model never started"
            time.sleep(0.2)
        closed_at = time.monotonic()  # the client went away before the answer
        (token,) = tokens
        while not token.cancelled:
            assert time.monotonic() - closed_at < 2.0, "the model's token was never cancelled"
            time.sleep(0.01)
        while model.running.is_set():
            assert time.monotonic() - closed_at < 2.0, "the model kept writing for nobody"
            time.sleep(0.01)
        assert time.monotonic() - closed_at < 1.0 and model.generated < 100  # of 256
        assert token.cancelled  # (its reason is the turn's own; the disconnect cancelled it)
        messages = _stored_turn(client)
    assert "interrupted" in messages[-1]["flags"] and "fallback" in messages[-1]["flags"]
    assert "word" not in messages[-1]["content"]  # the facts answer, not the cut-off text


@contextmanager
def _waiting_on_the_model(client: httpx.Client, route: str) -> Iterator[None]:
    """A new session's request that waits on the model, running while the block runs: a chat
    stream read as it comes, or a request whose answer waits for the model's whole output, sent
    from a thread of its own."""
    import threading

    if route == "POST /api/chat/stream":
        with _chat_stream(client):
            yield
        return
    client.headers[CSRF_HEADER] = client.get("/api/csrf").json()["csrf_token"]
    assert client.put("/api/profile", json={"name": "Mina"}).status_code == 200
    requests = {
        "POST /api/recommendations": lambda: client.post("/api/recommendations", json={}),
        "POST /recommend": lambda: client.post("/recommend"),  # no htmx: reasons inline
        "POST /api/posts": lambda: client.post("/api/posts", json={"theme": "rainy day", "n": 3}),
        "POST /chat": lambda: client.post("/chat", data={"message": "Tell me about Film 3."}),
    }
    answers: list[int] = []
    sender = threading.Thread(target=lambda: answers.append(requests[route]().status_code))
    sender.start()
    try:
        yield
    finally:
        sender.join(30)
    assert answers and answers[0] in (200, 303, 503), answers  # 503: a post the fake cannot write


@pytest.mark.parametrize(
    "route",
    [
        "POST /api/chat/stream",
        "POST /api/recommendations",
        "POST /recommend",
        "POST /api/posts",
        "POST /chat",
    ],
)
def test_a_request_waiting_on_the_model_leaves_the_request_threads_free(
    tmp_path: Path, route: str
) -> None:
    """Streams, pages with their reasons inline, posts and the chat form wait on the model in a
    pool of their own: with one request thread (``web_threads=1``), a cheap request is answered
    at once while one of them runs."""
    model = TokenFake(token_s=0.02)  # about 5 s for the chat's 256 words
    platform = make_platform(tmp_path, model)  # type: ignore[arg-type]
    settings = platform.settings.model_copy(update={"web_threads": 1})
    try:
        with (
            in_process_server(platform, settings=settings) as url,
            httpx.Client(base_url=url, timeout=30) as client,
            _waiting_on_the_model(client, route),
        ):
            assert model.running.wait(10), "the model never started"
            with httpx.Client(base_url=url, timeout=10) as other:
                started = time.monotonic()
                assert other.get("/api/movies/1").status_code == 200
                answered_s = time.monotonic() - started
            assert model.running.is_set(), "the model finished before the cheap request"
            model.token_s = 0.001  # the rest of the answer, quickly
        assert answered_s < 1.0
    finally:
        platform.engine.dispose()
