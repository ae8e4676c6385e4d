"""Interactions from a file of the user's own: CSV, TSV, Parquet, or SASRec-style lines.

Table formats (``csv``, ``tsv``, ``parquet``) need a user and an item column and may have a
timestamp and a rating column; :class:`ColumnMap` names them. ``lines`` is the format of the
SASRec data files: one ``user item`` pair per line, separated by white space, each user's
lines in time order. Without a timestamp, the order of the rows is the time order; without a
rating, every interaction counts once (rating 1.0, implicit feedback).

Item ids must be whole numbers (movie ids when they come from the catalog); user ids may be
any non-empty text and are numbered in order of appearance when they are not whole numbers.
Timestamps may be numbers (Unix seconds) or dates (``2024-05-01``, ISO 8601).

A malformed file raises :class:`~cinerec.errors.DataError` whose one-sentence message names
the line (the row, for Parquet) and the problem; nothing is read partially. Parquet needs the
``parquet`` extra (pyarrow); without it the error names the extra.

Example:
    >>> interactions = load_interactions_file(Path("ratings.csv"))  # doctest: +SKIP
    >>> interactions = load_interactions_file(
    ...     Path("ml-1m.txt"), file_format="lines")  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cinerec.data.types import Interactions
from cinerec.errors import DataError, MissingExtraError

FORMATS = ("csv", "tsv", "parquet", "lines")
_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet", ".pq": "parquet"}
IMPLICIT_RATING = 1.0
"""The rating of an interaction in a file without ratings."""


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Which columns of a table file hold what (``lines`` files have no column names).

    Attributes:
        user: the user id column.
        item: the item (movie) id column.
        time: the timestamp column; None: the file has none (row order is time order).
        rating: the rating column; None: the file has none (every row counts once).
    """

    user: str = "user_id"
    item: str = "item_id"
    time: str | None = "timestamp"
    rating: str | None = "rating"


def detect_format(path: Path) -> str:
    """The format a file name suggests: ``.csv``, ``.tsv``/``.tab``, ``.parquet``/``.pq``,
    anything else ``lines``."""
    return _SUFFIXES.get(path.suffix.lower(), "lines")


def _where(fmt: str, row: int) -> str:
    """Where data row ``row`` (0-based) sits: a line (1-based; tables have a header line)."""
    if fmt == "parquet":
        return f"row {row + 1}"
    return f"line {row + (1 if fmt == 'lines' else 2)}"


def _read_table(path: Path, fmt: str) -> pd.DataFrame:
    try:
        if fmt == "parquet":
            frame = pd.read_parquet(path)
            return frame.astype(str).where(frame.notna(), None)
        sep = "," if fmt == "csv" else "\t"
        return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_values=[])
    except FileNotFoundError:
        raise DataError(f"{path} does not exist; check the path.") from None
    except ImportError:
        raise MissingExtraError(f"Reading {path.name}", "parquet") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{path} is not a readable {fmt.upper()} file ({detail}).") from None


def _read_lines(path: Path) -> pd.DataFrame:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path} does not exist; check the path.") from None
    except UnicodeDecodeError:
        raise DataError(f"{path} is not a UTF-8 text file of 'user item' lines.") from None
    users, items, lines = [], [], []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2:
            raise DataError(
                f"{path}, line {number}: expected 2 fields 'user item', found {len(fields)}."
            )
        users.append(fields[0])
        items.append(fields[1])
        lines.append(number)
    return pd.DataFrame({"user": users, "item": items, "_line": lines})


def _column(frame: pd.DataFrame, name: str, role: str, option: str, path: Path) -> pd.Series:
    if name not in frame.columns:
        found = ", ".join(map(str, frame.columns)) or "none"
        raise DataError(
            f"{path} has no {role} column {name!r} (columns: {found}); name it with {option}."
        )
    return frame[name]


def _first_bad(mask: np.ndarray) -> int | None:
    bad = np.flatnonzero(mask)
    return int(bad[0]) if len(bad) else None


def _whole_numbers(values: pd.Series, role: str, path: Path, where: list[str]) -> np.ndarray:
    text = values.fillna("").astype(str).str.strip()
    numbers = pd.to_numeric(text, errors="coerce")
    bad = _first_bad((numbers.isna() | (numbers % 1 != 0)).to_numpy())
    if bad is not None:
        shown = text.iloc[bad]
        problem = "is empty" if not shown else f"{shown!r} is not a whole number"
        raise DataError(f"{path}, {where[bad]}: the {role} {problem}.")
    return numbers.to_numpy().astype(np.int64)


