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
    BlendRow,
    blend_order,
    blend_rerank,
    fit_blend_weight,
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
    assert blend_order(scores, 0.0) == [0, 1, 2, 3]  # w = 0: the retriever exactly
    assert blend_order(scores, 100.0) == [2, 3, 0, 1]  # large w: the model's order
    assert ndcg_of_ranking([3, 0, 1], [0], 10) == pytest.approx(1 / np.log2(3))
    assert ndcg_of_ranking([3, 0, 1], [7], 10) == 0.0 and ndcg_of_ranking([0], [], 10) == 0.0


def _rows(informative: bool, n_rows: int = 40, seed: int = 0) -> list[BlendRow]:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n_rows):
        target = int(rng.integers(5, 20))  # the retriever ranks the target low
        scores = rng.normal(size=20)
        scores[target] += 3.0 if informative else -3.0
        rows.append(BlendRow(tuple(scores), (target,)))
    return rows


def test_fit_picks_a_positive_weight_when_the_model_helps() -> None:
    fit = fit_blend_weight(_rows(informative=True))
    assert fit.weight > 0 and fit.gain > 0
    assert fit.table[fit.weight] == max(fit.table.values())
    assert 0.0 in fit.table and fit.metric == "ndcg@10" and fit.n_rows == 40


def test_fit_keeps_the_retriever_when_the_gain_is_noise() -> None:
    # One validation row gains, nine lose nothing: the best weight helps on average, but the
    # paired bootstrap interval of its gain reaches 0, so the retriever is kept.
    rows = [BlendRow((0.0,) * 19 + (5.0,), (19,))] + [
        BlendRow(tuple(float(i == 0) for i in range(20)), (0,)) for _ in range(9)
    ]
    fit = fit_blend_weight(rows)
    assert fit.best > 0 and fit.table[fit.best] > fit.table[0.0]
    assert fit.best_gain_ci95[0] <= 0 < fit.best_gain_ci95[1]
    assert fit.weight == 0.0 and fit.gain == 0.0
    assert fit_blend_weight(rows, significant=False).weight == fit.best


def test_fit_keeps_the_retriever_when_the_model_hurts() -> None:
    fit = fit_blend_weight(_rows(informative=False), grid=(0.5, 1.0, 5.0))
    assert fit.weight == 0.0 and fit.gain == 0.0
    assert set(fit.table) == {0.0, 0.5, 1.0, 5.0}
    assert fit_blend_weight([]).weight == 0.0
    with pytest.raises(ValueError, match=">= 0"):
        fit_blend_weight(_rows(True), grid=(-1.0,))


def _result(scores: Sequence[float], ids: Sequence[int], fallback: bool = False) -> ScoreResult:
    return ScoreResult(tuple(ids), tuple(scores), "yesno", "fake-model", fallback, None, 0.1)


def test_blend_rerank_is_a_permutation_with_unscored_candidates_last() -> None:
    ids = [c.movie.movie_id for c in CANDS]
    scores = [0.0] * 10
    scores[7] = 10.0
    result = blend_rerank(CANDS, _result(scores, ids[:10]), weight=1.0)
    order = [i.movie_id for i in result.items]
    assert sorted(order) == sorted(ids)
    assert order[0] == ids[7]
    assert order[10:] == ids[10:]  # not scored: retriever order, after the scored ones
    fits = [i.fit_score for i in result.items]
    assert fits[0] == 1.0 and all(0 < f <= 1 for f in fits)
    assert fits == sorted(fits, reverse=True)
    assert result.items[0].base_rank == 7 and result.items[0].reason is None
    same = blend_rerank(CANDS, _result(scores, ids[:10]), weight=0.0)
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
