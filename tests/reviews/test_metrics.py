from __future__ import annotations

import numpy as np
import pytest

from cinerec.reviews.metrics import accuracy_ci, micro_f1, micro_f1_ci, wilson_interval


def test_wilson_interval_brackets_the_proportion_and_narrows_with_n() -> None:
    low, high = wilson_interval(90, 100)
    assert low < 0.9 < high
    low2, high2 = wilson_interval(9000, 10000)
    assert high2 - low2 < high - low
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_accuracy_ci() -> None:
    est = accuracy_ci(np.array([1, 1, 0, 0]), np.array([1, 0, 0, 0]))
    assert est.mean == 0.75 and est.n == 4 and est.low < 0.75 < est.high
    with pytest.raises(ValueError):
        accuracy_ci(np.array([1]), np.array([1, 0]))


def test_micro_f1_and_its_interval() -> None:
    true = np.array([[1, 0], [0, 1], [1, 1], [0, 1]])
    pred = np.array([[1, 0], [1, 1], [1, 0], [0, 1]])
    # tp = 4, |true| = 5, |pred| = 5 -> 0.8
    assert micro_f1(true, pred) == pytest.approx(0.8)
    est = micro_f1_ci(true, pred, resamples=200)
    assert est.mean == pytest.approx(0.8) and est.low <= 0.8 <= est.high
