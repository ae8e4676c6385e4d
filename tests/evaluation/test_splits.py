"""Splits on tiny frames whose right answer is written out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from cinerec.errors import DataError
from cinerec.evaluation.splits import (
    cold_start_split,
    filter_min_counts,
    leave_one_out,
    positive_split,
)


def _frame(rows: list[tuple[int, int, float, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])


def test_filter_iterates_to_a_fixed_point() -> None:
    # min 2 each. Item 9 has one rating -> dropped; then user 3 has one item left -> dropped;
    # then item 8 has one rating left -> dropped; then user 2 drops to one -> dropped.
    rows = [(1, 7, 4, 0), (1, 6, 4, 0), (4, 7, 4, 0), (4, 6, 4, 0),
            (2, 7, 4, 0), (2, 8, 4, 0), (3, 8, 4, 0), (3, 9, 4, 0)]  # fmt: skip
    kept = filter_min_counts(_frame(rows), min_user=2, min_item=2)
    assert sorted(kept["user_id"].unique()) == [1, 4]
    assert sorted(kept["item_id"].unique()) == [6, 7]
    # A single pass (items, then users) would have kept user 2 with items 7 and 8.


def test_leave_one_out_orders_by_time_then_item() -> None:
    rows = [(1, 30, 5, 300), (1, 10, 3, 100), (1, 22, 4, 200), (1, 21, 4, 200),
            (2, 5, 1, 10), (2, 6, 1, 20), (2, 7, 1, 30)]  # fmt: skip
    split = leave_one_out(_frame(rows))
    assert split.train[split.train.user_id == 1]["item_id"].tolist() == [10, 21]
    assert dict(zip(split.validation.user_id, split.validation.item_id, strict=True)) == {
        1: 22,
        2: 6,
    }
    assert dict(zip(split.test.user_id, split.test.item_id, strict=True)) == {1: 30, 2: 7}
    assert len(split.full) == 7


def test_leave_one_out_rejects_short_users() -> None:
    with pytest.raises(DataError, match="fewer than 3"):
        leave_one_out(_frame([(1, 1, 4, 0), (1, 2, 4, 1)]))


def test_positive_split_keeps_ratings_at_threshold() -> None:
    train, test = positive_split(
        _frame([(1, 1, 4.0, 0), (1, 2, 3.5, 0)]), _frame([(1, 3, 5.0, 0), (1, 4, 1.0, 0)])
    )
    assert train["item_id"].tolist() == [1] and test["item_id"].tolist() == [3]


def test_cold_start_holds_out_whole_users() -> None:
    rows = [(u, i, 4.0, 100 * u + (20 - i)) for u in range(1, 21) for i in range(12)]
    split = cold_start_split(_frame(rows), holdout_fraction=0.25, min_items=10, seed=1)
    held = set(split.held_out["user_id"])
    assert len(held) == 5 and not held & set(split.train["user_id"])
    known, rest = split.known_and_targets(3)[min(held)]
    assert known["item_id"].tolist() == [11, 10, 9]  # earliest three by time
    assert len(rest) == 9
