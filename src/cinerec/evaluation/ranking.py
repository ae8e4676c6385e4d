"""Ask a fitted model every case of a task and turn its full rankings into per-user metrics.

A model ranks the whole catalog for each case; its history is left out of the candidates, as
the recommender protocol promises. A target the model does not know (never in its training
data) counts as not ranked: it scores zero at every cut-off and sits below every candidate for
AUC. Ties go to the lower item index, as in the recommenders' own ``top_n``.

Two paths give the same rankings (up to float rounding):

* batched - a :class:`~cinerec.recommenders.base.BatchScorer` scores ``batch_size`` cases at
  once (a users x items matrix); the history is masked, each target's rank is counted in the
  matrix and the top ``max_k`` taken with ``argpartition``.
* one by one - ``recommend(history, n=len(catalog))`` per case, for every other model. A
  feature-aware model (:class:`cinerec.recommenders.base.FeatureAware`) always takes this path,
  through ``recommend_for`` with the case's
  :attr:`~cinerec.evaluation.protocols.EvalCase.features`.

Example:
    >>> rankings = rank_cases(model, task.test_sets["test"], task.catalog)  # doctest: +SKIP
    >>> per_user_metrics(rankings, task.item_probability())["ndcg@10"].mean()  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cinerec.data.types import Vocabulary
from cinerec.evaluation import metrics
from cinerec.evaluation.protocols import EvalCase
from cinerec.recommenders.base import BatchScorer, FeatureAware, Recommender

DEFAULT_KS = (5, 10, 20)
DEFAULT_BATCH_SIZE = 1024
"""Cases scored per block on the batched path (a block x items float64 matrix in memory)."""


@dataclass(frozen=True)
class CaseRankings:
    """What scoring needs from one pass over the cases (rows follow the cases' order).

    Attributes:
        user_ids: the user of each case.
        ranks: sorted positions of each case's targets, ``inf`` padded (see
            :func:`cinerec.evaluation.metrics.relevant_ranks`).
        n_relevant: targets per case.
        n_candidates: items the case could be recommended (catalog minus history).
        top_items: catalog indices of the top ``max_k`` items, ``-1`` padded.
        seconds: wall time of each ``recommend`` call (batched: the block's time shared
            equally by its cases).
    """

    user_ids: np.ndarray
    ranks: np.ndarray
    n_relevant: np.ndarray
    n_candidates: np.ndarray
    top_items: np.ndarray
    seconds: np.ndarray


def rank_cases(
    model: Recommender,
    cases: Sequence[EvalCase],
    catalog: Vocabulary,
    *,
    max_k: int = 20,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> CaseRankings:
    """Rank the full catalog for each case: batched when ``model`` is a
    :class:`~cinerec.recommenders.base.BatchScorer` without features and ``batch_size > 0``,
    else one ``recommend`` call per case."""
    if batch_size > 0 and isinstance(model, BatchScorer) and not isinstance(model, FeatureAware):
        return rank_cases_batched(model, cases, catalog, max_k=max_k, batch_size=batch_size)
    return rank_cases_one_by_one(model, cases, catalog, max_k=max_k)


def _n_candidates(case: EvalCase, catalog: Vocabulary) -> int:
    """Catalog items the case could be recommended: the catalog minus the history."""
    return len(catalog) - len(set(catalog.indices([h.movie_id for h in case.history]).tolist()))


def rank_cases_one_by_one(
    model: Recommender, cases: Sequence[EvalCase], catalog: Vocabulary, *, max_k: int = 20
) -> CaseRankings:
    """Ask ``model`` to rank the full catalog for each case, timing each call.

    Feature-aware models get the case's features (``recommend_for``), others only the history.
    """
    width = max((len(c.targets) for c in cases), default=1) or 1
    ranks = np.full((len(cases), width), np.inf)
    top = np.full((len(cases), max_k), -1, dtype=np.int64)
    seconds = np.empty(len(cases))
    n_candidates = np.empty(len(cases))
    position = np.full(len(catalog), np.inf)
    aware = isinstance(model, FeatureAware)
    for row, case in enumerate(cases):
        started = time.perf_counter()
        if aware:
            recs = model.recommend_for(case.history, n=len(catalog), features=case.features)
        else:
            recs = model.recommend(case.history, n=len(catalog))
        seconds[row] = time.perf_counter() - started
        ranked = catalog.indices([r.movie_id for r in recs])
        position[:] = np.inf
        position[ranked] = np.arange(len(ranked))
        targets = catalog.indices(case.targets)
        ranks[row, : len(targets)] = np.sort(position[targets])
        top[row, : min(max_k, len(ranked))] = ranked[:max_k]
        n_candidates[row] = _n_candidates(case, catalog)
    return _rankings(cases, ranks, n_candidates, top, seconds)


def _rankings(
    cases: Sequence[EvalCase],
    ranks: np.ndarray,
    n_candidates: np.ndarray,
    top: np.ndarray,
    seconds: np.ndarray,
) -> CaseRankings:
    return CaseRankings(
        user_ids=np.array([c.user_id for c in cases], dtype=np.int64),
        ranks=ranks,
        n_relevant=np.array([len(c.targets) for c in cases], dtype=np.int64),
        n_candidates=n_candidates,
        top_items=top,
        seconds=seconds,
    )


def top_k_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Columns of the ``k`` best finite scores of each row, best first, ``-1`` padded.

    Ties go to the lower column, as in the recommenders' ``top_n``: ``argpartition`` finds the
    top ``k``, and a row with ties at its ``k``-th score (or fewer than ``k`` finite scores) is
    sorted exactly on its own.

    Example:
        >>> top_k_indices(np.array([[0.1, 0.9, 0.5], [1.0, 1.0, -np.inf]]), 2).tolist()
        [[1, 2], [0, 1]]
    """
    n_rows, n_cols = scores.shape
    out = np.full((n_rows, k), -1, dtype=np.int64)
    take = min(k, n_cols)
    if take == 0 or n_rows == 0:
        return out
    part = np.argpartition(-scores, take - 1, axis=1)[:, :take]
    values = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -values), axis=-1)
    out[:, :take] = np.take_along_axis(part, order, axis=1)
    kth = values.min(axis=1)
    exact = np.isfinite(kth) & ((scores >= kth[:, None]).sum(axis=1) == take)
    for row in np.flatnonzero(~exact):
        s = scores[row]
        keep = np.isfinite(s) & (s >= kth[row]) if np.isfinite(kth[row]) else np.isfinite(s)
        candidates = np.flatnonzero(keep)
        chosen = candidates[np.lexsort((candidates, -s[candidates]))[:take]]
        out[row] = -1
        out[row, : len(chosen)] = chosen
    return out


