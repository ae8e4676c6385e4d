"""Fingerprints: stable, order-independent, sensitive to content."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cinerec.data.fingerprint import fingerprint_files, fingerprint_interactions
from cinerec.data.types import Interactions
from cinerec.errors import DataError


def _interactions(rows: list[tuple[int, int, float, int]]) -> Interactions:
    return Interactions(pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"]))


ROWS = [(1, 10, 4.0, 100), (1, 11, 3.5, 101), (2, 10, 5.0, 102)]


def test_interactions_stable_value() -> None:
    # A fixed value: changing the byte layout would silently invalidate stored artifacts.
    assert fingerprint_interactions(_interactions(ROWS)) == (
        "63ac98139264712f4cbf29a1f38f3d8474cb2e6d1ccc8e14059ce9c1d266a087"
    )


def test_interactions_order_independent() -> None:
    a = fingerprint_interactions(_interactions(ROWS))
    b = fingerprint_interactions(_interactions(ROWS[::-1]))
    assert a == b


def test_interactions_dtype_independent() -> None:
    frame = pd.DataFrame(ROWS, columns=["user_id", "item_id", "rating", "timestamp"])
    narrow = frame.astype({"user_id": "int32", "item_id": "int32", "rating": "float32"})
    assert fingerprint_interactions(Interactions(frame)) == fingerprint_interactions(
        Interactions(narrow)
    )


@pytest.mark.parametrize(
    "changed",
    [
        [(1, 10, 4.5, 100), *ROWS[1:]],  # rating
        [(1, 12, 4.0, 100), *ROWS[1:]],  # item
        [(1, 10, 4.0, 999), *ROWS[1:]],  # timestamp
        ROWS[:2],  # a row less
        [*ROWS, ROWS[0]],  # a duplicate row
        [(1, 10, 3.5, 100), (1, 11, 4.0, 101), ROWS[2]],  # ratings swapped between rows
    ],
)
def test_interactions_sensitive(changed: list[tuple[int, int, float, int]]) -> None:
    assert fingerprint_interactions(_interactions(changed)) != fingerprint_interactions(
        _interactions(ROWS)
    )


def test_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("1,2\n")
    b.write_text("3,4\n")
    both = fingerprint_files([a, b])
    assert both == fingerprint_files([b, a])
    assert both != fingerprint_files([a])
    other = tmp_path / "other"
    other.mkdir()
    (other / "a.csv").write_text("1,2\n")
    (other / "b.csv").write_text("3,4\n")
    assert fingerprint_files([other / "a.csv", other / "b.csv"]) == both  # directory ignored
    b.write_text("3,5\n")
    assert fingerprint_files([a, b]) != both


def test_files_missing(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nope.csv"):
        fingerprint_files([tmp_path / "nope.csv"])
