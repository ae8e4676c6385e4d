"""load_catalog: the MovieLens + links + TMDB + keywords join on tiny files."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from cinerec.data.catalog import load_catalog
from cinerec.errors import DataError


def test_join(small_dir: Path) -> None:
    catalog = {m.movie_id: m for m in load_catalog(small_dir)}
    assert list(catalog) == [1, 2, 3, 4, 5, 6, 7]
    toy = catalog[1]
    assert toy.title == "Toy Story"
    assert toy.genres == ("Adventure", "Animation", "Children", "Comedy", "Fantasy")  # MovieLens
    assert toy.director == "John Lasseter"
    assert toy.cast[0] == "Tom Hanks"
    assert toy.keywords == ("jealousy", "toy")  # TMDB 5000 wins over The Movies Dataset
    assert toy.tmdb_id == 862 and toy.imdb_id == "0114709"
    assert toy.overview.startswith("Led by Woody")
    assert toy.description.startswith("Toy Story (1995). Genres: Adventure, Animation")
    assert "Directed by John Lasseter." in toy.description
    assert toy.description.endswith('"Buzz" arrives.')

    lost = catalog[3]
    assert lost.keywords == ("dream", "circus", "orphan")  # TMDB 5000 had none
    assert lost.overview == ""

    hyena = catalog[5]  # not in TMDB 5000, keywords from The Movies Dataset
    assert hyena.keywords == ("children's war",)
    assert hyena.director is None and hyena.year is None and hyena.genres == ()

    assert catalog[4].tmdb_id is None  # empty tmdbId
    assert (
        catalog[4].description
        == "From Dusk Till Dawn 2: Texas Blood Money (1999). Genres: Comedy, Crime."
    )
    assert all(m.description for m in catalog.values())
    assert isinstance(catalog[2].year, int)


def test_without_tmdb_sources(small_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    shutil.rmtree(small_dir / "tmdb-5000")
    shutil.rmtree(small_dir / "the-movies-dataset")
    with caplog.at_level(logging.INFO, logger="cinerec.data.catalog"):
        catalog = {m.movie_id: m for m in load_catalog(small_dir)}
    assert len(catalog) == 7
    assert catalog[1].director is None and catalog[1].overview == ""
    assert catalog[1].tmdb_id == 862
    assert "No TMDB 5000 files" in caplog.text


def test_half_present_tmdb_is_an_error(small_dir: Path) -> None:
    (small_dir / "tmdb-5000" / "tmdb_5000_credits.csv.gz").unlink()
    with pytest.raises(DataError, match=r"tmdb_5000_credits\.csv\.gz is missing"):
        load_catalog(small_dir)


def test_ml100k_catalog(ml100k_dir: Path) -> None:
    catalog = load_catalog(ml100k_dir, "ml-100k")
    assert [m.movie_id for m in catalog] == [1, 267, 1067, 1412, 1600, 1700]
    assert catalog[0].description == "Toy Story (1995). Genres: Animation, Children's, Comedy."
    assert catalog[1].year is None and catalog[1].genres == ()
    assert type(catalog[0].year) is int
