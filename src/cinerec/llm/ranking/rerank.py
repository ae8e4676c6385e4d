"""Candidates and ranked items: the shapes the page's ranking steps share.

The language model does not order the cards. The generative re-rank that used to live here
(the model picking the best ``n`` with fit scores and reasons) was removed: on the newviewer
protocol (``benchmarks/results/newviewer/``) the model's contribution to the ranking, its
structured reading of the taste statement, stayed below the +5 % NDCG@10 it had to earn, and
its Yes/No and verbalizer scores lose to the retriever (``benchmarks/results/llm_rerank.md``).
:func:`base_ranking` keeps the candidates' own order; :mod:`cinerec.llm.ranking.score_mix` can
still mix in the model's scores when ``rank_method`` asks for it (off by default).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cinerec.data.types import Movie


@dataclass(frozen=True, slots=True)
class Candidate:
    """A movie proposed by the recommender with its score (higher is better)."""

    movie: Movie
    score: float


@dataclass(frozen=True, slots=True)
class RankedItem:
    """One re-ranked movie: ``fit_score`` in 0..1, an optional reason, and its 0-based position
    in the base (recommender) order."""

    movie_id: int
    fit_score: float
    reason: str | None
    base_rank: int


@dataclass(frozen=True, slots=True)
class RerankResult:
    """The new order (a permutation of the candidates) and how it was made."""

    items: list[RankedItem]
    fallback: bool
    error: str | None
    model: str
    elapsed_s: float
    cleaned: bool = False


def base_fit_scores(candidates: Sequence[Candidate]) -> list[float]:
    """Map recommender scores onto 0.1..1 (min-max); equal scores fall back to rank order."""
    if not candidates:
        return []
    scores = [c.score for c in candidates]
    low, high = min(scores), max(scores)
    if high > low:
        return [round(0.1 + 0.9 * (s - low) / (high - low), 4) for s in scores]
    n = len(candidates)
    return [round(1.0 - 0.9 * i / max(n - 1, 1), 4) for i in range(n)]


def base_ranking(candidates: Sequence[Candidate]) -> list[RankedItem]:
    """The candidates in their given order, fit scores from the recommender, no reasons."""
    fits = base_fit_scores(candidates)
    return [RankedItem(c.movie.movie_id, fits[i], None, i) for i, c in enumerate(candidates)]
