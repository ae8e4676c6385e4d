"""Typed, immutable containers shared by every layer.

External ids (MovieLens ``movieId`` / ``userId``) are what crosses module boundaries; matrix
indices stay inside the module that owns the matrix, translated through a :class:`Vocabulary`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp


@dataclass(frozen=True, slots=True)
class Movie:
    """One catalog entry. ``movie_id`` is the MovieLens id; every other field may be empty."""

    movie_id: int
    title: str
    year: int | None = None
    genres: tuple[str, ...] = ()
    overview: str = ""
    keywords: tuple[str, ...] = ()
    director: str | None = None
    cast: tuple[str, ...] = ()
    tmdb_id: int | None = None
    imdb_id: str | None = None
    description: str = ""

    @property
    def display_title(self) -> str:
        """Title with the year, as shown to users: ``Heat (1995)``."""
        return f"{self.title} ({self.year})" if self.year else self.title

    @property
    def directors(self) -> tuple[str, ...]:
        """The director field split into names: ``"Joel Coen, Ethan Coen"`` -> two names."""
        return tuple(d.strip() for d in (self.director or "").split(",") if d.strip())


@dataclass(frozen=True, slots=True)
class Rated:
    """One watched movie in a user's history; ``rating`` on a 1-5 scale or None (just ticked)."""

    movie_id: int
    rating: float | None = None


class Vocabulary:
    """A bijection between external ids and contiguous matrix indices 0..n-1.

    Example:
        >>> v = Vocabulary([10, 3, 7])
        >>> v.index(3), v.id(2), len(v)
        (1, 7, 3)
    """

    __slots__ = ("_ids", "_index")

    def __init__(self, ids: Iterable[int]) -> None:
        self._ids = np.asarray(list(dict.fromkeys(int(i) for i in ids)), dtype=np.int64)
        self._index = {int(i): k for k, i in enumerate(self._ids)}

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, external_id: object) -> bool:
        return external_id in self._index

    def index(self, external_id: int) -> int:
        """Matrix index of an external id; KeyError when unknown."""
        return self._index[int(external_id)]

    def indices(self, external_ids: Iterable[int], *, skip_unknown: bool = True) -> np.ndarray:
        """Matrix indices of several ids, unknown ones dropped (or KeyError)."""
        out = [
            self._index[int(i)] for i in external_ids if not skip_unknown or int(i) in self._index
        ]
        return np.asarray(out, dtype=np.int64)

    def id(self, index: int) -> int:
        """External id at a matrix index."""
        return int(self._ids[index])

    @property
    def ids(self) -> np.ndarray:
        """All external ids in index order (a copy)."""
        return self._ids.copy()


@dataclass(frozen=True)
class Interactions:
    """User-item interactions with explicit ratings and timestamps.

    ``frame`` has the columns ``user_id``, ``item_id``, ``rating`` (float) and ``timestamp`` (int,
    Unix seconds). Vocabularies are built from the frame unless given (so a test split can share
    the training split's item vocabulary).
    """

    frame: pd.DataFrame
    users: Vocabulary = field(default=None)  # type: ignore[assignment]
    items: Vocabulary = field(default=None)  # type: ignore[assignment]

    REQUIRED = ("user_id", "item_id", "rating", "timestamp")

    def __post_init__(self) -> None:
        missing = [c for c in self.REQUIRED if c not in self.frame.columns]
        if missing:
            raise ValueError(f"Interactions frame lacks columns {missing}")
        if self.users is None:
            object.__setattr__(self, "users", Vocabulary(sorted(self.frame["user_id"].unique())))
        if self.items is None:
            object.__setattr__(self, "items", Vocabulary(sorted(self.frame["item_id"].unique())))

    def __len__(self) -> int:
        return len(self.frame)

    def to_csr(self, *, binary: bool = True, min_rating: float | None = None) -> sp.csr_matrix:
        """users x items matrix; 1.0 per interaction (binary) or the rating itself."""
        df = self.frame
        if min_rating is not None:
            df = df[df["rating"] >= min_rating]
        df = df[df["user_id"].isin(self.users._index) & df["item_id"].isin(self.items._index)]
        rows = df["user_id"].map(self.users._index).to_numpy()
        cols = df["item_id"].map(self.items._index).to_numpy()
        data = np.ones(len(df), dtype=np.float32) if binary else df["rating"].to_numpy(np.float32)
        m = sp.csr_matrix((data, (rows, cols)), shape=(len(self.users), len(self.items)))
        m.sum_duplicates()
        if binary:
            m.data[:] = 1.0
        return m

    def history(self, user_id: int) -> list[Rated]:
        """A user's interactions in time order."""
        df = self.frame[self.frame["user_id"] == user_id].sort_values("timestamp", kind="stable")
        return [Rated(int(i), float(r)) for i, r in zip(df["item_id"], df["rating"], strict=True)]


@dataclass(frozen=True, slots=True)
class ScoredItem:
    """One recommended item: external id and the model's score (higher is better)."""

    movie_id: int
    score: float


def as_history(items: Sequence[Rated] | Sequence[int]) -> list[Rated]:
    """Accept plain ids or :class:`Rated` and return :class:`Rated`."""
    return [i if isinstance(i, Rated) else Rated(int(i)) for i in items]
