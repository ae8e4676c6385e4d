"""MovieLens loaders: ratings, the ml-100k splits and users, movies and links.

Every loader takes the data directory (see :func:`cinerec.data.paths.resolve_data_dir`) and
returns typed containers or frames with documented columns; bad files raise
:class:`cinerec.errors.DataError`.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from cinerec.data._io import read_table
from cinerec.data.paths import require_file
from cinerec.data.titles import parse_title
from cinerec.data.types import Interactions, Vocabulary
from cinerec.errors import ConfigError

ML_LATEST_SMALL = "ml-latest-small"
ML_100K = "ml-100k"
DATASETS = (ML_LATEST_SMALL, ML_100K)

# The 19 genre flags of u.item, in file order (ml-100k README, u.genre).
ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
    "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
ML100K_SPLITS = ("u1", "u2", "u3", "u4", "u5", "ua", "ub")
_NO_GENRES = frozenset({"(no genres listed)", "unknown", ""})
_RATING_COLUMNS = ["user_id", "item_id", "rating", "timestamp"]
_RATING_DTYPES = {"user_id": "int64", "item_id": "int64", "rating": "float64", "timestamp": "int64"}
_MOVIE_COLUMNS = ["movie_id", "title", "year", "genres"]


def _check_dataset(dataset: str) -> None:
    if dataset not in DATASETS:
        raise ConfigError(f"Unknown MovieLens data set {dataset!r}; use one of {list(DATASETS)}.")


def _read_tab_ratings(path: Path) -> pd.DataFrame:
    frame = read_table(path, sep="\t", header=None, names=_RATING_COLUMNS, dtypes=_RATING_DTYPES)
    return frame.reset_index(drop=True)


def load_ratings(data_dir: Path, dataset: str = ML_LATEST_SMALL) -> Interactions:
    """All ratings of a MovieLens data set as :class:`Interactions`.

    Args:
        data_dir: the data directory.
        dataset: ``"ml-latest-small"`` (``ratings.csv``, 0.5-5 stars) or ``"ml-100k"``
            (``u.data``, tab-separated, 1-5 stars).

    Example:
        >>> ratings = load_ratings(resolve_data_dir())  # doctest: +SKIP
        >>> len(ratings), len(ratings.users), len(ratings.items)  # doctest: +SKIP
        (100836, 610, 9724)
    """
    _check_dataset(dataset)
    if dataset == ML_100K:
        return Interactions(_read_tab_ratings(require_file(data_dir, f"{ML_100K}/u.data")))
    frame = read_table(
        require_file(data_dir, f"{ML_LATEST_SMALL}/ratings.csv"),
        required=["userId", "movieId", "rating", "timestamp"],
        rename={"userId": "user_id", "movieId": "item_id"},
        dtypes=_RATING_DTYPES,
    )
    return Interactions(frame[_RATING_COLUMNS].reset_index(drop=True))


def _extend(vocabulary: Vocabulary, ids: np.ndarray) -> Vocabulary:
    """``vocabulary`` itself when it knows every id, else a copy with the new ids appended."""
    unknown = sorted({int(i) for i in ids} - set(int(i) for i in vocabulary.ids))
    if not unknown:
        return vocabulary
    return Vocabulary([*vocabulary.ids.tolist(), *unknown])


def load_ml100k_split(data_dir: Path, name: str = "ua") -> tuple[Interactions, Interactions]:
    """One of the published ml-100k train/test splits (``u1``-``u5``, ``ua``, ``ub``).

    The test part shares the training part's vocabularies: the very same objects when every
    test user and item occurs in training, otherwise copies with the unseen ids appended after
    the training ids, so that an id has the same matrix index in both parts.

    Returns:
        ``(train, test)`` read from ``<name>.base`` and ``<name>.test``.
    """
    if name not in ML100K_SPLITS:
        raise ConfigError(f"Unknown ml-100k split {name!r}; use one of {list(ML100K_SPLITS)}.")
    train = Interactions(_read_tab_ratings(require_file(data_dir, f"{ML_100K}/{name}.base")))
    test_frame = _read_tab_ratings(require_file(data_dir, f"{ML_100K}/{name}.test"))
    users = _extend(train.users, test_frame["user_id"].unique())
    items = _extend(train.items, test_frame["item_id"].unique())
    return train, Interactions(test_frame, users=users, items=items)


def load_ml100k_users(data_dir: Path) -> pd.DataFrame:
    """ml-100k demographics from ``u.user``: columns ``user_id``, ``age``, ``gender``,
    ``occupation``."""
    frame = read_table(
        require_file(data_dir, f"{ML_100K}/u.user"),
        sep="|",
        header=None,
        names=["user_id", "age", "gender", "occupation", "zip_code"],
        dtype={"gender": str, "occupation": str, "zip_code": str},
        dtypes={"user_id": "int64", "age": "int64"},
    )
    return frame[["user_id", "age", "gender", "occupation"]].reset_index(drop=True)


def _genre_tuple(raw: object) -> tuple[str, ...]:
    if not isinstance(raw, str):
        return ()
    return tuple(g for g in raw.split("|") if g not in _NO_GENRES)


def _movies_frame(
    ids: pd.Series, raw_titles: list[str], genres: list[tuple[str, ...]]
) -> pd.DataFrame:
    parsed = [parse_title(t) for t in raw_titles]
    return pd.DataFrame(
        {
            "movie_id": ids.to_numpy(dtype=np.int64),
            "title": [title for title, _ in parsed],
            "year": pd.array([year for _, year in parsed], dtype="Int64"),
            "genres": genres,
        },
        columns=_MOVIE_COLUMNS,
    )


def load_movielens_movies(data_dir: Path, dataset: str = ML_LATEST_SMALL) -> pd.DataFrame:
    """Movies of a MovieLens data set: ``movie_id``, ``title``, ``year`` (Int64), ``genres``.

    Titles lose the trailing ``(year)`` and get their article back in front
    (``"Matrix, The (1999)"`` -> ``"The Matrix"``); ``genres`` is a tuple, empty for
    ``(no genres listed)`` or ml-100k's ``unknown``. ml-100k's ``u.item`` is read as latin-1;
    its year comes from the title, else from the release date.
    """
    _check_dataset(dataset)
    if dataset == ML_LATEST_SMALL:
        raw = read_table(
            require_file(data_dir, f"{ML_LATEST_SMALL}/movies.csv"),
            required=["movieId", "title", "genres"],
            dtype={"title": str, "genres": str},
            keep_default_na=False,
            dtypes={"movieId": "int64"},
        )
        genres = [_genre_tuple(g) for g in raw["genres"]]
        return _movies_frame(raw["movieId"], raw["title"].tolist(), genres)
    names = ["movie_id", "title", "release_date", "video_release_date", "imdb_url"]
    flags = [f"g{k}" for k in range(len(ML100K_GENRES))]
    raw = read_table(
        require_file(data_dir, f"{ML_100K}/u.item"),
        sep="|",
        header=None,
        names=names + flags,
        encoding="latin-1",
        quoting=csv.QUOTE_NONE,
        dtype={"title": str, "release_date": str},
        keep_default_na=False,
        dtypes={"movie_id": "int64", **{f: "int64" for f in flags}},
    )
    matrix = raw[flags].to_numpy()
    genres = [
        tuple(g for g, on in zip(ML100K_GENRES, row, strict=True) if on and g not in _NO_GENRES)
        for row in matrix
    ]
    frame = _movies_frame(raw["movie_id"], raw["title"].tolist(), genres)
    released = pd.to_numeric(raw["release_date"].str[-4:], errors="coerce").astype("Int64")
    frame["year"] = frame["year"].fillna(released)
    return frame


def load_links(data_dir: Path) -> pd.DataFrame:
    """ml-latest-small ``links.csv``: ``movie_id``, ``imdb_id`` (str, 7-digit zero-padded, no
    ``tt``), ``tmdb_id`` (Int64, missing for a few movies)."""
    frame = read_table(
        require_file(data_dir, f"{ML_LATEST_SMALL}/links.csv"),
        required=["movieId", "imdbId", "tmdbId"],
        dtype={"imdbId": str, "tmdbId": "Int64"},
        rename={"movieId": "movie_id", "imdbId": "imdb_id", "tmdbId": "tmdb_id"},
        dtypes={"movie_id": "int64"},
    )
    frame["imdb_id"] = frame["imdb_id"].str.strip().str.zfill(7)
    return frame[["movie_id", "imdb_id", "tmdb_id"]].reset_index(drop=True)
