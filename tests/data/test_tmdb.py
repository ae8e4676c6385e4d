"""TMDB 5000 and The Movies Dataset keywords on tiny synthetic files."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

from cinerec.data.tmdb import load_movie_keywords, load_tmdb
from cinerec.errors import DataError


def test_load_tmdb_fields(small_dir: Path) -> None:
    tmdb = load_tmdb(small_dir)
    assert tmdb.index.name == "tmdb_id"
    assert sorted(tmdb.index) == [603, 862, 902]
    toy = tmdb.loc[862]
    assert toy["director"] == "John Lasseter"
    assert toy["cast"] == ("Tom Hanks", "Tim Allen", "Don Rickles", "A", "B")  # by order, top 5
    assert toy["keywords"] == ("jealousy", "toy")  # duplicates dropped
    assert toy["genres"] == ("Animation", "Comedy")
    assert toy["year"] == 1995
    assert toy["overview"] == 'Led by Woody, Andy\'s toys live happily. "Buzz" arrives.'
    assert tmdb.loc[603, "director"] == "Lana Wachowski, Lilly Wachowski"
    assert tmdb.loc[902, "director"] is None
    assert tmdb.loc[902, "cast"] == ()
    assert tmdb.loc[902, "overview"] == ""
    assert tmdb.loc[902, "keywords"] == ()


def test_unreadable_credits_gzip(small_dir: Path) -> None:
    (small_dir / "tmdb-5000" / "tmdb_5000_credits.csv.gz").write_bytes(b"not a gzip file at all")
    with pytest.raises(DataError, match=r"tmdb_5000_credits\.csv\.gz cannot be read"):
        load_tmdb(small_dir)


def test_truncated_credits_gzip(small_dir: Path) -> None:
    path = small_dir / "tmdb-5000" / "tmdb_5000_credits.csv.gz"
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(DataError, match=r"tmdb_5000_credits\.csv\.gz"):
        load_tmdb(small_dir)


def test_malformed_json_cell(small_dir: Path) -> None:
    path = small_dir / "tmdb-5000" / "tmdb_5000_credits.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write('movie_id,title,cast,crew\n862,Toy Story,"[{oops",[]\n')
    with pytest.raises(DataError, match="malformed list"):
        load_tmdb(small_dir)


def test_movies_csv_without_overview_column(small_dir: Path) -> None:
    (small_dir / "tmdb-5000" / "tmdb_5000_movies.csv").write_text("id,title\n1,X\n")
    with pytest.raises(DataError, match=r"tmdb_5000_movies\.csv"):
        load_tmdb(small_dir)


def test_missing_tmdb(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"tmdb_5000_movies\.csv is missing"):
        load_tmdb(tmp_path)


def test_movie_keywords_merges_duplicates(small_dir: Path) -> None:
    keywords = load_movie_keywords(small_dir)
    assert keywords[902] == ("dream", "circus", "orphan")
    assert keywords[336] == ("children's war",)
    assert 43904 not in keywords  # empty list


def test_movie_keywords_filtered(small_dir: Path) -> None:
    assert set(load_movie_keywords(small_dir, [336, 1])) == {336}


def test_movie_keywords_bad_zip(small_dir: Path) -> None:
    (small_dir / "the-movies-dataset" / "keywords.csv.zip").write_bytes(b"PK\x03\x04broken")
    with pytest.raises(DataError, match=r"keywords\.csv\.zip"):
        load_movie_keywords(small_dir)


def test_movie_keywords_bad_literal(small_dir: Path) -> None:
    with zipfile.ZipFile(small_dir / "the-movies-dataset" / "keywords.csv.zip", "w") as zf:
        zf.writestr("keywords.csv", "id,keywords\n1,\"[{'id': 1, 'name': __import__('os')}]\"\n")
    with pytest.raises(DataError, match="malformed list"):
        load_movie_keywords(small_dir)
