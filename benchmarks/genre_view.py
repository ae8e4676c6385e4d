"""Genre view: does a review's sentiment score track its rating the same way in every genre?

A sad melodrama can be loved in words that read as negative ("heartbreaking", "devastating").
Given reviews with a model's positive probability (``score``) and the reviewer's own rating,
linked to MovieLens genres, :func:`genre_table` reports per genre the mean rating, the mean
score, their correlation, and the *residual*: the score minus what reviews with the same rating
score on average over all genres. A negative residual means the genre's reviews read more
negative than their ratings say. Intervals are percentile bootstraps over the genre's movies
(reviews of one movie are not independent).

Example:
    >>> reviews = pd.DataFrame({"movie_id": [1, 1, 2, 2], "rating": [9, 2, 9, 2],
    ...                         "score": [0.9, 0.2, 0.6, 0.1]})
    >>> movies = pd.DataFrame({"movie_id": [1, 2], "genres": [("Comedy",), ("Drama",)]})
    >>> t = genre_table(reviews, movies, min_reviews=1, rounds=50)
    >>> t.set_index("genre")["residual"].round(3).to_dict()
    {'Drama': -0.1, 'Comedy': 0.1}
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cinerec.errors import DataError

COLUMNS = [
    "genre",
    "reviews",
    "movies",
    "mean_rating",
    "mean_score",
    "correlation",
    "residual",
    "residual_low",
    "residual_high",
]


def link_reviews(reviews: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """``reviews`` (with an integer ``imdb_id``) with the MovieLens ``movie_id`` of each.

    Reviews whose IMDb id is not in ``links`` (``movie_id``, 7-digit ``imdb_id``) are dropped.
    """
    by_imdb = dict(zip(links["imdb_id"].astype(int), links["movie_id"].astype(int), strict=True))
    out = reviews[reviews["imdb_id"].isin(by_imdb)].copy()
    out["movie_id"] = out["imdb_id"].map(by_imdb).astype(int)
    return out


def _residuals(frame: pd.DataFrame) -> pd.Series:
    expected = frame.groupby("rating")["score"].transform("mean")
    return frame["score"] - expected


def genre_table(
    reviews: pd.DataFrame,
    movies: pd.DataFrame,
    *,
    min_reviews: int = 100,
    rounds: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per genre with at least ``min_reviews`` reviews, most negative residual first.

    Args:
        reviews: ``movie_id``, ``rating`` (the reviewer's) and ``score`` (P(positive)).
        movies: ``movie_id`` and ``genres`` (a tuple of names).
        min_reviews: genres with fewer reviews are left out.
        rounds: bootstrap resamples of the genre's movies.
        seed: bootstrap seed.

    Raises:
        DataError: a column is missing or no review has a genre.
    """
    for name, frame, cols in (
        ("reviews", reviews, ("movie_id", "rating", "score")),
        ("movies", movies, ("movie_id", "genres")),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise DataError(f"The {name} frame lacks columns {missing}.")
    scored = reviews[["movie_id", "rating", "score"]].copy()
    scored["residual"] = _residuals(scored)
    genres = movies[["movie_id", "genres"]].explode("genres").rename(columns={"genres": "genre"})
    genres = genres[genres["genre"].notna() & (genres["genre"] != "(no genres listed)")]
    joined = scored.merge(genres, on="movie_id", how="inner")
    if joined.empty:
        raise DataError("No review is linked to a movie with a genre; check the links.")
    rng = np.random.default_rng(seed)
    rows = []
    for genre, part in joined.groupby("genre"):
        if len(part) < min_reviews:
            continue
        per_movie = part.groupby("movie_id")["residual"].agg(["sum", "count"])
        sums, counts = per_movie["sum"].to_numpy(), per_movie["count"].to_numpy()
        draws = rng.integers(0, len(sums), size=(rounds, len(sums)))
        boot = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
        low, high = np.percentile(boot, [2.5, 97.5])
        corr = part["score"].corr(part["rating"]) if part["rating"].nunique() > 1 else np.nan
        rows.append(
            {
                "genre": genre,
                "reviews": len(part),
                "movies": len(per_movie),
                "mean_rating": float(part["rating"].mean()),
                "mean_score": float(part["score"].mean()),
                "correlation": float(corr),
                "residual": float(part["residual"].mean()),
                "residual_low": float(low),
                "residual_high": float(high),
            }
        )
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table.sort_values("residual").reset_index(drop=True)


def score_by_rating(reviews: pd.DataFrame, movies: pd.DataFrame, genres: list[str]) -> pd.DataFrame:
    """Mean score per (genre, rating) for ``genres``, plus ``all`` over every review."""
    frame = reviews[["movie_id", "rating", "score"]].merge(
        movies[["movie_id", "genres"]].explode("genres"), on="movie_id"
    )
    curves = [reviews.groupby("rating")["score"].mean().rename("all")]
    for genre in genres:
        part = frame[frame["genres"] == genre]
        curves.append(part.groupby("rating")["score"].mean().rename(genre))
    return pd.concat(curves, axis=1).sort_index()


def plot_genre_view(table: pd.DataFrame, curves: pd.DataFrame, path: Path) -> Path:
    """Two panels: residual per genre with its interval; mean score by rating per genre."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5.5))
    y = np.arange(len(table))
    err = np.vstack(
        [table["residual"] - table["residual_low"], table["residual_high"] - table["residual"]]
    )
    colors = ["tab:red" if v < 0 else "tab:blue" for v in table["residual"]]
    left.barh(y, table["residual"], xerr=err, color=colors, alpha=0.8, capsize=2)
    names = [f"{g} ({n})" for g, n in zip(table["genre"], table["reviews"], strict=True)]
    left.set_yticks(y, names)
    left.axvline(0, color="black", linewidth=0.8)
    left.set_xlabel("sentiment score minus the mean score at the same rating")
    left.set_title("Reads more negative (left) or positive (right) than its rating")
    for column in curves.columns:
        style = {"color": "black", "linewidth": 2.5} if column == "all" else {}
        right.plot(curves.index, curves[column], marker="o", label=column, **style)
    right.set_xlabel("reviewer's rating (IMDB: 1-4 negative, 7-10 positive)")
    right.set_ylabel("mean P(positive)")
    right.set_title("Sentiment score by rating")
    right.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