def rank_cases_batched(
    model: BatchScorer,
    cases: Sequence[EvalCase],
    catalog: Vocabulary,
    *,
    max_k: int = 20,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> CaseRankings:
    """Rank the full catalog for ``batch_size`` cases at a time through ``model.score_batch``.

    Each block's scores are masked (history, items outside the catalog), each target's rank
    is counted with :func:`cinerec.evaluation.metrics.target_ranks` and the top ``max_k`` taken
    with :func:`top_k_indices`. Gives the rankings of :func:`rank_cases_one_by_one`.
    """
    width = max((len(c.targets) for c in cases), default=1) or 1
    ranks = np.full((len(cases), width), np.inf)
    top = np.full((len(cases), max_k), -1, dtype=np.int64)
    seconds = np.empty(len(cases))
    n_candidates = np.array([_n_candidates(c, catalog) for c in cases], dtype=np.float64)
    to_catalog: np.ndarray | None = None
    for start in range(0, len(cases), batch_size):
        block = cases[start : start + batch_size]
        stop = start + len(block)
        started = time.perf_counter()
        matrix = model.score_batch([c.history for c in block])
        items = matrix.items
        if to_catalog is None:  # the model's columns as catalog indices, -1 outside it
            to_catalog = np.array([catalog.index(i) if i in catalog else -1 for i in items.ids])
        scores = np.array(matrix.scores, dtype=np.float64)  # a writable copy
        scores[:, to_catalog < 0] = -np.inf
        seen = [items.indices([h.movie_id for h in c.history]) for c in block]
        rows = np.repeat(np.arange(len(block)), [len(s) for s in seen])
        if len(rows):
            scores[rows, np.concatenate(seen)] = -np.inf
        targets = np.full((len(block), width), -1, dtype=np.int64)
        for row, case in enumerate(block):
            for col, target in enumerate(case.targets):
                targets[row, col] = items.index(target) if target in items else -1
        block_ranks = np.column_stack(
            [metrics.target_ranks(scores, targets[:, col]) for col in range(width)]
        )
        ranks[start:stop] = np.sort(block_ranks, axis=1)
        best = top_k_indices(scores, max_k)
        top[start:stop] = np.where(best >= 0, to_catalog[np.maximum(best, 0)], -1)
        seconds[start:stop] = (time.perf_counter() - started) / len(block)
    return _rankings(cases, ranks, n_candidates, top, seconds)


def per_user_metrics(
    rankings: CaseRankings, item_probability: np.ndarray, *, ks: Sequence[int] = DEFAULT_KS
) -> dict[str, np.ndarray]:
    """``{"ndcg@10": array over users, ..., "auc": ..., "novelty@10": ...}``."""
    r, n_rel = rankings.ranks, rankings.n_relevant
    out: dict[str, np.ndarray] = {}
    for k in ks:
        out[f"precision@{k}"] = metrics.precision_at_k(r, k)
        out[f"recall@{k}"] = metrics.recall_at_k(r, n_rel, k)
        out[f"ndcg@{k}"] = metrics.ndcg_at_k(r, n_rel, k)
        out[f"mrr@{k}"] = metrics.mrr_at_k(r, k)
        out[f"novelty@{k}"] = metrics.novelty(rankings.top_items[:, :k], item_probability)
    out["auc"] = metrics.auc(r, n_rel, rankings.n_candidates)
    return out


def catalog_coverage(
    rankings: CaseRankings, catalog_size: int, *, ks: Sequence[int] = DEFAULT_KS
) -> dict[str, float]:
    """``{"coverage@10": share of the catalog in anyone's top 10, ...}``."""
    return {f"coverage@{k}": metrics.coverage(rankings.top_items[:, :k], catalog_size) for k in ks}
