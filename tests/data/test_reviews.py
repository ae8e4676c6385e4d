"""Review loaders on tiny synthetic archives, plus one real-data check each (slow)."""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path

import pytest

from cinerec.data.reviews import (
    DROPPED,
    five_level_label,
    load_imdb,
    load_nsmc_raw,
    load_semeval,
    movie_split,
    nsmc_binary,
    nsmc_binary_label,
    parse_semeval,
)
from cinerec.errors import DataError


def _add(tar: tarfile.TarFile, name: str, data: str) -> None:
    raw = data.encode("utf-8")
    info = tarfile.TarInfo(name)
    info.size = len(raw)
    tar.addfile(info, io.BytesIO(raw))


def write_imdb(root: Path, *, with_urls: bool = True) -> Path:
    folder = root / "imdb-aclImdb"
    folder.mkdir(parents=True)
    with tarfile.open(folder / "aclImdb_v1_labeled.tar.gz", "w:gz") as tar:
        _add(tar, "aclImdb/README", "readme")
        for split in ("test", "train"):
            _add(tar, f"aclImdb/{split}/neg/1_2.txt", f"{split} bad<br /><br />film")
            _add(tar, f"aclImdb/{split}/neg/0_1.txt", f"{split} awful")
            _add(tar, f"aclImdb/{split}/pos/0_10.txt", f"{split} great")
            if with_urls:
                urls = "http://www.imdb.com/title/tt0000123/usercomments\n"
                _add(tar, f"aclImdb/{split}/urls_neg.txt", urls + urls.replace("123", "456"))
                _add(tar, f"aclImdb/{split}/urls_pos.txt", urls.replace("123", "789"))
    return root


def test_imdb_joins_reviews_with_their_imdb_ids(tmp_path: Path) -> None:
    frame = load_imdb(write_imdb(tmp_path))
    assert len(frame) == 6
    row = frame[frame.review_id == "test/neg/1"].iloc[0]
    assert (row.label, row.rating, row.imdb_id) == (0, 2, 456)
    assert row.text == "test bad  film"  # <br /> markup replaced by spaces
    assert frame[frame.review_id == "train/pos/0"].iloc[0].imdb_id == 789
    assert set(frame.label) == {0, 1}


def test_imdb_split_and_limit(tmp_path: Path) -> None:
    frame = load_imdb(write_imdb(tmp_path), splits=("train",), limit=1)
    assert set(frame.split) == {"train"}
    assert len(frame) == 2  # one per polarity folder


def test_imdb_without_url_files_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="url files"):
        load_imdb(write_imdb(tmp_path, with_urls=False))


def test_imdb_missing_archive_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="aclImdb_v1_labeled.tar.gz"):
        load_imdb(tmp_path)


def _nsmc_review(rid: int, movie: int, rating: int, text: str = "좋다") -> dict[str, str]:
    return {
        "review": text,
        "date": "15.08.25",
        "rating": str(rating),
        "author": "ab**",
        "review_id": str(rid),
        "movie_id": str(movie),
    }


def write_nsmc(root: Path, movies: dict[int, list[dict[str, str]]]) -> Path:
    folder = root / "nsmc-raw"
    folder.mkdir(parents=True)
    with tarfile.open(folder / "nsmc_raw_crawl.tar.xz", "w:xz") as tar:
        _add(tar, "README.md", "x")
        for movie, reviews in movies.items():
            _add(tar, f"raw/{movie}.json", json.dumps(reviews, ensure_ascii=False))
        _add(tar, "synopses.json", "[]")
    return root


