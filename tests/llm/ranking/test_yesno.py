"""Yes/No scoring with the fake backend: ranking, the unknown-viewer contrast, fallbacks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pytest

from cinerec.errors import LLMError
from cinerec.llm.persona import UserProfile
from cinerec.llm.ranking.rerank import Candidate
from cinerec.llm.ranking.yesno import OPTIONS, PriorCache, warm_priors, yesno_scores
from cinerec.llm.viewer import compact_line, viewer_prefix
from tests.llm.fakes import FakeBackend
from tests.llm.movies import CANDIDATES, HISTORY

PROFILE = UserProfile("Minji", taste="Tense crime stories")
CANDS = [Candidate(m, 2.0 - 0.05 * i) for i, m in enumerate(CANDIDATES[:20])]


def taste_scorer(prompt: str, options: Sequence[str]) -> dict[str, float]:
    """Everyone says Yes to Toy Story; only a viewer who watched Heat likes crime."""
    movie = prompt.rsplit("Movie: ", 1)[-1]
    yes = -2.0
    if movie.startswith("Toy Story"):
        yes += 1.5
    if "Heat (1995)" in prompt and "Crime" in movie:
        yes += 1.0
    return {"Yes": yes, "yes": yes - 3, "No": -1.0, "no": -4.0}


def test_raw_log_odds_rank_and_prompt_layout() -> None:
    backend = FakeBackend(scorer=taste_scorer)
    result = yesno_scores(backend, PROFILE, "", HISTORY, CANDS, contrast=False)
    assert not result.fallback and result.error is None
    assert result.method == "yesno" and result.model == "fake-model"
    assert result.movie_ids == tuple(c.movie.movie_id for c in CANDS)
    assert result.order()[0] == 1  # Toy Story: the popularity bias wins without contrast
    # Toy Story: log(e^-0.5 + e^-3.5) - log(e^-1 + e^-4), both spellings of each answer
    expected = math.log(math.exp(-0.5) + math.exp(-3.5)) - math.log(math.exp(-1) + math.exp(-4))
    assert expected == pytest.approx(0.5)
    assert result.scores[4] == pytest.approx(expected)
    assert result.details["p_yes"][4] == pytest.approx(1 / (1 + math.exp(-expected)))
    (call,) = backend.score_calls
    assert call.options == list(OPTIONS)
    assert call.suffixes == [compact_line(c.movie) for c in CANDS]
    assert call.prefix[1].content.startswith(viewer_prefix(PROFILE, "", HISTORY))
    assert call.prefix[1].content.endswith("Movie: ")


def test_contrast_removes_what_every_viewer_would_say() -> None:
    backend = FakeBackend(scorer=taste_scorer)
    priors = PriorCache()
    result = yesno_scores(backend, PROFILE, "", HISTORY, CANDS, priors=priors)
    crime = {c.movie.movie_id for c in CANDS if "Crime" in c.movie.genres}
    top = result.order()[: len(crime)]
    assert set(top) == crime  # crime first, Toy Story no longer on top
    assert result.details["prior"][4] > result.details["prior"][0]  # Toy Story's own bias
    # first the unknown viewer (priors), then this viewer, whose prefix stays cached
    assert len(backend.score_calls) == 2
    assert "Heat" not in backend.score_calls[0].prefix[1].content
    assert len(priors) == 20
    again = yesno_scores(backend, PROFILE, "", HISTORY, CANDS[:5], priors=priors)
    assert len(backend.score_calls) == 3  # priors came from the cache
    assert again.scores == result.scores[:5]


def test_warm_priors_scores_only_missing_movies() -> None:
    backend = FakeBackend(scorer=taste_scorer)
    priors = PriorCache()
    assert warm_priors(backend, [c.movie for c in CANDS[:3]], priors=priors) == 3
    assert warm_priors(backend, [c.movie for c in CANDS[:5]], priors=priors) == 2
    assert warm_priors(backend, [c.movie for c in CANDS[:5]], priors=priors) == 0
    with pytest.raises(LLMError, match="cannot score"):
        warm_priors(FakeBackend(), [CANDS[0].movie], priors=priors)


def test_no_backend_or_no_scoring_gives_the_retriever_order_flagged() -> None:
    for backend, error in ((None, None), (FakeBackend(), "cannot score")):
        result = yesno_scores(backend, PROFILE, "", HISTORY, CANDS)
        assert result.fallback
        assert result.order() == [c.movie.movie_id for c in CANDS]
        assert (result.error is None) if error is None else (error in str(result.error))


@pytest.mark.parametrize(
    "failure",
    [LLMError("model crashed"), RuntimeError("contract broken")],
)
def test_model_failures_fall_back(failure: Exception) -> None:
    def broken(prompt: str, options: Sequence[str]) -> dict[str, float]:
        raise failure

    result = yesno_scores(FakeBackend(scorer=broken), PROFILE, "", HISTORY, CANDS)
    assert result.fallback
    assert str(failure) in str(result.error)
    assert result.order() == [c.movie.movie_id for c in CANDS]


def test_timeout_and_non_finite_scores_fall_back() -> None:
    slow = FakeBackend(scorer=taste_scorer, score_delay_s=0.01)
    result = yesno_scores(slow, PROFILE, "", HISTORY, CANDS, timeout_s=0.05, contrast=False)
    assert result.fallback and "timed out" in str(result.error)

    def nan(prompt: str, options: Sequence[str]) -> dict[str, float]:
        return {"Yes": float("nan"), "No": -1.0}

    result = yesno_scores(FakeBackend(scorer=nan), PROFILE, "", HISTORY, CANDS, contrast=False)
    assert result.fallback and "non-finite" in str(result.error)


def test_repeats_are_dropped_and_nothing_to_rank_is_not_a_fallback() -> None:
    backend = FakeBackend(scorer=taste_scorer)
    result = yesno_scores(
        backend, PROFILE, "", HISTORY, [CANDS[0], CANDS[1], CANDS[0]], priors=PriorCache()
    )
    assert result.movie_ids == (CANDS[0].movie.movie_id, CANDS[1].movie.movie_id)
    empty = yesno_scores(backend, PROFILE, "", HISTORY, [])
    assert not empty.fallback and empty.movie_ids == () and empty.order() == []


def test_prior_cache_round_trips_through_a_file(tmp_path: Path) -> None:
    backend = FakeBackend(scorer=taste_scorer)
    priors = PriorCache()
    warm_priors(backend, [c.movie for c in CANDS[:4]], priors=priors)
    priors.save(tmp_path / "priors.json")
    loaded = PriorCache.load(tmp_path / "priors.json")
    assert len(loaded) == 4
    line = compact_line(CANDS[1].movie)
    assert loaded.get("fake-model", line) == priors.get("fake-model", line) is not None
    (tmp_path / "bad.json").write_text("{not json")
    assert len(PriorCache.load(tmp_path / "bad.json")) == 0
    assert len(PriorCache.load(tmp_path / "missing.json")) == 0
