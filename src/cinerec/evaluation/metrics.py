"""Ranking metrics over full rankings, one small vectorised function each.

Every per-user metric takes ``ranks``: a float array of shape ``(users, max_relevant)`` whose
row holds the 0-based positions of that user's relevant items in the user's full ranking
(position 0 is the top), padded with ``inf``; and, where needed, ``n_relevant`` (relevant items
per user, shape ``(users,)``). Each returns one value per user, so that confidence intervals
can be bootstrapped over users.

This module is the one metrics core: the harness, both blends and the benchmarks take their
ranks and NDCG from here. Build ``ranks`` with :func:`relevant_ranks` (from rankings),
:func:`target_ranks` (one target per row of a score matrix) or
:func:`cinerec.evaluation.ranking.rank_cases`.

Example:
    >>> ranks = np.array([[0.0, np.inf], [2.0, 5.0]])
    >>> ndcg_at_k(ranks, np.array([1, 2]), 3).round(4).tolist()
    [1.0, 0.3066]
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np


def relevant_ranks(rankings: Sequence[np.ndarray], relevant: Sequence[np.ndarray]) -> np.ndarray:
    """Positions of each user's relevant items in their ranking (``inf``: not ranked).

    Args:
        rankings: per user, item indices best first.
        relevant: per user, the relevant item indices.

    Returns:
        ``(users, max_relevant)`` float array, each row sorted ascending, ``inf`` padded.
    """
    width = max((len(r) for r in relevant), default=0)
    out = np.full((len(relevant), max(width, 1)), np.inf)
    for u, (ranking, rel) in enumerate(zip(rankings, relevant, strict=True)):
        if len(rel) == 0:
            continue
        position = {int(item): p for p, item in enumerate(np.asarray(ranking))}
        out[u, : len(rel)] = np.sort([position.get(int(i), np.inf) for i in rel])
    return out


def target_ranks(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """0-based rank of one target per row of a score matrix (``inf``: not rankable).

    Ties go to the lower column index, as in the recommenders' ``top_n``. A target of ``-1``
    (unknown to the model) or with a non-finite score (blocked) is not ranked.

    Args:
        scores: ``(cases, items)`` scores, higher is better; ``-inf`` or ``nan`` at blocked
            items.
        targets: ``(cases,)`` column of each case's target, ``-1`` when unknown.

    Returns:
        ``(cases,)`` float ranks.

    Example:
        >>> target_ranks(np.array([[0.1, 0.5, 0.5], [1.0, 2.0, 3.0]]), np.array([2, -1]))
        array([ 1., inf])
    """
    scores = np.asarray(scores)
    targets = np.asarray(targets, dtype=np.int64)
    out = np.full(len(targets), np.inf)
    known = np.flatnonzero(targets >= 0)
    if len(known) == 0:
        return out
    rows, cols = scores[known], targets[known]
    own = rows[np.arange(len(known)), cols]
    ahead = (rows > own[:, None]).sum(axis=1)
    tied_before = ((rows == own[:, None]) & (np.arange(rows.shape[1]) < cols[:, None])).sum(axis=1)
    out[known] = np.where(np.isfinite(own), ahead + tied_before, np.inf)
    return out


def ndcg_of_ranking(ranking: Sequence[int], relevant: Collection[int], k: int) -> float:
    """Binary-gain NDCG@k of one ranking (ids best first) against a set of relevant ids.

    Example:
        >>> round(ndcg_of_ranking([3, 0, 1], [0], 10), 4)
        0.6309
    """
    rel = np.unique(np.asarray(list(relevant), dtype=np.int64))
    ranks = relevant_ranks([np.asarray(ranking, dtype=np.int64)], [rel])
    return float(ndcg_at_k(ranks, np.array([len(rel)]), k)[0])


def hits_at_k(ranks: np.ndarray, k: int) -> np.ndarray:
    """Number of relevant items in the top ``k``."""
    return (ranks < k).sum(axis=1).astype(np.float64)


def precision_at_k(ranks: np.ndarray, k: int) -> np.ndarray:
    """Relevant items in the top ``k``, divided by ``k``."""
    return hits_at_k(ranks, k) / k


def recall_at_k(ranks: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """Relevant items in the top ``k``, divided by all relevant items (the hit rate for LOO)."""
    return hits_at_k(ranks, k) / np.maximum(n_relevant, 1)


def ndcg_at_k(ranks: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """Binary-gain NDCG@k: DCG of the hits over the DCG of an ideal top ``k``."""
    gains = np.where(ranks < k, 1.0 / np.log2(np.minimum(ranks, k) + 2.0), 0.0)
    discounts = 1.0 / np.log2(np.arange(k) + 2.0)
    ideal = np.cumsum(discounts)[np.clip(np.minimum(n_relevant, k), 1, k) - 1]
    return np.where(n_relevant > 0, gains.sum(axis=1) / ideal, 0.0)


def mrr_at_k(ranks: np.ndarray, k: int) -> np.ndarray:
    """Reciprocal rank of the first relevant item if it is in the top ``k``, else 0."""
    first = ranks.min(axis=1)
    return np.where(first < k, 1.0 / (np.minimum(first, k) + 1.0), 0.0)


def auc(ranks: np.ndarray, n_relevant: np.ndarray, n_candidates: np.ndarray) -> np.ndarray:
    """Per-user ROC AUC: the share of (relevant, irrelevant) pairs ranked the right way round.

    ``n_candidates`` is how many items each user's ranking covers (relevant ones included).
    A relevant item that was not ranked at all counts as ranked below every candidate. Users
    with no relevant or no irrelevant candidate get ``nan``.
    """
    n_neg = (n_candidates - n_relevant).astype(np.float64)
    ranked = np.where(np.isfinite(ranks), ranks, n_candidates[:, None] - 1.0)
    # The j-th relevant item (0-based, by rank) has (rank - j) irrelevant items above it.
    above = ranked - np.arange(ranks.shape[1])[None, :]
    valid = np.arange(ranks.shape[1])[None, :] < n_relevant[:, None]
    above = np.clip(above, 0.0, n_neg[:, None])
    below = np.where(valid, n_neg[:, None] - above, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = below / (n_neg * n_relevant)
    return np.where((n_neg > 0) & (n_relevant > 0), out, np.nan)


def coverage(top_items: np.ndarray, catalog_size: int) -> float:
    """Share of the catalog that appears in at least one user's list (``-1`` cells ignored).

    Args:
        top_items: ``(users, k)`` item indices of each user's top ``k``.
        catalog_size: number of items that could have been recommended.
    """
    shown = np.unique(top_items[top_items >= 0])
    return float(len(shown) / catalog_size) if catalog_size else 0.0


def novelty(top_items: np.ndarray, item_probability: np.ndarray) -> np.ndarray:
    """Mean self-information ``-log2 p(i)`` of each user's recommended items (``-1`` ignored).

    ``item_probability[i]`` is the share of training users who interacted with item ``i``;
    unseen items are clipped to one user's worth so the value stays finite.
    """
    valid = top_items >= 0
    floor = np.min(item_probability[item_probability > 0], initial=1.0)
    p = np.clip(item_probability[np.where(valid, top_items, 0)], floor, 1.0)
    info = np.where(valid, -np.log2(p), 0.0)
    return info.sum(axis=1) / np.maximum(valid.sum(axis=1), 1)
