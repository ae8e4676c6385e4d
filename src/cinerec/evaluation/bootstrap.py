"""Confidence intervals, the one place every interval in cinerec comes from.

:class:`ConfidenceInterval` is the one interval type: a point value with the bounds of its
interval, the level and the number of units. The intervals:

* :func:`bootstrap_ci` - the mean of per-unit values (users, examples) with a percentile
  bootstrap over the units; ``nan`` values (units a metric is undefined for) are left out.
* :func:`paired_difference_ci` - the mean difference of two per-unit arrays over the same units.
* :func:`bootstrap_statistic_ci` - any statistic of resampled units (e.g. micro-F1, which is
  not a mean of per-unit values).
* :func:`wilson_interval` / :func:`proportion_ci` - a proportion, without resampling.

Example:
    >>> ci = bootstrap_ci(np.array([0.0, 1.0] * 50), resamples=500, seed=1)
    >>> ci.mean, ci.low < 0.5 < ci.high
    (0.5, True)
    >>> proportion_ci(9, 10).mean
    0.9
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

_CHUNK = 256
Z95 = 1.959963984540054
"""The standard normal quantile of 0.975 (a two-sided 95% interval)."""


@dataclass(frozen=True, slots=True)
class ConfidenceInterval:
    """A point value (``mean``) with the bounds of its (``level``) interval over ``n`` units."""

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


def _check(level: float, resamples: int) -> None:
    if not 0.0 < level < 1.0 or resamples < 1:
        raise ValueError(f"Need 0 < level < 1 and resamples >= 1 (got {level}, {resamples})")


def resampled_statistic(
    statistic: Callable[[np.ndarray], np.ndarray], n: int, *, resamples: int, seed: int
) -> np.ndarray:
    """``statistic`` of ``resamples`` bootstrap resamples of ``n`` units.

    Args:
        statistic: maps a ``(chunk, n)`` array of unit indices (one resample per row) to the
            ``(chunk,)`` statistic of each resample.
        n: units to resample (with replacement).
        resamples: how many resamples.
        seed: seeds :func:`numpy.random.default_rng`; the draws do not depend on the chunking.

    Returns:
        ``(resamples,)`` statistic values.
    """
    rng = np.random.default_rng(seed)
    out = np.empty(resamples)
    for start in range(0, resamples, _CHUNK):  # chunks keep memory at _CHUNK x n indices
        stop = min(start + _CHUNK, resamples)
        out[start:stop] = statistic(rng.integers(0, n, size=(stop - start, n)))
    return out


def percentile_interval(
    point: float, draws: np.ndarray, *, level: float = 0.95, n: int = 0
) -> ConfidenceInterval:
    """``point`` with the percentile interval of its bootstrap ``draws``."""
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(draws, [tail, 100.0 - tail])
    return ConfidenceInterval(float(point), float(low), float(high), level, n)


def bootstrap_ci(
    values: np.ndarray, *, resamples: int = 1000, level: float = 0.95, seed: int = 0
) -> ConfidenceInterval:
    """Mean of per-unit ``values`` and its bootstrap interval.

    Raises:
        ValueError: ``level`` outside (0, 1) or fewer than one resample.
    """
    _check(level, resamples)
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return ConfidenceInterval(float("nan"), float("nan"), float("nan"), level, 0)
    means = resampled_statistic(
        lambda idx: values[idx].mean(axis=1), len(values), resamples=resamples, seed=seed
    )
    return percentile_interval(values.mean(), means, level=level, n=len(values))


def paired_difference_ci(
    a: np.ndarray, b: np.ndarray, *, resamples: int = 1000, level: float = 0.95, seed: int = 0
) -> ConfidenceInterval:
    """Interval of ``mean(a - b)`` over the same units (both arrays in the same unit order).

    Pairing removes the between-unit variance two models share, so this interval is the one
    to read when asking whether model ``a`` beats model ``b``.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"Paired values need the same users; got shapes {a.shape}, {b.shape}")
    return bootstrap_ci(a - b, resamples=resamples, level=level, seed=seed)


def bootstrap_statistic_ci(
    statistic: Callable[[np.ndarray], np.ndarray],
    point: float,
    n: int,
    *,
    resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> ConfidenceInterval:
    """``point`` with the percentile bootstrap interval of ``statistic`` over ``n`` units.

    ``statistic`` is as in :func:`resampled_statistic`; use this for statistics that are not
    a mean of per-unit values (``bootstrap_ci`` covers those).
    """
    _check(level, resamples)
    draws = resampled_statistic(statistic, n, resamples=resamples, seed=seed)
    return percentile_interval(point, draws, level=level, n=n)


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion; ``(0, 1)`` when ``n == 0``."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def proportion_ci(successes: int, n: int) -> ConfidenceInterval:
    """``successes / n`` with its Wilson 95% interval (``0 [0, 1]`` when ``n == 0``)."""
    low, high = wilson_interval(successes, n)
    return ConfidenceInterval(successes / max(n, 1), low, high, 0.95, n)
