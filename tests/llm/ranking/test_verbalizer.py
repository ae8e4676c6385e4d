"""Verbalizer scoring with the fake backend: labels, both orders, position-bias mitigation."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pytest

from cinerec.errors import LLMError
from cinerec.llm.persona import UserProfile
from cinerec.llm.ranking.rerank import Candidate
from cinerec.llm.ranking.verbalizer import LABELS, MAX_CANDIDATES, verbalizer_scores
from cinerec.llm.viewer import viewer_prefix
from tests.llm.fakes import FakeBackend
from tests.llm.movies import CANDIDATES, HISTORY

PROFILE = UserProfile("Minji", taste="Tense crime stories")
CANDS = [Candidate(m, 2.0 - 0.05 * i) for i, m in enumerate(CANDIDATES[:20])]


def _lines(prompt: str) -> dict[str, str]:
    return dict(re.findall(r"^([A-T])\. (.*)$", prompt, flags=re.MULTILINE))


def position_biased(prompt: str, options: Sequence[str]) -> dict[str, float]:
    """Prefers early labels, whatever they stand for."""
    return {label: -0.5 * k for k, label in enumerate(options)}


def likes_goodfellas(prompt: str, options: Sequence[str]) -> dict[str, float]:
    """Prefers the label of Goodfellas, plus a mild first-label bias."""
    lines = _lines(prompt)
    out = {label: -6.0 - 0.1 * k for k, label in enumerate(options)}
    out["A"] += 1.0
    for label, line in lines.items():
        if line.startswith("Goodfellas"):
            out[label] = -0.2
    return out


def test_one_call_with_the_given_and_the_reversed_list() -> None:
    backend = FakeBackend(scorer=likes_goodfellas)
    result = verbalizer_scores(backend, PROFILE, "", HISTORY, CANDS)
    assert not result.fallback and result.method == "verbalizer"
    (call,) = backend.score_calls
    assert call.options == list(LABELS[:20])
    assert len(call.suffixes) == 2
    forward, backward = (_lines(s) for s in call.suffixes)
    assert forward["A"].startswith(CANDS[0].movie.display_title)
    assert backward["A"].startswith(CANDS[-1].movie.display_title)
    assert call.prefix[1].content.startswith(viewer_prefix(PROFILE, "", HISTORY))
    assert call.prefix[1].content.endswith("Candidate movies:\n")
    assert call.suffixes[0].endswith("Answer with the letter of that movie only.")
    assert "A to T" not in call.suffixes[0]  # naming the range made a real model answer "T"
    goodfellas = next(c.movie.movie_id for c in CANDS if c.movie.title == "Goodfellas")
    assert result.order()[0] == goodfellas
    # scores are label log-probabilities renormalised over the labels
    assert np.exp(result.details["forward"]).sum() == pytest.approx(1.0)
    assert result.details["label_mass"][0] == pytest.approx(np.exp(-0.2), rel=0.05)


def test_reversal_cancels_a_pure_position_preference() -> None:
    biased = FakeBackend(scorer=position_biased)
    plain = verbalizer_scores(biased, PROFILE, "", HISTORY, CANDS, debias=False)
    assert len(biased.score_calls[-1].suffixes) == 1
    assert plain.order()[0] == CANDS[0].movie.movie_id
    assert np.all(np.diff(plain.scores) < 0)  # strictly by position
    mitigated = verbalizer_scores(biased, PROFILE, "", HISTORY, CANDS)
    # a linear position preference averages out to the same score for every candidate
    assert np.ptp(mitigated.scores) == pytest.approx(0.0, abs=1e-9)
    assert mitigated.details["reversed"][-1] == max(mitigated.details["reversed"])


def test_only_the_first_twenty_are_scored() -> None:
    many = [Candidate(m, 1.0) for m in CANDIDATES]  # 22 movies
    assert len(many) > MAX_CANDIDATES
    result = verbalizer_scores(FakeBackend(scorer=position_biased), PROFILE, "", HISTORY, many)
    assert result.movie_ids == tuple(c.movie.movie_id for c in many[:MAX_CANDIDATES])


def test_fallbacks_keep_the_retriever_order() -> None:
    def broken(prompt: str, options: Sequence[str]) -> dict[str, float]:
        raise LLMError("model crashed")

    for backend in (None, FakeBackend(), FakeBackend(scorer=broken)):
        result = verbalizer_scores(backend, PROFILE, "", HISTORY, CANDS)
        assert result.fallback
        assert result.order() == [c.movie.movie_id for c in CANDS]
    slow = FakeBackend(scorer=position_biased, score_delay_s=0.05)
    result = verbalizer_scores(slow, PROFILE, "", HISTORY, CANDS, timeout_s=0.01)
    assert result.fallback and "timed out" in str(result.error)


def test_a_single_candidate_needs_one_pass() -> None:
    backend = FakeBackend(scorer=position_biased)
    result = verbalizer_scores(backend, PROFILE, "", HISTORY, CANDS[:1])
    assert result.scores == (0.0,) and not result.fallback
    assert len(backend.score_calls[0].suffixes) == 1
    assert verbalizer_scores(backend, PROFILE, "", HISTORY, []).movie_ids == ()
