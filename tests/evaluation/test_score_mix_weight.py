"""Fitting the weight of a model score mixed into the retriever's order."""

from __future__ import annotations

import numpy as np
import pytest

from cinerec.evaluation.score_mix_weight import MixRow, fit_mix_weight


def _rows(informative: bool, n_rows: int = 40, seed: int = 0) -> list[MixRow]:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n_rows):
        target = int(rng.integers(5, 20))  # the retriever ranks the target low
        scores = rng.normal(size=20)
        scores[target] += 3.0 if informative else -3.0
        rows.append(MixRow(tuple(scores), (target,)))
    return rows


def test_fit_picks_a_positive_weight_when_the_model_helps() -> None:
    fit = fit_mix_weight(_rows(informative=True))
    assert fit.weight > 0 and fit.gain > 0
    assert fit.table[fit.weight] == max(fit.table.values())
    assert 0.0 in fit.table and fit.metric == "ndcg@10" and fit.n_rows == 40


def test_fit_keeps_the_retriever_when_the_gain_is_noise() -> None:
    # One validation row gains, nine lose nothing: the best weight helps on average, but the
    # paired bootstrap interval of its gain reaches 0, so the retriever is kept.
    rows = [MixRow((0.0,) * 19 + (5.0,), (19,))] + [
        MixRow(tuple(float(i == 0) for i in range(20)), (0,)) for _ in range(9)
    ]
    fit = fit_mix_weight(rows)
    assert fit.best > 0 and fit.table[fit.best] > fit.table[0.0]
    assert fit.best_gain_ci95[0] <= 0 < fit.best_gain_ci95[1]
    assert fit.weight == 0.0 and fit.gain == 0.0
    assert fit_mix_weight(rows, significant=False).weight == fit.best


def test_fit_keeps_the_retriever_when_the_model_hurts() -> None:
    fit = fit_mix_weight(_rows(informative=False), grid=(0.5, 1.0, 5.0))
    assert fit.weight == 0.0 and fit.gain == 0.0
    assert set(fit.table) == {0.0, 0.5, 1.0, 5.0}
    assert fit_mix_weight([]).weight == 0.0
    with pytest.raises(ValueError, match=">= 0"):
        fit_mix_weight(_rows(True), grid=(-1.0,))