def _user_ids(values: pd.Series, path: Path, where: list[str]) -> np.ndarray:
    text = values.fillna("").astype(str).str.strip()
    bad = _first_bad((text == "").to_numpy())
    if bad is not None:
        raise DataError(f"{path}, {where[bad]}: the user is empty.")
    numbers = pd.to_numeric(text, errors="coerce")
    if not numbers.isna().any() and bool((numbers % 1 == 0).all()):
        return numbers.to_numpy().astype(np.int64)
    codes, _ = pd.factorize(text)  # text ids: numbered in order of appearance
    return codes.astype(np.int64) + 1


def _ratings(values: pd.Series, path: Path, where: list[str]) -> np.ndarray:
    text = values.fillna("").astype(str).str.strip()
    numbers = pd.to_numeric(text, errors="coerce")
    bad = _first_bad((numbers.isna() | ~np.isfinite(numbers.fillna(np.inf))).to_numpy())
    if bad is not None:
        shown = text.iloc[bad]
        problem = "is empty" if not shown else f"{shown!r} is not a number"
        raise DataError(f"{path}, {where[bad]}: the rating {problem}.")
    return numbers.to_numpy(np.float64)


def _timestamps(values: pd.Series, path: Path, where: list[str]) -> np.ndarray:
    text = values.fillna("").astype(str).str.strip()
    numbers = pd.to_numeric(text, errors="coerce")
    if not numbers.isna().any():
        return numbers.to_numpy().astype(np.int64)
    dates = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
    bad = _first_bad((numbers.isna() & dates.isna()).to_numpy())
    if bad is not None:
        shown = text.iloc[bad]
        problem = "is empty" if not shown else f"{shown!r} is neither a number nor a date"
        raise DataError(f"{path}, {where[bad]}: the timestamp {problem}.")
    epoch = pd.Timestamp("1970-01-01", tz="UTC")
    seconds = ((dates - epoch) // pd.Timedelta(seconds=1)).fillna(0)
    return np.where(numbers.notna(), numbers.fillna(0), seconds).astype(np.int64)


def load_interactions_file(
    path: Path, *, file_format: str | None = None, columns: ColumnMap | None = None
) -> Interactions:
    """Read ``path`` into :class:`~cinerec.data.types.Interactions`.

    Args:
        path: the file.
        file_format: one of :data:`FORMATS`; None: from the file name (:func:`detect_format`).
        columns: the column names of a table file (ignored for ``lines``).

    Raises:
        DataError: the file is missing, unreadable, has no interactions, lacks a named
            column, or a row is malformed (the message names the line and the problem).
        MissingExtraError: a Parquet file without pyarrow (the ``parquet`` extra).
    """
    path = Path(path)
    fmt = file_format or detect_format(path)
    if fmt not in FORMATS:
        raise DataError(f"Unknown format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    columns = columns or ColumnMap()
    if fmt == "lines":
        raw = _read_lines(path)
        where = [f"line {n}" for n in raw["_line"]]
        user_col, item_col, time_col, rating_col = "user", "item", None, None
    else:
        raw = _read_table(path, fmt)
        where = [_where(fmt, row) for row in range(len(raw))]
        user_col, item_col = columns.user, columns.item
        time_col, rating_col = columns.time, columns.rating
    if raw.empty:
        raise DataError(f"{path} holds no interactions.")
    users = _user_ids(_column(raw, user_col, "user", "--user-col", path), path, where)
    items = _whole_numbers(_column(raw, item_col, "item", "--item-col", path), "item", path, where)
    # An absent column under the default name means "none"; a column named by option must exist.
    if time_col is not None and (time_col in raw.columns or time_col != "timestamp"):
        column = _column(raw, time_col, "timestamp", "--time-col", path)
        timestamps = _timestamps(column, path, where)
    else:
        timestamps = np.arange(len(raw), dtype=np.int64)
    if rating_col is not None and (rating_col in raw.columns or rating_col != "rating"):
        ratings = _ratings(_column(raw, rating_col, "rating", "--rating-col", path), path, where)
    else:
        ratings = np.full(len(raw), IMPLICIT_RATING)
    frame = pd.DataFrame(
        {"user_id": users, "item_id": items, "rating": ratings, "timestamp": timestamps}
    )
    return Interactions(frame)
