"""Metrics on rankings whose right answers are worked out by hand in each test."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cinerec.evaluation import metrics

INF = np.inf


def test_relevant_ranks_finds_positions_and_pads() -> None:
    rankings = [np.array([7, 3, 9, 1]), np.array([2, 4])]
    relevant = [np.array([9, 7, 5]), np.array([4])]
    ranks = metrics.relevant_ranks(rankings, relevant)
    assert ranks.shape == (2, 3)
    np.testing.assert_array_equal(ranks[0], [0.0, 2.0, INF])  # 5 is not ranked
    np.testing.assert_array_equal(ranks[1], [1.0, INF, INF])


def test_single_target_at_rank_three() -> None:
    ranks = np.array([[2.0]])
    one = np.array([1])
    assert metrics.hits_at_k(ranks, 2)[0] == 0
    assert metrics.recall_at_k(ranks, one, 3)[0] == 1.0
    assert metrics.precision_at_k(ranks, 5)[0] == pytest.approx(0.2)
    assert metrics.ndcg_at_k(ranks, one, 10)[0] == pytest.approx(1 / math.log2(4))  # 0.5
    assert metrics.mrr_at_k(ranks, 10)[0] == pytest.approx(1 / 3)
    assert metrics.mrr_at_k(ranks, 2)[0] == 0.0


def test_ndcg_with_several_targets() -> None:
    # Targets at positions 0 and 3; 3 relevant in all (one not ranked).
    ranks = np.array([[0.0, 3.0, INF]])
    dcg = 1 / math.log2(2) + 1 / math.log2(5)
    ideal_at_5 = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    ideal_at_2 = 1 + 1 / math.log2(3)
    assert metrics.ndcg_at_k(ranks, np.array([3]), 5)[0] == pytest.approx(dcg / ideal_at_5)
    assert metrics.ndcg_at_k(ranks, np.array([3]), 2)[0] == pytest.approx(1 / ideal_at_2)
    assert metrics.recall_at_k(ranks, np.array([3]), 5)[0] == pytest.approx(2 / 3)


def test_perfect_ranking_scores_one_and_no_targets_scores_zero() -> None:
    ranks = np.array([[0.0, 1.0], [INF, INF]])
    n_rel = np.array([2, 0])
    np.testing.assert_allclose(metrics.ndcg_at_k(ranks, n_rel, 10), [1.0, 0.0])
    np.testing.assert_allclose(metrics.mrr_at_k(ranks, 10), [1.0, 0.0])


def test_auc_counts_pairs_in_the_right_order() -> None:
    # 5 candidates, 2 relevant at positions 1 and 3: negatives at 0, 2, 4.
    # Pairs right: (pos@1 beats 2 and 4) + (pos@3 beats 4) = 3 of 2 * 3 = 6.
    ranks = np.array([[1.0, 3.0]])
    auc = metrics.auc(ranks, np.array([2]), np.array([5.0]))
    assert auc[0] == pytest.approx(0.5)
    top = metrics.auc(np.array([[0.0, 1.0]]), np.array([2]), np.array([5.0]))
    assert top[0] == pytest.approx(1.0)


def test_auc_single_target_matches_rank_formula_and_unranked_is_worst() -> None:
    # 101 candidates, target at position 10: 90 of 100 negatives are below it.
    assert metrics.auc(np.array([[10.0]]), np.array([1]), np.array([101.0]))[0] == 0.9
    assert metrics.auc(np.array([[INF]]), np.array([1]), np.array([101.0]))[0] == 0.0
    assert np.isnan(metrics.auc(np.array([[0.0]]), np.array([1]), np.array([1.0]))[0])


def test_coverage_and_novelty() -> None:
    top = np.array([[0, 1], [1, 2], [2, -1]])
    assert metrics.coverage(top, catalog_size=6) == pytest.approx(0.5)
    probability = np.array([0.5, 0.25, 1.0, 0.0])
    novelty = metrics.novelty(top, probability)
    np.testing.assert_allclose(novelty, [(1 + 2) / 2, (2 + 0) / 2, 0.0])
