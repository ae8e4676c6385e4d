"""Bootstrap intervals: degenerate cases exactly, coverage of a known mean approximately."""

from __future__ import annotations

import numpy as np
import pytest

from cinerec.evaluation.bootstrap import bootstrap_ci, paired_difference_ci


def test_constant_values_give_a_point_interval() -> None:
    ci = bootstrap_ci(np.full(50, 0.25), resamples=200)
    assert (ci.mean, ci.low, ci.high, ci.n) == (0.25, 0.25, 0.25, 50)


def test_interval_brackets_the_mean_and_shrinks_with_more_users() -> None:
    rng = np.random.default_rng(3)
    small = bootstrap_ci(rng.binomial(1, 0.1, 100).astype(float), resamples=2000, seed=1)
    large = bootstrap_ci(rng.binomial(1, 0.1, 10_000).astype(float), resamples=2000, seed=1)
    assert small.low < small.mean < small.high
    assert (large.high - large.low) < (small.high - small.low) / 5
    # Normal approximation for 10,000 Bernoulli(0.1): half-width 1.96 * 0.003 = 0.0059.
    assert (large.high - large.low) / 2 == pytest.approx(0.0059, rel=0.15)


def test_nan_values_are_left_out_and_seed_makes_it_reproducible() -> None:
    values = np.array([1.0, np.nan, 0.0, 1.0])
    ci = bootstrap_ci(values, resamples=300, seed=5)
    assert ci.n == 3 and ci.mean == pytest.approx(2 / 3)
    assert ci == bootstrap_ci(values, resamples=300, seed=5)


def test_paired_difference_removes_shared_user_variance() -> None:
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 1, 500)
    better = base + 0.01
    unpaired_width = bootstrap_ci(better, seed=1).high - bootstrap_ci(better, seed=1).low
    paired = paired_difference_ci(better, base, seed=1)
    assert paired.mean == pytest.approx(0.01)
    assert paired.high - paired.low < unpaired_width / 100
    with pytest.raises(ValueError, match="same users"):
        paired_difference_ci(base, base[:-1])


def test_bad_level_rejected() -> None:
    with pytest.raises(ValueError, match="level"):
        bootstrap_ci(np.ones(3), level=1.5)
