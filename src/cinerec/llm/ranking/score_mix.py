"""Mix the retriever's order with a model score (the weight is fitted on validation users).

For candidates in retriever order (position ``p`` of ``n``) with model scores ``s``::

    final = (1 - p / (n - 1)) + w * (s - mean(s)) / std(s)

The retriever part is rank-normalised (1 for the top candidate, 0 for the last), the model part
standardised per viewer, so ``w`` means the same for every viewer and every scorer. ``w = 0`` is
the retriever order exactly; :func:`cinerec.evaluation.score_mix_weight.fit_mix_weight` picks
``w`` from a grid that includes 0 by NDCG@10 on validation viewers, and keeps ``w = 0`` unless
the best weight's gain over the retriever is significant (the lower end of a paired bootstrap
95% interval above 0): with 50 validation viewers a noise-level gain picked ``w = 0.05`` for
the verbalizer, which then lost 3.3 NDCG points on test (``benchmarks/results/llm_rerank_1.5b.md``).

:func:`rank_page` is the one call a service needs: it scores a page of candidates with the
chosen scorer and returns a :class:`~cinerec.llm.ranking.rerank.RerankResult` (a permutation of the
candidates, fit scores in 0..1, no reasons), flagged as a fallback when the model failed.

Example:
    >>> mix_order([0.0, 0.0, 5.0], weight=0.0)
    [0, 1, 2]
    >>> mix_order([0.0, 0.0, 5.0], weight=1.0)
    [2, 0, 1]
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Literal

import numpy as np

from cinerec.data.types import Movie
from cinerec.llm.backends.base import LLMBackend
from cinerec.llm.persona import UserProfile
from cinerec.llm.ranking.rerank import Candidate, RankedItem, RerankResult
from cinerec.llm.ranking.scoring import ScoreResult, unique
from cinerec.llm.ranking.verbalizer import verbalizer_scores
from cinerec.llm.ranking.yesno import PriorCache, yesno_scores

Method = Literal["yesno", "verbalizer"]
# Fitted on 50 validation users of leave-one-out ml-latest-small, EASE top 20,
# Qwen2.5-Coder-1.5B (benchmarks/llm_rerank.py; benchmarks/results/llm_rerank_1.5b.md): no
# non-zero weight of the yes/no or the two-order verbalizer score gained significantly on
# validation NDCG@10, so the blend keeps the retriever's order. Refit for another model or
# retriever.
DEFAULT_WEIGHTS: dict[str, float] = {"yesno": 0.0, "verbalizer": 0.0}


def rank_normalised(n: int) -> np.ndarray:
    """1 for the first of ``n`` positions down to 0 for the last (1 when ``n`` is 1)."""
    if n <= 1:
        return np.ones(max(n, 0))
    return 1.0 - np.arange(n, dtype=np.float64) / (n - 1)


def standardised(scores: Sequence[float]) -> np.ndarray:
    """``(s - mean) / std`` over one viewer's candidates; all zeros when the scores are equal."""
    values = np.asarray(scores, dtype=np.float64)
    if values.size == 0:
        return values
    spread = values.std()
    if not math.isfinite(spread) or spread < 1e-12:
        return np.zeros_like(values)
    return (values - values.mean()) / spread


def mix_scores(model_scores: Sequence[float], weight: float) -> np.ndarray:
    """The blended score of candidates given in retriever order."""
    return rank_normalised(len(model_scores)) + weight * standardised(model_scores)


def mix_order(model_scores: Sequence[float], weight: float) -> list[int]:
    """Positions (in retriever order) sorted by blended score, best first; ties keep the
    retriever order."""
    blended = mix_scores(model_scores, weight)
    return sorted(range(len(blended)), key=lambda i: (-blended[i], i))


def mix_rerank(
    candidates: Sequence[Candidate], scores: ScoreResult, *, weight: float
) -> RerankResult:
    """Re-order ``candidates`` (retriever order) by the blend of their positions and
    ``scores``; candidates the scorer did not cover follow in retriever order.

    Returns:
        A :class:`RerankResult` with ``fit_score`` = the blended score mapped onto 0.1..1 (best
        candidate 1.0), no reasons, and the scorer's ``fallback``/``error``/``model``.
    """
    candidates = unique(candidates)
    by_id = {mid: s for mid, s in zip(scores.movie_ids, scores.scores, strict=True)}
    scored = [c for c in candidates if c.movie.movie_id in by_id]
    rest = [c for c in candidates if c.movie.movie_id not in by_id]
    position = {c.movie.movie_id: i for i, c in enumerate(candidates)}
    blended = mix_scores([by_id[c.movie.movie_id] for c in scored], weight)
    order = sorted(range(len(scored)), key=lambda i: (-blended[i], i))
    low, high = (float(blended.min()), float(blended.max())) if len(blended) else (0.0, 0.0)
    items: list[RankedItem] = []
    for i in order:
        fit = 1.0 if high <= low else 0.1 + 0.9 * (float(blended[i]) - low) / (high - low)
        items.append(
            RankedItem(
                scored[i].movie.movie_id, round(fit, 4), None, position[scored[i].movie.movie_id]
            )
        )
    floor = min((i.fit_score for i in items), default=1.0)
    for k, c in enumerate(rest):
        fit = round(floor * 0.9 ** (k + 1), 4)
        items.append(RankedItem(c.movie.movie_id, fit, None, position[c.movie.movie_id]))
    return RerankResult(items, scores.fallback, scores.error, scores.model, scores.elapsed_s)


def rank_page(
    backend: LLMBackend | None,
    profile: UserProfile,
    persona: str,
    history: Sequence[Movie],
    candidates: Sequence[Candidate],
    *,
    method: Method = "yesno",
    weight: float | None = None,
    timeout_s: float = 30.0,
    priors: PriorCache | None = None,
    debias: bool = True,
) -> tuple[RerankResult, ScoreResult]:
    """Score a page of candidates with ``method`` and blend with the retriever order.

    Never raises for model errors: the retriever order comes back with ``fallback=True``.

    Args:
        backend: The language model (one that can score), or None.
        profile: The viewer.
        persona: Persona text, may be empty.
        history: Watched movies, oldest first.
        candidates: Retriever output, best first (20 for a page).
        method: ``"yesno"`` (one prompt per candidate, shared prefix) or ``"verbalizer"``
            (one labelled list, scored in both orders).
        weight: Blend weight ``w``; None takes :data:`DEFAULT_WEIGHTS` for the method.
        timeout_s: Wall-clock budget of the model.
        priors: The yes/no scorer's per-movie cache (default: a new one for this call).
        debias: The verbalizer also scores the reversed list (twice the prompt tokens).

    Returns:
        ``(ranking, scores)``: the re-ranked page and the raw model scores with timings.
    """
    if method not in DEFAULT_WEIGHTS:
        raise ValueError(f"Unknown scoring method {method!r}; use 'yesno' or 'verbalizer'.")
    start = time.perf_counter()
    w = DEFAULT_WEIGHTS[method] if weight is None else weight
    if method == "yesno":
        scores = yesno_scores(
            backend, profile, persona, history, candidates, timeout_s=timeout_s, priors=priors
        )
    else:
        scores = verbalizer_scores(
            backend, profile, persona, history, candidates, timeout_s=timeout_s, debias=debias
        )
    ranking = mix_rerank(candidates, scores, weight=w)
    elapsed = time.perf_counter() - start
    return (
        RerankResult(ranking.items, ranking.fallback, ranking.error, ranking.model, elapsed),
        scores,
    )
