"""The behaviour every backend that scores (``TokenScorer``) must have; subclassed per backend.

A subclass provides the ``scorer`` fixture and the ``arrange_*`` hooks (queue scores, switch the
stub server's mode, or nothing for a real model).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from cinerec.errors import LLMError
from cinerec.llm.backends.base import Message, OptionScores, TokenScorer, can_score

PREFIX = [
    Message("system", "You judge movies for one viewer."),
    Message(
        "user", "The viewer loves crime films.\nWould they enjoy this movie? Answer Yes or No.\n"
    ),
]
SUFFIXES = ["Heat (1995) | Crime, Thriller", "Toy Story (1995) | Animation, Children"]
OPTIONS = ["Yes", "No"]


class ScorerContract:
    """Shared tests; see the module docstring."""

    timeout_s: float = 60.0

    @pytest.fixture
    def scorer(self) -> Any:
        raise NotImplementedError

    def arrange_scores(self, scorer: Any) -> None:
        """Make the next call answer with plausible scores (real models ignore this)."""

    def arrange_timeout(self, scorer: Any) -> float:
        """Make scoring too slow; return the timeout_s to call with."""
        raise NotImplementedError

    def broken_scorer(self, scorer: Any) -> Any:
        """A scorer of the same kind whose next call fails."""
        raise NotImplementedError

    def test_implements_protocol(self, scorer: Any) -> None:
        assert isinstance(scorer, TokenScorer)
        assert scorer.supports_scoring is True
        assert can_score(scorer)

    def test_one_dict_of_log_probabilities_per_suffix(self, scorer: Any) -> None:
        self.arrange_scores(scorer)
        result = scorer.score_next_tokens(PREFIX, SUFFIXES, OPTIONS, timeout_s=self.timeout_s)
        assert isinstance(result, OptionScores)
        assert len(result.logprobs) == len(SUFFIXES)
        for scores in result.logprobs:
            assert set(scores) == set(OPTIONS)
            assert all(math.isfinite(v) and v <= 1e-6 for v in scores.values())
            # raw log-probabilities: two options together hold at most all the mass
            assert math.log(sum(math.exp(v) for v in scores.values())) <= 1e-6
        assert result.model
        assert result.elapsed_s >= 0.0

    def test_string_prefix_is_scored_too(self, scorer: Any) -> None:
        self.arrange_scores(scorer)
        result = scorer.score_next_tokens(
            "Q: Is Heat (1995) a crime film? Answer Yes or No.\nA:", [""], OPTIONS
        )
        assert len(result.logprobs) == 1 and set(result.logprobs[0]) == set(OPTIONS)

    def test_nothing_to_score_is_an_llm_error(self, scorer: Any) -> None:
        with pytest.raises(LLMError):
            scorer.score_next_tokens(PREFIX, [], OPTIONS)
        with pytest.raises(LLMError):
            scorer.score_next_tokens(PREFIX, SUFFIXES, [])

    def test_timeout_raises_llm_error(self, scorer: Any) -> None:
        timeout_s = self.arrange_timeout(scorer)
        with pytest.raises(LLMError, match=r"(?i)within|timed out"):
            scorer.score_next_tokens(PREFIX, SUFFIXES * 10, OPTIONS, timeout_s=timeout_s)

    def test_failure_raises_llm_error(self, scorer: Any) -> None:
        broken = self.broken_scorer(scorer)
        with pytest.raises(LLMError):
            broken.score_next_tokens(PREFIX, SUFFIXES, OPTIONS, timeout_s=self.timeout_s)
