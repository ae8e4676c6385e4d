"""Ask a fitted model every case of a task and turn its full rankings into per-user metrics.

A model ranks the whole catalog for each case (``recommend(history, n=len(catalog))``); its
history is left out of the candidates, as the recommender protocol promises. A target the
model does not know (never in its training data) counts as not ranked: it scores zero at every
cut-off and sits below every candidate for AUC. A feature-aware model
(:class:`cinerec.recommenders.base.FeatureAware`) is asked through ``recommend_for`` with the
case's :attr:`~cinerec.evaluation.protocols.EvalCase.features`; every other model through
``recommend``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cinerec.data.types import Vocabulary
from cinerec.evaluation import metrics
from cinerec.evaluation.protocols import EvalCase
from cinerec.recommenders.base import FeatureAware, Recommender

DEFAULT_KS = (5, 10, 20)


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
        seconds: wall time of each ``recommend`` call.
    """

    user_ids: np.ndarray
    ranks: np.ndarray
    n_relevant: np.ndarray
    n_candidates: np.ndarray
    top_items: np.ndarray
    seconds: np.ndarray


def rank_cases(
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
        seen = len(set(catalog.indices([h.movie_id for h in case.history]).tolist()))
        n_candidates[row] = len(catalog) - seen
    return CaseRankings(
        user_ids=np.array([c.user_id for c in cases], dtype=np.int64),
        ranks=ranks,
        n_relevant=np.array([len(c.targets) for c in cases], dtype=np.int64),
        n_candidates=n_candidates,
        top_items=top,
        seconds=seconds,
    )


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
