"""Classification metrics with 95% intervals, kept small and dependency-free (numpy only).

Accuracy uses the Wilson score interval; F1 uses a percentile bootstrap over examples.

Example:
    >>> ci = accuracy_ci(np.array([1, 0, 1, 1]), np.array([1, 0, 0, 1]))
    >>> round(ci.value, 2), ci.low < 0.75 < ci.high
    (0.75, True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np

Z95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class Estimate:
    """A metric value with the bounds of its 95% interval and the number of examples."""

    value: float
    low: float
    high: float
    n: int

    def as_dict(self) -> dict[str, float]:
        """Plain values for JSON."""
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.value:.4f} [{self.low:.4f}, {self.high:.4f}] (n={self.n})"


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion; ``(0, 1)`` when ``n == 0``."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def accuracy_ci(y_true: np.ndarray, y_pred: np.ndarray) -> Estimate:
    """Accuracy with its Wilson 95% interval.

    Raises:
        ValueError: the arrays differ in length.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape")
    hits = int((y_true == y_pred).sum())
    low, high = wilson_interval(hits, len(y_true))
    return Estimate(hits / max(len(y_true), 1), low, high, len(y_true))


def micro_f1(true: np.ndarray, pred: np.ndarray) -> float:
    """Micro-averaged F1 of two 0/1 indicator matrices (rows: examples, columns: labels)."""
    tp = float(np.logical_and(true, pred).sum())
    denom = float(true.sum() + pred.sum())
    return 2 * tp / denom if denom else 1.0


def micro_f1_ci(
    true: np.ndarray, pred: np.ndarray, *, resamples: int = 1000, seed: int = 0
) -> Estimate:
    """Micro F1 over a multi-label indicator matrix with a bootstrap (over rows) 95% interval."""
    true, pred = np.asarray(true, dtype=bool), np.asarray(pred, dtype=bool)
    tp = np.logical_and(true, pred).sum(axis=1)
    size = true.sum(axis=1) + pred.sum(axis=1)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(true), size=(resamples, len(true)))
    denom = size[idx].sum(axis=1)
    scores = np.where(denom > 0, 2 * tp[idx].sum(axis=1) / np.maximum(denom, 1), 1.0)
    low, high = np.quantile(scores, [0.025, 0.975])
    return Estimate(micro_f1(true, pred), float(low), float(high), len(true))


def accuracy_difference_ci(
    y_true: np.ndarray,
    pred_a: np.ndarray,
    pred_b: np.ndarray,
    *,
    resamples: int = 2000,
    seed: int = 0,
) -> Estimate:
    """Accuracy of ``pred_a`` minus that of ``pred_b`` on the same examples, with a paired
    bootstrap (over examples) 95% interval.

    >>> y = np.array([1, 0, 1, 1])
    >>> accuracy_difference_ci(y, y, np.array([0, 0, 1, 1])).value
    0.25
    """
    y_true = np.asarray(y_true)
    hits = (np.asarray(pred_a) == y_true).astype(float) - (np.asarray(pred_b) == y_true)
    rng = np.random.default_rng(seed)
    draws = hits[rng.integers(0, len(hits), size=(resamples, len(hits)))].mean(axis=1)
    low, high = np.quantile(draws, [0.025, 0.975])
    return Estimate(float(hits.mean()), float(low), float(high), len(hits))


def estimate_text(e: Mapping[str, float], digits: int = 4, *, signed: bool = False) -> str:
    """``value [low, high]`` of an :meth:`Estimate.as_dict` record, for reports.

    >>> estimate_text({"value": 0.01, "low": -0.002, "high": 0.02}, 3, signed=True)
    '+0.010 [-0.002, +0.020]'
    """
    spec = f"{'+' if signed else ''}.{digits}f"
    return f"{e['value']:{spec}} [{e['low']:{spec}}, {e['high']:{spec}}]"
