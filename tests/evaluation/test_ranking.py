"""Ranking cases with a scripted model, checked against positions worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from cinerec.data.types import Rated, Vocabulary
from cinerec.evaluation.protocols import EvalCase
from cinerec.evaluation.ranking import catalog_coverage, per_user_metrics, rank_cases

from .conftest import FeatureScriptedRecommender, ScriptedRecommender

CATALOG = Vocabulary([1, 2, 3, 4, 5, 6])


def test_history_is_skipped_and_positions_are_after_it() -> None:
    model = ScriptedRecommender([6, 5, 4, 3, 2, 1, 99])  # 99: not in the catalog
    cases = [
        EvalCase(1, (Rated(6), Rated(5)), (3,)),  # ranking 4, 3, 2, 1 -> target at 1
        EvalCase(2, (), (1, 6)),  # ranking 6..1 -> targets at 0 and 5
    ]
    result = rank_cases(model, cases, CATALOG, max_k=3)
    np.testing.assert_array_equal(result.ranks[0], [1.0, np.inf])
    np.testing.assert_array_equal(result.ranks[1], [0.0, 5.0])
    np.testing.assert_array_equal(result.n_candidates, [4, 6])
    np.testing.assert_array_equal(result.top_items[0], [3, 2, 1])  # catalog indices of 4,3,2
    assert (result.seconds >= 0).all()

    scores = per_user_metrics(result, np.full(6, 0.5), ks=(1, 2))
    np.testing.assert_allclose(scores["recall@2"], [1.0, 0.5])
    np.testing.assert_allclose(scores["mrr@2"], [0.5, 1.0])
    np.testing.assert_allclose(scores["precision@1"], [0.0, 1.0])
    # user 1: 3 negatives, target at 1 -> 2 of 3 below; user 2: pairs (1:4, 6:0) of 8.
    np.testing.assert_allclose(scores["auc"], [2 / 3, 0.5])
    np.testing.assert_allclose(scores["novelty@2"], [1.0, 1.0])


def test_unknown_target_never_counts_as_a_hit() -> None:
    model = ScriptedRecommender([1, 2, 3])  # knows only three items
    result = rank_cases(model, [EvalCase(1, (), (5,))], CATALOG)
    scores = per_user_metrics(result, np.ones(6), ks=(5,))
    assert scores["recall@5"][0] == 0.0 and scores["auc"][0] == 0.0


def test_coverage_counts_distinct_items_in_top_k() -> None:
    model = ScriptedRecommender([1, 2, 3, 4, 5, 6])
    cases = [EvalCase(1, (), (1,)), EvalCase(2, (Rated(1),), (2,))]
    cov = catalog_coverage(rank_cases(model, cases, CATALOG), len(CATALOG), ks=(1, 2))
    assert cov == {"coverage@1": pytest.approx(2 / 6), "coverage@2": pytest.approx(3 / 6)}


def test_feature_aware_model_is_asked_with_each_cases_features() -> None:
    model = FeatureScriptedRecommender([6, 5, 4, 3, 2, 1])
    cases = [EvalCase(1, (), (6,), {"age": 30}), EvalCase(2, (Rated(6),), (5,))]
    result = rank_cases(model, cases, CATALOG)
    assert model.asked_with == [{"age": 30}, {}]
    np.testing.assert_array_equal(result.ranks[:, 0], [0.0, 0.0])  # same ranking as recommend
