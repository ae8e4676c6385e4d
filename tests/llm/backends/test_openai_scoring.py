"""OpenAICompatibleBackend scoring against a real HTTP server on 127.0.0.1 (the stub)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from cinerec.errors import LLMError
from cinerec.llm.backends.base import Message
from cinerec.llm.backends.openai_http import MISSING_MARGIN, OpenAICompatibleBackend
from tests.llm.backends.scoring_contract import ScorerContract
from tests.llm.openai_stub import StubServer

API_KEY = "sk-test-SECRET-123"


class TestOpenAIScorerContract(ScorerContract):
    timeout_s = 5.0
    server: StubServer

    @pytest.fixture
    def scorer(self, stub_server: StubServer) -> OpenAICompatibleBackend:
        self.server = stub_server
        stub_server.set("json")
        return OpenAICompatibleBackend(stub_server.base_url, "stub-model", API_KEY, timeout_s=5)

    def arrange_timeout(self, scorer: Any) -> float:
        self.server.slow_s = 0.5
        self.server.set("slow")
        return 0.2

    def broken_scorer(self, scorer: Any) -> OpenAICompatibleBackend:
        self.server.set("error")
        return scorer


@pytest.fixture
def backend(stub_server: StubServer) -> OpenAICompatibleBackend:
    stub_server.set("json")
    return OpenAICompatibleBackend(stub_server.base_url, "stub-model", API_KEY, timeout_s=5)


def test_chat_prefix_asks_for_one_token_with_top_logprobs(
    backend: OpenAICompatibleBackend, stub_server: StubServer
) -> None:
    stub_server.top_logprobs = lambda text: (
        {"Yes": -0.1, " No": -2.5, "Maybe": -4.0} if "Heat" in text else {"No": -0.3, "Yes": -1.5}
    )
    prefix = [Message("system", "s"), Message("user", "Movie: ")]
    result = backend.score_next_tokens(prefix, ["Heat", "Toy Story"], ["Yes", "No"])
    request = stub_server.requests[-2]
    assert stub_server.paths[-1] == "/v1/chat/completions"
    assert request["max_tokens"] == 1 and request["temperature"] == 0.0
    assert request["logprobs"] is True and request["top_logprobs"] == 20
    assert request["messages"][-1] == {"role": "user", "content": "Movie: Heat"}
    assert request["messages"][0] == {"role": "system", "content": "s"}
    assert result.logprobs[0] == {"Yes": -0.1, "No": -2.5}  # " No" counts as "No"
    assert result.logprobs[1] == {"No": -0.3, "Yes": -1.5}
    assert result.prompt_tokens == 60


def test_string_prefix_uses_legacy_completions(
    backend: OpenAICompatibleBackend, stub_server: StubServer
) -> None:
    stub_server.top_logprobs = {" A": -0.5, " B": -1.0, "C": -3.0}
    result = backend.score_next_tokens("Pick one:", [" A or B?"], ["A", "B", "D"])
    request = stub_server.requests[-1]
    assert stub_server.paths[-1] == "/v1/completions"
    assert request["prompt"] == "Pick one: A or B?" and request["logprobs"] == 20
    scores = result.logprobs[0]
    assert scores["A"] == -0.5 and scores["B"] == -1.0
    # missing from the top-k: the lowest value seen minus the margin, and reported
    assert math.isclose(scores["D"], -3.0 - MISSING_MARGIN)
    assert result.extra["missing"] == [["D"]]


def test_server_without_logprobs_is_an_llm_error(
    backend: OpenAICompatibleBackend, stub_server: StubServer
) -> None:
    stub_server.set("nologprobs")
    with pytest.raises(LLMError, match="no log-probabilities"):
        backend.score_next_tokens([Message("user", "x")], ["y"], ["Yes", "No"])
    with pytest.raises(LLMError, match="no log-probabilities"):
        backend.score_next_tokens("x", ["y"], ["Yes", "No"])


def test_errors_never_leak_the_api_key(
    backend: OpenAICompatibleBackend, stub_server: StubServer
) -> None:
    stub_server.set("error")
    with pytest.raises(LLMError) as info:
        backend.score_next_tokens([Message("user", "x")], ["y"], ["Yes"])
    assert API_KEY not in str(info.value)


def test_chat_prefix_must_end_with_a_user_message(backend: OpenAICompatibleBackend) -> None:
    with pytest.raises(LLMError, match="user message"):
        backend.score_next_tokens([Message("system", "x")], ["y"], ["Yes"])
