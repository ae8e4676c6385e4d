"""Blending the retriever's order with model scores, and fitting the weight on validation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from cinerec.errors import LLMError
from cinerec.evaluation.metrics import ndcg_of_ranking
from cinerec.llm.persona import UserProfile
from cinerec.llm.ranking.rerank import Candidate
from cinerec.llm.ranking.score_mix import (
    mix_order,
    mix_rerank,
    rank_normalised,
    rank_page,
    standardised,
)
from cinerec.llm.ranking.scoring import ScoreResult
from cinerec.llm.ranking.yesno import PriorCache
from tests.llm.fakes import FakeBackend
from tests.llm.movies import CANDIDATES, HISTORY

CANDS = [Candidate(m, 2.0 - 0.05 * i) for i, m in enumerate(CANDIDATES[:20])]


def test_parts_of_the_blend() -> None:
    assert rank_normalised(3).tolist() == [1.0, 0.5, 0.0]
    assert rank_normalised(1).tolist() == [1.0]
    z = standardised([1.0, 2.0, 3.0])
    assert z.mean() == pytest.approx(0.0) and z.std() == pytest.approx(1.0)
    assert standardised([4.0, 4.0]).tolist() == [0.0, 0.0]
    scores = [0.0, -1.0, 3.0, 1.0]
    assert mix_order(scores, 0.0) == [0, 1, 2, 3]  # w = 0: the retriever exactly
    assert mix_order(scores, 100.0) == [2, 3, 0, 1]  # large w: the model's order
    assert ndcg_of_ranking([3, 0, 1], [0], 10) == pytest.approx(1 / np.log2(3))
    assert ndcg_of_ranking([3, 0, 1], [7], 10) == 0.0 and ndcg_of_ranking([0], [], 10) == 0.0


def _result(scores: Sequence[float], ids: Sequence[int], fallback: bool = False) -> ScoreResult:
    return ScoreResult(tuple(ids), tuple(scores), "yesno", "fake-model", fallback, None, 0.1)


def test_blend_rerank_is_a_permutation_with_unscored_candidates_last() -> None:
    ids = [c.movie.movie_id for c in CANDS]
    scores = [0.0] * 10
    scores[7] = 10.0
    result = mix_rerank(CANDS, _result(scores, ids[:10]), weight=1.0)
    order = [i.movie_id for i in result.items]
    assert sorted(order) == sorted(ids)
    assert order[0] == ids[7]
    assert order[10:] == ids[10:]  # not scored: retriever order, after the scored ones
    fits = [i.fit_score for i in result.items]
    assert fits[0] == 1.0 and all(0 < f <= 1 for f in fits)
    assert fits == sorted(fits, reverse=True)
    assert result.items[0].base_rank == 7 and result.items[0].reason is None
    same = mix_rerank(CANDS, _result(scores, ids[:10]), weight=0.0)
    assert [i.movie_id for i in same.items] == ids


def test_rank_page_scores_and_blends_and_falls_back() -> None:
    def likes_goodfellas(prompt: str, options: Sequence[str]) -> dict[str, float]:
        movie = prompt.rsplit("Movie: ", 1)[-1]
        if "Heat" not in prompt:  # the unknown viewer likes everything alike
            return {"Yes": -1.0, "No": -1.0}
        return {"Yes": 0.0 if movie.startswith("Goodfellas") else -3.0, "No": -1.0}

    profile = UserProfile("Minji")
    backend = FakeBackend(scorer=likes_goodfellas)
    priors = PriorCache()
    ranking, scores = rank_page(backend, profile, "", HISTORY, CANDS, weight=5.0, priors=priors)
    assert not ranking.fallback and ranking.model == "fake-model"
    assert ranking.items[0].movie_id == next(
        c.movie.movie_id for c in CANDS if c.movie.title == "Goodfellas"
    )
    assert scores.method == "yesno" and len(scores.scores) == 20
    ranking, _ = rank_page(backend, profile, "", HISTORY, CANDS, weight=0.0, priors=priors)
    assert [i.movie_id for i in ranking.items] == [c.movie.movie_id for c in CANDS]

    def broken(prompt: str, options: Sequence[str]) -> dict[str, float]:
        raise LLMError("model crashed")

    for method in ("yesno", "verbalizer"):
        ranking, scores = rank_page(
            FakeBackend(scorer=broken), profile, "", HISTORY, CANDS, method=method, priors=priors
        )
        assert ranking.fallback and "crashed" in str(ranking.error)
        assert [i.movie_id for i in ranking.items] == [c.movie.movie_id for c in CANDS]
    with pytest.raises(ValueError, match="Unknown scoring method"):
        rank_page(backend, profile, "", HISTORY, CANDS, method="nope")  # type: ignore[arg-type]