def test_nsmc_labels_and_movie_disjoint_split(tmp_path: Path) -> None:
    movies = {
        10: [_nsmc_review(1, 10, 1), _nsmc_review(2, 10, 10)],
        21: [_nsmc_review(3, 21, 9), _nsmc_review(4, 21, 5)],
        35: [_nsmc_review(5, 35, 4), _nsmc_review(6, 35, 8, "  ")],
    }
    frame = load_nsmc_raw(write_nsmc(tmp_path, movies))
    assert len(frame) == 6
    by_id = frame.set_index("review_id")
    assert by_id.loc[1, "split"] == "test" and by_id.loc[3, "split"] == "validation"
    assert by_id.loc[5, "split"] == "train"
    assert by_id.loc[4, "label"] == DROPPED and by_id.loc[5, "label"] == 0
    assert by_id.loc[2, "label"] == 1 and by_id.loc[2, "label5"] == 4
    binary = nsmc_binary(frame)
    assert sorted(binary.review_id) == [1, 2, 3, 5]
    for split in ("train", "validation", "test"):  # no movie in two splits
        movies_in = set(frame[frame.split == split].movie_id)
        assert all(movie_split(m) == split for m in movies_in)


def test_nsmc_malformed_review_is_a_data_error(tmp_path: Path) -> None:
    bad = [{"review": "x", "rating": "ten", "movie_id": "1", "review_id": "1"}]
    with pytest.raises(DataError, match="malformed review"):
        load_nsmc_raw(write_nsmc(tmp_path, {1: bad}))


@pytest.mark.parametrize(
    ("rating", "binary", "five"),
    [(1, 0, 0), (4, 0, 1), (5, DROPPED, 2), (8, DROPPED, 3), (9, 1, 4), (10, 1, 4)],
)
def test_rating_to_labels(rating: int, binary: int, five: int) -> None:
    assert nsmc_binary_label(rating) == binary
    assert five_level_label(rating) == five


def test_movie_split_rejects_non_numeric_ids() -> None:
    with pytest.raises(DataError, match="not an integer"):
        movie_split("tt12")


SEMEVAL = """ <?xml version="1.0" encoding="UTF-8"?>
<sentences>
  <sentence id="7">
    <text>Great food but the service was slow.</text>
    <aspectTerms>
      <aspectTerm term="food" polarity="positive" from="6" to="10"/>
      <aspectTerm term="service" polarity="negative" from="19" to="26"/>
    </aspectTerms>
    <aspectCategories>
      <aspectCategory category="food" polarity="positive"/>
      <aspectCategory category="service" polarity="negative"/>
    </aspectCategories>
  </sentence>
  <sentence id="8"><text>No opinion here.</text></sentence>
</sentences>
"""


def test_semeval_parses_terms_categories_and_leading_space() -> None:
    sentences = parse_semeval(SEMEVAL.encode())  # starts with a space, like Laptop_Train_v2
    first = sentences[0]
    assert first.categories == {"food": "positive", "service": "negative"}
    term = first.terms[1]
    assert first.text[term.start : term.end] == "service" and term.polarity == "negative"
    assert sentences[1].terms == () and sentences[1].categories == {}


def test_semeval_bad_xml_is_a_data_error() -> None:
    with pytest.raises(DataError, match="not well-formed"):
        parse_semeval(b"<sentences><sentence>")


@pytest.mark.slow
def test_real_imdb_first_reviews(real_data_dir: Path) -> None:
    start = time.perf_counter()
    frame = load_imdb(real_data_dir, splits=("test",), limit=50)
    assert len(frame) == 100 and (frame.imdb_id > 0).all()
    assert frame[frame.review_id == "test/neg/0"].iloc[0].imdb_id == 406816  # urls line 0
    assert time.perf_counter() - start < 30


@pytest.mark.slow
def test_real_nsmc_first_movies(real_data_dir: Path) -> None:
    frame = load_nsmc_raw(real_data_dir, limit_movies=200)
    assert frame.rating.between(1, 10).all() and len(frame) > 1000
    assert (frame.split == frame.movie_id.map(movie_split)).all()


@pytest.mark.slow
def test_real_semeval_counts_match_the_task_paper(real_data_dir: Path) -> None:
    train = load_semeval(real_data_dir)
    test = load_semeval(real_data_dir, part="test")
    assert (len(train), len(test)) == (3041, 800)
    assert sum(len(s.terms) for s in train) == 3693
    # 3,713 category annotations, two of them exact duplicates within a sentence.
    assert sum(len(s.categories) for s in train) == 3711
    assert len(load_semeval(real_data_dir, domain="laptops")) == 3045  # leading-space file
