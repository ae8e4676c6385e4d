"""MovieLens loaders on tiny synthetic files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cinerec.data.movielens import (
    load_links,
    load_ml100k_split,
    load_ml100k_users,
    load_movielens_movies,
    load_ratings,
)
from cinerec.errors import ConfigError, DataError


def test_load_ratings_latest_small(small_dir: Path) -> None:
    ratings = load_ratings(small_dir)
    assert len(ratings) == 5
    assert list(ratings.frame.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert ratings.frame["rating"].dtype == np.float64
    assert ratings.frame["timestamp"].dtype == np.int64
    assert ratings.users.ids.tolist() == [1, 2, 3]
    assert ratings.items.ids.tolist() == [1, 2, 3, 5]
    assert ratings.frame["rating"].min() == 0.5


def test_load_ratings_ml100k(ml100k_dir: Path) -> None:
    ratings = load_ratings(ml100k_dir, "ml-100k")
    assert len(ratings) == 4
    assert ratings.frame.iloc[0].to_dict() == {
        "user_id": 1,
        "item_id": 1,
        "rating": 5.0,
        "timestamp": 874965758,
    }


def test_unknown_dataset(small_dir: Path) -> None:
    with pytest.raises(ConfigError, match="ml-1m"):
        load_ratings(small_dir, "ml-1m")


def test_ml100k_split_shares_vocabularies(ml100k_dir: Path) -> None:
    train, test = load_ml100k_split(ml100k_dir, "ua")
    assert (len(train), len(test)) == (3, 2)
    assert test.users is train.users  # every test user is a training user
    # item 1412 is test-only: appended after the training items, whose indices are unchanged.
    assert test.items.ids.tolist() == [*train.items.ids.tolist(), 1412]
    assert test.items.index(1067) == train.items.index(1067)
    assert test.to_csr().shape == (2, 3)


def test_ml100k_split_name_checked(ml100k_dir: Path) -> None:
    with pytest.raises(ConfigError, match="u9"):
        load_ml100k_split(ml100k_dir, "u9")
    with pytest.raises(DataError, match=r"u1\.base is missing"):
        load_ml100k_split(ml100k_dir, "u1")


def test_ml100k_users(ml100k_dir: Path) -> None:
    users = load_ml100k_users(ml100k_dir)
    assert list(users.columns) == ["user_id", "age", "gender", "occupation"]
    assert users.iloc[1].tolist() == [2, 53, "F", "other"]


def test_latest_small_movies(small_dir: Path) -> None:
    movies = load_movielens_movies(small_dir).set_index("movie_id")
    assert movies.loc[2, "title"] == "The Matrix"
    assert movies.loc[2, "year"] == 1999
    assert movies.loc[2, "genres"] == ("Action", "Sci-Fi", "Thriller")
    assert movies.loc[3, "title"] == "The City of Lost Children (Cité des enfants perdus, La)"
    assert movies.loc[4, "title"] == "From Dusk Till Dawn 2: Texas Blood Money"
    assert movies.loc[5, "genres"] == ()
    assert pd.isna(movies.loc[5, "year"])
    assert movies.loc[6, "year"] == 2006
    assert movies.loc[7, "title"] == "L'Atalante"
    assert str(movies["year"].dtype) == "Int64"


def test_ml100k_movies_latin1_and_flags(ml100k_dir: Path) -> None:
    movies = load_movielens_movies(ml100k_dir, "ml-100k").set_index("movie_id")
    assert movies.loc[1, "genres"] == ("Animation", "Children's", "Comedy")
    assert movies.loc[267, "title"] == "unknown"
    assert movies.loc[267, "genres"] == ()  # the "unknown" flag is not a genre
    assert pd.isna(movies.loc[267, "year"])
    assert movies.loc[1412, "title"] == "Land Before Time III: The Time of the Great Giving"
    assert movies.loc[1600, "year"] == 1997  # from the release date
    assert movies.loc[1700, "title"] == "L'Étoile"


def test_links(small_dir: Path) -> None:
    links = load_links(small_dir).set_index("movie_id")
    assert links.loc[7, "imdb_id"] == "0024848"  # zero-padded
    assert links.loc[1, "tmdb_id"] == 862
    assert pd.isna(links.loc[4, "tmdb_id"])
    assert str(links["tmdb_id"].dtype) == "Int64"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("userId,movieId,rating,timestamp\n", "has no rows"),
        ("user,item,stars\n1,2,3\n", "lacks the columns"),
        ("userId,movieId,rating,timestamp\n1,,4.0,5\n", "malformed values"),
        ("userId,movieId,rating,timestamp\n1,2,4.0,5,9,9\n", "cannot be read"),
    ],
)
def test_bad_ratings_file(small_dir: Path, content: str, message: str) -> None:
    (small_dir / "ml-latest-small" / "ratings.csv").write_text(content)
    with pytest.raises(DataError, match=message) as err:
        load_ratings(small_dir)
    assert "ratings.csv" in str(err.value)
    assert "cinerec ingest --download" in str(err.value)


def test_missing_ratings_file_names_remedy(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="CINEREC_DATA_DIR") as err:
        load_ratings(tmp_path)
    assert "ml-latest-small/ratings.csv" in str(err.value)


def test_bad_u_data(ml100k_dir: Path) -> None:
    (ml100k_dir / "ml-100k" / "u.data").write_text("1\tx\t5\t8\n")
    with pytest.raises(DataError, match=r"u\.data has malformed values"):
        load_ratings(ml100k_dir, "ml-100k")


def test_binary_garbage_is_data_error(small_dir: Path) -> None:
    with gzip.open(small_dir / "ml-latest-small" / "movies.csv", "wb") as fh:
        fh.write(b"\xff\xfe\x00garbage" * 100)
    with pytest.raises(DataError, match=r"movies\.csv"):
        load_movielens_movies(small_dir)
