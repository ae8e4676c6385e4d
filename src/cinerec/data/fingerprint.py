"""Content fingerprints, stored with every trained artifact to tell which data it saw."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from cinerec.data.types import Interactions
from cinerec.errors import DataError

_VERSION = b"cinerec-interactions-v1\n"
_CHUNK = 1 << 20


def fingerprint_interactions(interactions: Interactions) -> str:
    """sha256 (hex) of the rows ``(user_id, item_id, rating, timestamp)``, whatever their order.

    Rows are sorted before hashing and each column is hashed in a fixed byte layout
    (little-endian int64 / float64), so the value is stable across runs, machines and row
    order; duplicate rows count. Other columns and the vocabularies are not part of it.

    Example:
        >>> import pandas as pd
        >>> a = Interactions(pd.DataFrame({"user_id": [1, 2], "item_id": [5, 6],
        ...                                "rating": [4.0, 3.0], "timestamp": [10, 20]}))
        >>> b = Interactions(a.frame.iloc[::-1])
        >>> fingerprint_interactions(a) == fingerprint_interactions(b)
        True
    """
    frame = interactions.frame
    users = frame["user_id"].to_numpy(dtype="<i8")
    items = frame["item_id"].to_numpy(dtype="<i8")
    ratings = frame["rating"].to_numpy(dtype="<f8") + 0.0  # -0.0 -> 0.0
    stamps = frame["timestamp"].to_numpy(dtype="<i8")
    order = np.lexsort((stamps, ratings, items, users))
    digest = hashlib.sha256(_VERSION)
    digest.update(len(frame).to_bytes(8, "little"))
    for column in (users, items, ratings, stamps):
        digest.update(np.ascontiguousarray(column[order]).tobytes())
    return digest.hexdigest()


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise DataError(f"Cannot read {path} to fingerprint it ({exc}); check the path.") from exc
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    """sha256 (hex) of one file's bytes."""
    return _file_digest(Path(path))


def fingerprint_files(paths: Iterable[Path]) -> str:
    """sha256 (hex) over several files' names and contents, independent of their order.

    Only each file's base name and bytes count, not its directory, so the same files give the
    same fingerprint on any machine.
    """
    entries = sorted(f"{Path(p).name}\0{_file_digest(Path(p))}" for p in paths)
    digest = hashlib.sha256(b"cinerec-files-v1\n")
    for entry in entries:
        digest.update(entry.encode() + b"\n")
    return digest.hexdigest()
