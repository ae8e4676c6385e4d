"""TMDB metadata: the Kaggle "TMDB 5000" movies and credits, and "The Movies Dataset" keywords.

Only the fields cinerec uses are parsed (overview, genres, keywords, release year, director,
top-billed cast), which keeps a full load to a couple of seconds.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from cinerec.data._io import REPLACE_HINT, read_table
from cinerec.data.paths import require_file
from cinerec.errors import DataError

TMDB_MOVIES = "tmdb-5000/tmdb_5000_movies.csv"
TMDB_CREDITS = "tmdb-5000/tmdb_5000_credits.csv.gz"
MOVIES_DATASET_KEYWORDS = "the-movies-dataset/keywords.csv.zip"
N_CAST = 5
TMDB_COLUMNS = ["title", "overview", "genres", "keywords", "year", "director", "cast"]


def _parse_list(text: object, path: Path, parse: Any = json.loads) -> list[dict[str, Any]]:
    """A JSON (or Python-literal) list of dicts; blank cells give an empty list."""
    if not isinstance(text, str) or not text.strip():
        return []
    try:
        value = parse(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
        raise DataError(
            f"Data file {path} holds a malformed list ({text[:60]!r}...); {REPLACE_HINT}."
        ) from exc
    if not isinstance(value, list):
        raise DataError(
            f"Data file {path} holds {type(value).__name__}, not a list; {REPLACE_HINT}."
        )
    return [v for v in value if isinstance(v, dict)]


def _names(items: Iterable[dict[str, Any]]) -> tuple[str, ...]:
    """Distinct ``name`` values in order."""
    return tuple(dict.fromkeys(str(i["name"]).strip() for i in items if i.get("name")))


def _directors(crew: list[dict[str, Any]]) -> str | None:
    names = _names(c for c in crew if c.get("job") == "Director")
    return ", ".join(names) if names else None


def _top_cast(cast: list[dict[str, Any]]) -> tuple[str, ...]:
    ordered = sorted(cast, key=lambda c: c.get("order", 1_000_000))
    return _names(ordered)[:N_CAST]


def load_tmdb(data_dir: Path) -> pd.DataFrame:
    """TMDB 5000 movies joined with their credits, indexed by ``tmdb_id``.

    Columns: ``title`` (str), ``overview`` (str, "" when missing), ``genres`` and ``keywords``
    (tuples of names), ``year`` (Int64, from ``release_date``), ``director`` (str or None; several
    directors joined with ", "), ``cast`` (tuple of the first five names by billing order).
    Movies without a credits row get no director and no cast.
    """
    movies_path = require_file(data_dir, TMDB_MOVIES)
    credits_path = require_file(data_dir, TMDB_CREDITS)
    movies = read_table(
        movies_path,
        required=["id", "title", "overview", "genres", "keywords", "release_date"],
        usecols=["id", "title", "overview", "genres", "keywords", "release_date"],
        dtype={"title": str, "overview": str, "genres": str, "keywords": str, "release_date": str},
        keep_default_na=False,
        dtypes={"id": "int64"},
    ).drop_duplicates("id")
    credits = read_table(
        credits_path,
        required=["movie_id", "cast", "crew"],
        usecols=["movie_id", "cast", "crew"],
        dtype={"cast": str, "crew": str},
        keep_default_na=False,
        dtypes={"movie_id": "int64"},
    ).drop_duplicates("movie_id")
    directors = {
        int(i): _directors(_parse_list(crew, credits_path))
        for i, crew in zip(credits["movie_id"], credits["crew"], strict=True)
    }
    casts = {
        int(i): _top_cast(_parse_list(cast, credits_path))
        for i, cast in zip(credits["movie_id"], credits["cast"], strict=True)
    }
    ids = movies["id"].tolist()
    frame = pd.DataFrame(
        {
            "title": movies["title"].str.strip().to_numpy(),
            "overview": movies["overview"].str.strip().to_numpy(),
            "genres": [_names(_parse_list(g, movies_path)) for g in movies["genres"]],
            "keywords": [_names(_parse_list(k, movies_path)) for k in movies["keywords"]],
            "year": pd.to_numeric(movies["release_date"].str[:4], errors="coerce")
            .astype("Int64")
            .array,
            "director": None,
            "cast": [casts.get(i, ()) for i in ids],
        },
        index=pd.Index(ids, name="tmdb_id", dtype="int64"),
        columns=TMDB_COLUMNS,
    )
    # object dtype keeps None for "no director"; pandas' str dtype would turn it into NaN.
    frame["director"] = pd.Series([directors.get(i) for i in ids], index=frame.index, dtype=object)
    return frame


def load_movie_keywords(
    data_dir: Path, tmdb_ids: Collection[int] | None = None
) -> dict[int, tuple[str, ...]]:
    """Keywords per TMDb id from The Movies Dataset's ``keywords.csv.zip``.

    Duplicate rows of one id are merged (distinct names, first-seen order); ids whose list is
    empty are left out. Parsing the Python-literal lists is the slow part (~5 s for all 46k
    rows), so pass ``tmdb_ids`` to parse only the rows you need.
    """
    path = require_file(data_dir, MOVIES_DATASET_KEYWORDS)
    frame = read_table(
        path,
        required=["id", "keywords"],
        dtype={"keywords": str},
        keep_default_na=False,
        dtypes={"id": "int64"},
    )
    frame = frame[frame["keywords"].str.len() > 2]  # "[]" and blanks
    if tmdb_ids is not None:
        frame = frame[frame["id"].isin(list(tmdb_ids))]
    frame = frame.drop_duplicates()
    result: dict[int, tuple[str, ...]] = {}
    for tmdb_id, text in zip(frame["id"].tolist(), frame["keywords"].tolist(), strict=True):
        names = _names(_parse_list(text, path, parse=ast.literal_eval))
        if names:
            result[tmdb_id] = tuple(dict.fromkeys((*result.get(tmdb_id, ()), *names)))
    return result
