"""The Yes/No mix of the newviewer run: it re-orders the ranker's top only, and a fallback or
a zero weight leaves the order alone."""

from __future__ import annotations

import numpy as np

from cinerec.evaluation.newviewer_run import _with_yesno


def test_yes_no_reorders_the_top_and_keeps_it_above_the_rest() -> None:
    scores = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    top = np.array([0, 1, 2])
    out = _with_yesno(scores, top, np.array([-3.0, 0.0, 9.0]), weight=2.0)
    assert np.argmax(out) == 2
    assert out[top].min() > out[[3, 4]].max()
    assert out[3] == 2.0 and out[4] == 1.0


def test_a_fallback_or_zero_weight_changes_nothing() -> None:
    scores = np.array([3.0, 2.0, 1.0])
    top = np.array([0, 1])
    assert _with_yesno(scores, top, None, 1.0) is scores
    assert np.array_equal(_with_yesno(scores, top, np.array([0.0, 5.0]), 0.0), scores)
