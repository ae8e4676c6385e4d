"""The loaders on the real shared data sets, checked against the counts in the data README."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cinerec.data.catalog import load_catalog
from cinerec.data.download import ARCHIVES, verify_archive
from cinerec.data.fingerprint import fingerprint_interactions
from cinerec.data.movielens import (
    load_links,
    load_ml100k_split,
    load_ml100k_users,
    load_movielens_movies,
    load_ratings,
)
from cinerec.data.paths import resolve_data_dir

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def data_dir(real_data_dir: Path) -> Path:
    """The shared data, found by ``resolve_data_dir()`` (tests run from the repository root)."""
    assert real_data_dir == resolve_data_dir()
    return real_data_dir


def test_ml_latest_small_counts(data_dir: Path) -> None:
    ratings = load_ratings(data_dir)
    assert (len(ratings), len(ratings.users), len(ratings.items)) == (100_836, 610, 9_724)
    assert ratings.frame["rating"].between(0.5, 5.0).all()
    assert len(load_movielens_movies(data_dir)) == 9_742
    links = load_links(data_dir)
    assert len(links) == 9_742 and int(links["tmdb_id"].isna().sum()) == 8
    assert len(fingerprint_interactions(ratings)) == 64


def test_ml100k_counts(data_dir: Path) -> None:
    ratings = load_ratings(data_dir, "ml-100k")
    assert (len(ratings), len(ratings.users), len(ratings.items)) == (100_000, 943, 1_682)
    train, test = load_ml100k_split(data_dir, "ua")
    assert (len(train), len(test)) == (90_570, 9_430)
    assert test.users is train.users
    assert len(load_ml100k_users(data_dir)) == 943
    movies = load_movielens_movies(data_dir, "ml-100k")
    assert len(movies) == 1_682
    assert (movies["title"] == "The Usual Suspects").sum() == 1


def test_catalog(data_dir: Path) -> None:
    start = time.perf_counter()
    catalog = load_catalog(data_dir)
    elapsed = time.perf_counter() - start
    assert len(catalog) == 9_742
    assert elapsed < 30, f"load_catalog took {elapsed:.1f} s"
    by_title = {m.title: m for m in catalog}
    assert by_title["Toy Story"].director == "John Lasseter"
    assert by_title["The Matrix"].year == 1999
    assert sum(1 for m in catalog if m.overview) >= 3_500
    assert sum(1 for m in catalog if m.keywords) >= 8_000
    assert all(0 < len(m.description) <= 1_200 for m in catalog)


def test_shared_files_match_download_checksums(data_dir: Path) -> None:
    for archive in ARCHIVES.values():
        assert verify_archive(archive, data_dir), archive.name
