"""Genre view: residual sentiment per genre, the link to MovieLens, the plot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks.genre_view import genre_table, link_reviews, plot_genre_view, score_by_rating
from cinerec.errors import DataError


def _reviews(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Dramas' reviews read 0.2 more negative than their ratings; comedies do not."""
    rng = np.random.default_rng(seed)
    rows = []
    for movie_id, sad in ((m, m % 2 == 0) for m in range(1, 41)):
        for _ in range(10):
            rating = int(rng.choice([1, 2, 3, 4, 7, 8, 9, 10]))
            score = (0.85 if rating >= 7 else 0.15) - (0.2 if sad else 0.0)
            rows.append((movie_id, rating, score + rng.normal(0, 0.02)))
    reviews = pd.DataFrame(rows, columns=["movie_id", "rating", "score"])
    movies = pd.DataFrame(
        {
            "movie_id": range(1, 41),
            "genres": [("Drama", "Romance") if m % 2 == 0 else ("Comedy",) for m in range(1, 41)],
        }
    )
    return reviews, movies


def test_a_genre_that_reads_sad_has_a_negative_residual() -> None:
    reviews, movies = _reviews()
    table = genre_table(reviews, movies, min_reviews=50, rounds=200).set_index("genre")
    assert table.loc["Drama", "residual"] == pytest.approx(-0.1, abs=0.02)
    assert table.loc["Comedy", "residual"] == pytest.approx(0.1, abs=0.02)
    assert table.loc["Drama", "residual_high"] < 0 < table.loc["Comedy", "residual_low"]
    assert table.loc["Drama", "movies"] == 20 and table.loc["Drama", "reviews"] == 200
    assert table.loc["Comedy", "correlation"] > 0.9


def test_small_genres_are_left_out_and_bad_frames_refused() -> None:
    reviews, movies = _reviews()
    assert genre_table(reviews, movies, min_reviews=201, rounds=10).empty
    with pytest.raises(DataError, match="lacks columns"):
        genre_table(reviews.drop(columns="score"), movies)
    with pytest.raises(DataError, match="No review is linked"):
        genre_table(reviews.assign(movie_id=999), movies)


def test_link_reviews_maps_imdb_ids_and_drops_the_rest() -> None:
    reviews = pd.DataFrame({"imdb_id": [114709, 42, 113497], "rating": [9, 2, 8]})
    links = pd.DataFrame({"movie_id": [1, 2], "imdb_id": ["0114709", "0113497"]})
    out = link_reviews(reviews, links)
    assert out["movie_id"].tolist() == [1, 2]
    assert out["rating"].tolist() == [9, 8]


def test_plot_is_written(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    reviews, movies = _reviews()
    table = genre_table(reviews, movies, min_reviews=50, rounds=50)
    curves = score_by_rating(reviews, movies, ["Drama", "Comedy"])
    assert list(curves.columns) == ["all", "Drama", "Comedy"]
    assert curves.loc[9, "Drama"] < curves.loc[9, "Comedy"]
    path = plot_genre_view(table, curves, tmp_path / "g.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
