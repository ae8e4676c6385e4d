"""The retriever's order as ranked items: what orders the cards when the model does not."""

from __future__ import annotations

from cinerec.llm.ranking.rerank import Candidate, base_fit_scores, base_ranking
from tests.llm.movies import CANDIDATES

CANDS = [Candidate(m, score=2.0 - i * 0.05) for i, m in enumerate(CANDIDATES[:20])]


def test_base_ranking_keeps_the_candidates_order() -> None:
    items = base_ranking(CANDS)
    assert [i.movie_id for i in items] == [c.movie.movie_id for c in CANDS]
    assert [i.base_rank for i in items] == list(range(len(CANDS)))
    assert all(i.reason is None for i in items)


def test_fit_scores_are_min_max_scaled_and_fall_back_to_rank_order() -> None:
    scores = base_fit_scores(CANDS)
    assert scores[0] == 1.0 and min(scores) == scores[-1] >= 0.1
    assert scores == sorted(scores, reverse=True)
    flat = base_fit_scores([Candidate(c.movie, 1.0) for c in CANDS[:3]])
    assert flat == sorted(flat, reverse=True) and flat[0] > flat[-1]
    assert base_fit_scores([]) == []
