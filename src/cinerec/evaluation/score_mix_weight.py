"""The weight of a model score mixed into the retriever's order, fitted on validation viewers.

:func:`fit_mix_weight` picks ``w`` for :func:`cinerec.llm.ranking.score_mix.mix_scores` from a
grid that includes 0 by NDCG@10, and keeps ``w = 0`` (the retriever) unless the best weight's
gain is significant (a paired bootstrap 95% interval above 0).

Example:
    >>> fit_mix_weight([MixRow((0.0, 0.0, 5.0), (2,))] * 3, significant=False).weight > 0
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from cinerec.evaluation.bootstrap import paired_difference_ci
from cinerec.evaluation.metrics import ndcg_of_ranking
from cinerec.llm.ranking.score_mix import mix_order

DEFAULT_GRID = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


@dataclass(frozen=True, slots=True)
class MixRow:
    """One validation viewer: model scores of the candidates in retriever order, and the
    positions (in that order) of the items the viewer really watched next."""

    model_scores: tuple[float, ...]
    target_positions: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class MixFit:
    """The chosen weight and the validation metric of every weight tried."""

    weight: float
    metric: str
    table: dict[float, float] = field(default_factory=dict)
    n_rows: int = 0
    best: float = 0.0
    best_gain_ci95: tuple[float, float] = (0.0, 0.0)

    @property
    def gain(self) -> float:
        """Validation metric at the chosen weight minus the retriever's (``w = 0``)."""
        return self.table[self.weight] - self.table[0.0]


def fit_mix_weight(
    rows: Sequence[MixRow],
    *,
    grid: Sequence[float] = DEFAULT_GRID,
    k: int = 10,
    significant: bool = True,
    resamples: int = 2000,
    seed: int = 0,
) -> MixFit:
    """Pick ``w`` from ``grid`` (0 is always tried) by mean NDCG@k over ``rows``.

    Ties go to the smaller weight, so ``w = 0`` (the retriever) wins unless the model helps.
    With ``significant`` (the default) the best weight is kept only when the paired bootstrap
    95% interval of its per-row gain over ``w = 0`` lies above 0; otherwise ``w = 0``. Rows whose
    targets are not among the candidates score 0 for every weight and do not change the choice.

    Raises:
        ValueError: a negative or non-finite weight in ``grid``.
    """
    weights = sorted({0.0, *(float(w) for w in grid)})
    if any(w < 0 or not math.isfinite(w) for w in weights):
        raise ValueError(f"Blend weights must be finite and >= 0, got {list(grid)}")
    per_row: dict[float, np.ndarray] = {}
    for w in weights:
        per_row[w] = np.array(
            [ndcg_of_ranking(mix_order(r.model_scores, w), r.target_positions, k) for r in rows]
        )
    table = {w: float(v.mean()) if v.size else 0.0 for w, v in per_row.items()}
    best = max(weights, key=lambda w: (round(table[w], 12), -w))
    interval = (0.0, 0.0)
    if best > 0:  # a positive best weight means some row, so the interval is defined
        ci = paired_difference_ci(per_row[best], per_row[0.0], resamples=resamples, seed=seed)
        interval = (ci.low, ci.high)
    chosen = best if not significant or interval[0] > 0 else 0.0
    return MixFit(
        weight=chosen,
        metric=f"ndcg@{k}",
        table=table,
        n_rows=len(rows),
        best=best,
        best_gain_ci95=interval,
    )
