"""Per-user bootstrap confidence intervals (percentile method).

Users are the unit that is resampled: a metric's mean over a resample of the users, repeated
``resamples`` times, gives the interval. ``nan`` values (users a metric is undefined for) are
left out before resampling.

Example:
    >>> ci = bootstrap_ci(np.array([0.0, 1.0] * 50), resamples=500, seed=1)
    >>> ci.mean, ci.low < 0.5 < ci.high
    (0.5, True)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

_CHUNK = 256


@dataclass(frozen=True, slots=True)
class ConfidenceInterval:
    """A mean with the bounds of its (``level``) percentile bootstrap interval."""

    mean: float
    low: float
    high: float
    level: float = 0.95
    n: int = 0

    def as_dict(self) -> dict[str, float]:
        """Plain values for JSON."""
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.mean:.4f} [{self.low:.4f}, {self.high:.4f}]"


def _resampled_means(values: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = len(values)
    means = np.empty(resamples)
    for start in range(0, resamples, _CHUNK):  # chunks keep memory at _CHUNK x n indices
        stop = min(start + _CHUNK, resamples)
        idx = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = values[idx].mean(axis=1)
    return means


def bootstrap_ci(
    values: np.ndarray, *, resamples: int = 1000, level: float = 0.95, seed: int = 0
) -> ConfidenceInterval:
    """Mean of per-user ``values`` and its bootstrap interval.

    Raises:
        ValueError: ``level`` outside (0, 1) or fewer than one resample.
    """
    if not 0.0 < level < 1.0 or resamples < 1:
        raise ValueError(f"Need 0 < level < 1 and resamples >= 1 (got {level}, {resamples})")
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return ConfidenceInterval(float("nan"), float("nan"), float("nan"), level, 0)
    means = _resampled_means(values, resamples, seed)
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return ConfidenceInterval(float(values.mean()), float(low), float(high), level, len(values))


def paired_difference_ci(
    a: np.ndarray, b: np.ndarray, *, resamples: int = 1000, level: float = 0.95, seed: int = 0
) -> ConfidenceInterval:
    """Interval of ``mean(a - b)`` over the same users (both arrays in the same user order).

    Pairing removes the between-user variance two models share, so this interval is the one
    to read when asking whether model ``a`` beats model ``b``.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"Paired values need the same users; got shapes {a.shape}, {b.shape}")
    return bootstrap_ci(a - b, resamples=resamples, level=level, seed=seed)
