"""The user's own interaction files: every format, the column mapping, malformed lines."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cinerec.data.interactions_file import (
    IMPLICIT_RATING,
    ColumnMap,
    detect_format,
    load_interactions_file,
)
from cinerec.errors import DataError

ROWS = [(1, 10, 4.0, 100), (1, 20, 3.5, 200), (2, 10, 5.0, 150)]


def _frame() -> pd.DataFrame:
    return pd.DataFrame(ROWS, columns=["user_id", "item_id", "rating", "timestamp"])


def _check(frame: pd.DataFrame) -> None:
    assert frame[["user_id", "item_id"]].to_numpy().tolist() == [[1, 10], [1, 20], [2, 10]]
    assert frame["rating"].tolist() == [4.0, 3.5, 5.0]
    assert frame["timestamp"].tolist() == [100, 200, 150]


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet"])
def test_table_formats_with_default_columns(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"ratings{suffix}"
    if suffix == ".parquet":
        _frame().to_parquet(path)
    else:
        _frame().to_csv(path, sep="," if suffix == ".csv" else "\t", index=False)
    assert detect_format(path) == suffix[1:]
    _check(load_interactions_file(path).frame)


def test_column_mapping_and_iso_dates(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(
        "who,what,stars,when\nann,10,4,2024-01-01\nann,20,3.5,2024-01-02\nbob,10,5,2024-01-01\n"
    )
    columns = ColumnMap(user="who", item="what", rating="stars", time="when")
    frame = load_interactions_file(path, columns=columns).frame
    assert frame["user_id"].tolist() == [1, 1, 2]  # text user ids numbered by appearance
    assert frame["item_id"].tolist() == [10, 20, 10]
    assert frame["rating"].tolist() == [4.0, 3.5, 5.0]
    assert frame["timestamp"].tolist() == [1704067200, 1704153600, 1704067200]


def test_no_time_or_rating_columns_mean_row_order_and_implicit(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("user_id,item_id\n5,3\n5,1\n6,3\n")
    frame = load_interactions_file(path).frame
    assert frame["timestamp"].tolist() == [0, 1, 2]
    assert (frame["rating"] == IMPLICIT_RATING).all()


def test_sasrec_style_lines(tmp_path: Path) -> None:
    path = tmp_path / "ml-1m.txt"
    path.write_text("1 10\n1  20\n\n2\t10\n")
    assert detect_format(path) == "lines"
    frame = load_interactions_file(path).frame
    assert frame[["user_id", "item_id"]].to_numpy().tolist() == [[1, 10], [1, 20], [2, 10]]
    assert np.diff(frame["timestamp"]).min() > 0  # file order is time order


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.csv", "user_id,item_id\n1,10\n1,ten\n", "line 3: the item 'ten' is not a whole"),
        ("bad.csv", "user_id,item_id\n1,10\n,11\n", "line 3: the user is empty"),
        ("bad.csv", "user_id,item_id,rating\n1,10,4\n1,11,x\n", "line 3: the rating 'x' is not"),
        ("bad.csv", "user_id,item_id,timestamp\n1,10,5\n1,11,soon\n", "line 3: the timestamp"),
        ("bad.tsv", "user_id\titem_id\n1\t2.5\n", "line 2: the item '2.5' is not a whole"),
        ("bad.txt", "1 10\n1 11 12\n", "line 2: expected 2 fields 'user item', found 3"),
        ("bad.csv", "user,item_id\n1,10\n", "no user column 'user_id' (columns: user, item_id)"),
        ("bad.csv", "user_id,item_id\n", "holds no interactions"),
    ],
)
def test_malformed_file_names_the_line_and_the_problem(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(DataError, match=re.escape(message)) as info:
        load_interactions_file(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_a_named_column_that_is_missing_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("user_id,item_id\n1,10\n")
    with pytest.raises(DataError, match="--rating-col"):
        load_interactions_file(path, columns=ColumnMap(rating="stars"))


def test_missing_file_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_interactions_file(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="Unknown format 'xlsx'"):
        load_interactions_file(tmp_path / "nope.csv", file_format="xlsx")


def test_parquet_without_pyarrow_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from cinerec.errors import MissingExtraError

    path = tmp_path / "r.parquet"
    _frame().to_parquet(path)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(MissingExtraError, match=re.escape("pip install -e '.[parquet]'")):
        load_interactions_file(path)
