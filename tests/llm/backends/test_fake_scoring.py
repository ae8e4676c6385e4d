"""The fake backend's scoring passes the same contract as the real ones."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from cinerec.errors import LLMError
from cinerec.llm.backends.base import Message, can_score
from tests.llm.backends.scoring_contract import ScorerContract
from tests.llm.fakes import FakeBackend


def crime_scorer(prompt: str, options: Sequence[str]) -> dict[str, float]:
    return {"Yes": -0.1, "No": -2.4} if "Crime" in prompt else {"Yes": -2.4, "No": -0.1}


class TestFakeScorerContract(ScorerContract):
    @pytest.fixture
    def scorer(self) -> FakeBackend:
        return FakeBackend(scorer=crime_scorer)

    def arrange_timeout(self, scorer: FakeBackend) -> float:
        scorer.score_delay_s = 0.02
        return 0.01

    def broken_scorer(self, scorer: FakeBackend) -> FakeBackend:
        def crash(prompt: str, options: Sequence[str]) -> dict[str, float]:
            raise LLMError("model crashed")

        return FakeBackend(scorer=crash)


def test_scoring_is_off_without_a_scorer_and_existing_use_is_unchanged() -> None:
    backend = FakeBackend(["hello"])
    assert not can_score(backend)
    assert backend.complete([]).text == "hello"
    with pytest.raises(LLMError, match="no scorer"):
        backend.score_next_tokens([Message("user", "x")], ["a"], ["Yes"])


def test_records_score_calls_and_appends_suffix_to_the_last_message() -> None:
    prompts: list[str] = []

    def record(prompt: str, options: Sequence[str]) -> dict[str, float]:
        prompts.append(prompt)
        return {"Yes": -1.0}

    backend = FakeBackend(scorer=record)
    result = backend.score_next_tokens([Message("user", "Q: ")], ["Heat"], ["Yes", "No"])
    assert prompts == ["user: Q: Heat"]
    assert result.logprobs == [{"Yes": -1.0, "No": -30.0}]
    assert backend.score_calls[0].suffixes == ["Heat"]
