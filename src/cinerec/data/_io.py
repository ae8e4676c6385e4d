"""Reading tabular files, turning every way a file can be bad into one :class:`DataError`."""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from cinerec.errors import DataError

# What a user can do about a corrupt file that came from the shared set or the downloader.
REPLACE_HINT = (
    "delete it and run `cinerec ingest --download`, or point CINEREC_DATA_DIR at a good copy"
)


def read_table(
    path: Path,
    *,
    required: Sequence[str] = (),
    rename: Mapping[str, str] | None = None,
    dtypes: Mapping[str, Any] | None = None,
    allow_empty: bool = False,
    **read_csv: Any,
) -> pd.DataFrame:
    """``pd.read_csv`` that raises :class:`DataError` for unreadable, empty or malformed files.

    Args:
        path: the file (``.csv``, ``.gz`` and ``.zip`` are decompressed by pandas).
        required: columns that must be present (after ``names=`` when given).
        rename: columns renamed after the check, before ``dtypes`` is applied.
        dtypes: columns converted with ``astype`` after reading; a failed conversion (a blank or
            non-numeric id, say) is reported as a malformed file.
        allow_empty: accept a file with a header but no rows.
        **read_csv: passed to :func:`pandas.read_csv`.
    """
    read_csv.setdefault("index_col", False)  # a row with extra fields is an error, not an index
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(path, **read_csv)
    except FileNotFoundError as exc:
        raise DataError(f"Data file {path} is missing; {REPLACE_HINT}.") from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"Data file {path} is empty; {REPLACE_HINT}.") from exc
    except (
        pd.errors.ParserError,
        pd.errors.ParserWarning,
        UnicodeDecodeError,
        zipfile.BadZipFile,
        EOFError,
        OSError,
        ValueError,
    ) as exc:
        raise DataError(f"Data file {path} cannot be read ({exc}); {REPLACE_HINT}.") from exc
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(
            f"Data file {path} lacks the columns {missing} (found {list(frame.columns)}); "
            f"{REPLACE_HINT}."
        )
    if not allow_empty and frame.empty:
        raise DataError(f"Data file {path} has no rows; {REPLACE_HINT}.")
    if rename:
        frame = frame.rename(columns=dict(rename))
    return coerce(frame, path, dtypes) if dtypes else frame


def coerce(frame: pd.DataFrame, path: Path, dtypes: Mapping[str, Any]) -> pd.DataFrame:
    """``frame.astype(dtypes)``, reporting a failed conversion as a malformed ``path``."""
    try:
        return frame.astype(dict(dtypes))
    except (ValueError, TypeError, OverflowError) as exc:
        raise DataError(f"Data file {path} has malformed values ({exc}); {REPLACE_HINT}.") from exc
