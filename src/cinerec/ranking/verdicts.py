"""Review verdicts per movie for the learned ranker: the IMDB reviewers' own judgement.

IMDB's labelled reviews (:func:`cinerec.data.reviews.load_imdb`) carry each reviewer's stars
(1-4 negative, 7-10 positive) and the IMDb id of the movie; the catalog has the IMDb ids from
MovieLens' ``links.csv``. :func:`review_verdicts` gives, per catalog movie with reviews, the
number of reviews, the share positive and the mean stars: the same verdict the review summaries
(:mod:`cinerec.services.reviews`) show on the cards, without their aspect models.

Example:
    >>> import pandas as pd
    >>> reviews = pd.DataFrame({"imdb_id": [114709, 114709, 1], "label": [1, 0, 1],
    ...                         "rating": [9, 3, 8]})
    >>> review_verdicts([Movie(1, "Toy Story", imdb_id="0114709")], reviews)
    {1: (2.0, 0.5, 6.0)}
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from cinerec.data.types import Movie


def review_verdicts(
    catalog: Sequence[Movie], reviews: pd.DataFrame
) -> dict[int, tuple[float, float, float]]:
    """movie id -> (reviews, share positive, mean stars) for catalog movies with reviews.

    Args:
        catalog: the movies (their ``imdb_id``, digits with or without ``tt``).
        reviews: rows with ``imdb_id`` (int), ``label`` (1 positive) and ``rating`` (stars).
    """
    by_imdb: dict[int, int] = {}
    for movie in catalog:
        raw = str(movie.imdb_id or "").strip().removeprefix("tt")
        if raw.isdigit():
            by_imdb[int(raw)] = movie.movie_id
    known = reviews[reviews["imdb_id"].isin(list(by_imdb))]
    stats = known.groupby("imdb_id").agg(
        n=("label", "size"), positive=("label", "mean"), stars=("rating", "mean")
    )
    return {
        by_imdb[int(imdb)]: (float(row["n"]), round(float(row["positive"]), 4), float(row["stars"]))
        for imdb, row in stats.iterrows()
    }


def load_review_verdicts(
    data_dir: Path, catalog: Sequence[Movie]
) -> dict[int, tuple[float, float, float]]:
    """:func:`review_verdicts` of the IMDB archive under ``data_dir`` (both splits)."""
    from cinerec.data.reviews import load_imdb

    return review_verdicts(catalog, load_imdb(data_dir))
