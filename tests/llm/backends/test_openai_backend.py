"""OpenAICompatibleBackend against a real HTTP server on 127.0.0.1 speaking the OpenAI protocol."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

import pytest

from cinerec.errors import LLMError
from cinerec.llm.backends.base import Message
from cinerec.llm.backends.cancel import Cancelled, CancelToken
from cinerec.llm.backends.openai_http import OpenAICompatibleBackend
from cinerec.llm.schemas import persona_schema
from tests.llm.backends.contract import BackendContract
from tests.llm.openai_stub import StubServer

API_KEY = "sk-test-SECRET-123"
PROMPT = [Message("user", "hi")]


class TestOpenAIBackendContract(BackendContract):
    registry_name = "openai"
    backend_class = OpenAICompatibleBackend
    timeout_s = 5.0

    server: StubServer

    @pytest.fixture
    def backend(self, stub_server: StubServer) -> OpenAICompatibleBackend:
        self.server = stub_server
        stub_server.set("json")
        return OpenAICompatibleBackend(stub_server.base_url, "stub-model", API_KEY, timeout_s=5.0)

    def arrange_reply(self, backend: Any, reply: dict[str, Any]) -> None:
        self.server.set("json", json.dumps(reply))

    def arrange_stream(self, backend: Any, text: str) -> None:
        self.server.set("json", text)

    def arrange_timeout(self, backend: Any) -> tuple[float, int]:
        self.server.slow_s = 1.5
        self.server.set("slow")
        return 0.3, 16

    def broken_backend(self, backend: Any) -> OpenAICompatibleBackend:
        self.server.set("error")
        return backend


@pytest.fixture
def backend(stub_server: StubServer) -> OpenAICompatibleBackend:
    stub_server.set("json", '{"persona": "Ann likes heists."}')
    return OpenAICompatibleBackend(stub_server.base_url + "/", "stub-model", API_KEY, timeout_s=5)


def test_request_follows_the_openai_protocol(
    backend: OpenAICompatibleBackend, stub_server: StubServer
) -> None:
    completion = backend.complete(PROMPT, schema=persona_schema(), max_tokens=33, temperature=0.1)
    request = stub_server.requests[-1]
    assert request["model"] == "stub-model"
    assert request["messages"] == [{"role": "user", "content": "hi"}]
    assert request["max_tokens"] == 33 and request["temperature"] == 0.1
    assert request["stream"] is False
    fmt = request["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["name"] == "persona"
    assert fmt["json_schema"]["schema"] == persona_schema()
    assert stub_server.headers_seen[-1]["Authorization"] == f"Bearer {API_KEY}"
    assert completion.text == '{"persona": "Ann likes heists."}'
    assert (completion.prompt_tokens, completion.completion_tokens) == (11, 7)


def test_no_schema_sends_no_response_format_and_no_key_when_empty(
    stub_server: StubServer,
) -> None:
    stub_server.set("json", "plain")
    backend = OpenAICompatibleBackend(stub_server.base_url, "m", "")
    assert backend.complete(PROMPT).text == "plain"
    assert "response_format" not in stub_server.requests[-1]
    assert "Authorization" not in stub_server.headers_seen[-1]


def test_streaming_request_sets_stream_true(
    backend: OpenAICompatibleBackend, stub_server: StubServer
) -> None:
    stub_server.set("json", "abcdefghij")
    assert "".join(backend.stream(PROMPT)) == "abcdefghij"
    assert stub_server.requests[-1]["stream"] is True


def test_server_error_never_leaks_the_api_key(
    backend: OpenAICompatibleBackend, stub_server: StubServer
) -> None:
    stub_server.set("error")
    with pytest.raises(LLMError, match="HTTP 500") as info:
        backend.complete(PROMPT)
    assert API_KEY not in str(info.value)
    assert "***" in str(info.value)  # the server echoed it; we masked it
    with pytest.raises(LLMError) as info:
        list(backend.stream(PROMPT))
    assert API_KEY not in str(info.value)


def test_malformed_body_is_an_llm_error(
    backend: OpenAICompatibleBackend, stub_server: StubServer
) -> None:
    stub_server.set("malformed")
    with pytest.raises(LLMError, match="malformed"):
        backend.complete(PROMPT)


def test_connection_refused_says_what_to_check() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    backend = OpenAICompatibleBackend(f"http://127.0.0.1:{port}/v1", "m", API_KEY, timeout_s=2)
    with pytest.raises(LLMError, match="Could not connect") as info:
        backend.complete(PROMPT)
    assert API_KEY not in str(info.value)


def test_wrong_path_gives_http_status(stub_server: StubServer) -> None:
    backend = OpenAICompatibleBackend(stub_server.base_url + "/extra", "m")
    with pytest.raises(LLMError, match="HTTP 404"):
        backend.complete(PROMPT)


LONG = " ".join(f"w{k}" for k in range(200))  # 200 events, 50 ms apart: 10 s uncancelled


def test_a_cancelled_stream_closes_the_connection_so_the_server_stops(
    backend: OpenAICompatibleBackend, stub_server: StubServer
) -> None:
    stub_server.set("drip", LONG)
    stub_server.drip_s = 0.05
    cancel = CancelToken()
    pieces = backend.stream(PROMPT, max_tokens=400, cancel=cancel)
    got = [next(pieces), next(pieces)]
    cancel.cancel("the client disconnected")
    start = time.monotonic()
    with pytest.raises(Cancelled, match="client disconnected"):
        got.extend(pieces)
    assert time.monotonic() - start < 0.5
    assert stub_server.drip_closed.wait(2), "the server kept writing to an open connection"
    assert len(got) <= 3 and stub_server.drip_sent < 20  # of 200


def test_complete_with_a_cancel_token_streams_and_stops_on_cancel(
    backend: OpenAICompatibleBackend, stub_server: StubServer
) -> None:
    stub_server.set("drip", "Heat is a crime thriller.")
    stub_server.drip_s = 0.0
    completion = backend.complete(PROMPT, max_tokens=20, cancel=CancelToken())
    assert stub_server.requests[-1]["stream"] is True
    assert completion.text.strip() == "Heat is a crime thriller."
    assert completion.extra["streamed"] and completion.completion_tokens == 5

    stub_server.set("drip", LONG)
    stub_server.drip_s = 0.05
    cancel = CancelToken()
    threading.Timer(0.2, cancel.cancel, args=("the job was cancelled",)).start()
    start = time.monotonic()
    with pytest.raises(Cancelled, match="job was cancelled"):
        backend.complete(PROMPT, max_tokens=400, timeout_s=30, cancel=cancel)
    assert time.monotonic() - start < 0.7
    assert stub_server.drip_closed.wait(2) and stub_server.drip_sent < 20


def test_a_cancel_token_deadline_reads_as_a_timeout(
    backend: OpenAICompatibleBackend, stub_server: StubServer
) -> None:
    stub_server.set("drip", LONG)
    stub_server.drip_s = 0.05
    with pytest.raises(Cancelled, match="within") as info:
        backend.complete(PROMPT, max_tokens=400, timeout_s=0.2, cancel=CancelToken())
    assert API_KEY not in str(info.value)
