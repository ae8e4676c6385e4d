"""The fake backend passes the same contract as the real ones, so tests built on it are honest."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cinerec.errors import LLMError
from tests.llm.backends.contract import BackendContract
from tests.llm.fakes import FakeBackend, FakeReply


class TestFakeBackendContract(BackendContract):
    backend_class = FakeBackend

    @pytest.fixture
    def backend(self) -> FakeBackend:
        return FakeBackend()

    def arrange_reply(self, backend: FakeBackend, reply: dict[str, Any]) -> None:
        backend.queue(json.dumps(reply))

    def arrange_stream(self, backend: FakeBackend, text: str) -> None:
        backend.queue(text)

    def arrange_timeout(self, backend: FakeBackend) -> tuple[float, int]:
        backend.queue(FakeReply("{}", delay_s=5.0))
        return 0.01, 16

    def broken_backend(self, backend: FakeBackend) -> FakeBackend:
        return FakeBackend([LLMError("model crashed")])


def test_records_calls_and_fails_when_queue_empty() -> None:
    backend = FakeBackend(["one"])
    assert backend.complete([], max_tokens=5, timeout_s=1.0).text == "one"
    assert backend.calls[0].max_tokens == 5 and backend.calls[0].timeout_s == 1.0
    with pytest.raises(LLMError, match="no queued reply"):
        backend.complete([])
