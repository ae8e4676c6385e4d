"""Classification metrics with 95% intervals; the intervals come from
:mod:`cinerec.evaluation.bootstrap`, the one statistics core.

Accuracy uses the Wilson score interval; F1 uses a percentile bootstrap over examples. Every
function returns a :class:`~cinerec.evaluation.bootstrap.ConfidenceInterval`.

Example:
    >>> ci = accuracy_ci(np.array([1, 0, 1, 1]), np.array([1, 0, 0, 1]))
    >>> round(ci.mean, 2), ci.low < 0.75 < ci.high
    (0.75, True)
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from cinerec.evaluation.bootstrap import (
    ConfidenceInterval,
    bootstrap_statistic_ci,
    paired_difference_ci,
    proportion_ci,
    wilson_interval,
)

__all__ = [
    "ConfidenceInterval",
    "accuracy_ci",
    "accuracy_difference_ci",
    "estimate_text",
    "micro_f1",
    "micro_f1_ci",
    "wilson_interval",
]


def accuracy_ci(y_true: np.ndarray, y_pred: np.ndarray) -> ConfidenceInterval:
    """Accuracy with its Wilson 95% interval.

    Raises:
        ValueError: the arrays differ in length.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape")
    return proportion_ci(int((y_true == y_pred).sum()), len(y_true))


def micro_f1(true: np.ndarray, pred: np.ndarray) -> float:
    """Micro-averaged F1 of two 0/1 indicator matrices (rows: examples, columns: labels)."""
    tp = float(np.logical_and(true, pred).sum())
    denom = float(true.sum() + pred.sum())
    return 2 * tp / denom if denom else 1.0


def micro_f1_ci(
    true: np.ndarray, pred: np.ndarray, *, resamples: int = 1000, seed: int = 0
) -> ConfidenceInterval:
    """Micro F1 over a multi-label indicator matrix with a bootstrap (over rows) 95% interval."""
    true, pred = np.asarray(true, dtype=bool), np.asarray(pred, dtype=bool)
    tp = np.logical_and(true, pred).sum(axis=1)
    size = true.sum(axis=1) + pred.sum(axis=1)

    def resampled(idx: np.ndarray) -> np.ndarray:
        denom = size[idx].sum(axis=1)
        return np.where(denom > 0, 2 * tp[idx].sum(axis=1) / np.maximum(denom, 1), 1.0)

    return bootstrap_statistic_ci(
        resampled, micro_f1(true, pred), len(true), resamples=resamples, seed=seed
    )


def accuracy_difference_ci(
    y_true: np.ndarray,
    pred_a: np.ndarray,
    pred_b: np.ndarray,
    *,
    resamples: int = 2000,
    seed: int = 0,
) -> ConfidenceInterval:
    """Accuracy of ``pred_a`` minus that of ``pred_b`` on the same examples, with a paired
    bootstrap (over examples) 95% interval.

    >>> y = np.array([1, 0, 1, 1])
    >>> accuracy_difference_ci(y, y, np.array([0, 0, 1, 1])).mean
    0.25
    """
    y_true = np.asarray(y_true)
    hits_a = (np.asarray(pred_a) == y_true).astype(float)
    hits_b = (np.asarray(pred_b) == y_true).astype(float)
    return paired_difference_ci(hits_a, hits_b, resamples=resamples, seed=seed)


def estimate_text(e: Mapping[str, float], digits: int = 4, *, signed: bool = False) -> str:
    """``mean [low, high]`` of a :meth:`ConfidenceInterval.as_dict` record, for reports
    (records stored before the intervals were unified name the point ``value``).

    >>> estimate_text({"mean": 0.01, "low": -0.002, "high": 0.02}, 3, signed=True)
    '+0.010 [-0.002, +0.020]'
    """
    spec = f"{'+' if signed else ''}.{digits}f"
    point = e["mean"] if "mean" in e else e["value"]
    return f"{point:{spec}} [{e['low']:{spec}}, {e['high']:{spec}}]"
