"""Tiny synthetic data directories in the shared layout, written by the tests themselves."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import pytest

MOVIES_CSV = """movieId,title,genres
1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy
2,"Matrix, The (1999)",Action|Sci-Fi|Thriller
3,"City of Lost Children, The (Cité des enfants perdus, La) (1995)",Adventure|Drama
4,From Dusk Till Dawn 2: Texas Blood Money (1999) ,Comedy|Crime
5,Hyena Road,(no genres listed)
6,Death Note: Desu nôto (2006–2007),(no genres listed)
7,"Atalante, L' (1934)",Drama
"""
LINKS_CSV = """movieId,imdbId,tmdbId
1,0114709,862
2,0133093,603
3,0112682,902
4,0120933,
5,4180560,336
6,0877057,
7,24848,43904
"""
RATINGS_CSV = """userId,movieId,rating,timestamp
1,1,4.0,964982703
1,2,5.0,964981247
2,1,3.5,1445714994
2,3,0.5,1445714996
3,5,2.0,1500000000
"""

TMDB_HEADER = (
    "budget,genres,homepage,id,keywords,original_language,original_title,overview,popularity,"
    "production_companies,production_countries,release_date,revenue,runtime,spoken_languages,"
    "status,tagline,title,vote_average,vote_count"
)


def _quoted(value: str) -> str:
    """A CSV cell in double quotes, inner quotes doubled."""
    return '"' + value.replace('"', '""') + '"'


def _tmdb_movie_row(
    tmdb_id: int, title: str, overview: str, date: str, genres: list[str], keywords: list[str]
) -> str:
    g = json.dumps([{"id": k, "name": n} for k, n in enumerate(genres)])
    k = json.dumps([{"id": i, "name": n} for i, n in enumerate(keywords)])
    return (
        f"0,{_quoted(g)},,{tmdb_id},{_quoted(k)},en,{_quoted(title)},{_quoted(overview)},1.0,[],[],"
        f"{date},0,90,[],Released,,{_quoted(title)},7.0,10"
    )


def _credits_row(tmdb_id: int, title: str, cast: list[tuple[str, int]], crew: list[dict]) -> str:
    c = json.dumps([{"cast_id": 1, "name": n, "order": o, "id": 1} for n, o in cast])
    w = json.dumps(crew)
    return ",".join([str(tmdb_id), _quoted(title), _quoted(c), _quoted(w)])


def write_ml_latest_small(root: Path) -> Path:
    """ml-latest-small with 7 movies (title edge cases), links and 5 ratings."""
    folder = root / "ml-latest-small"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "movies.csv").write_text(MOVIES_CSV, encoding="utf-8")
    (folder / "links.csv").write_text(LINKS_CSV, encoding="utf-8")
    (folder / "ratings.csv").write_text(RATINGS_CSV, encoding="utf-8")
    return root


def write_tmdb(root: Path) -> Path:
    """TMDB 5000 with three movies (862 Toy Story, 603 The Matrix, 902 without keywords)."""
    folder = root / "tmdb-5000"
    folder.mkdir(parents=True, exist_ok=True)
    rows = [
        TMDB_HEADER,
        _tmdb_movie_row(
            862,
            "Toy Story",
            'Led by Woody, Andy\'s toys live happily. "Buzz" arrives.',
            "1995-10-30",
            ["Animation", "Comedy"],
            ["jealousy", "toy", "toy"],
        ),
        _tmdb_movie_row(
            603, "The Matrix", "Set in the 22nd century.", "1999-03-30", ["Action"], ["hacker"]
        ),
        _tmdb_movie_row(902, "The City of Lost Children", "", "1995-05-16", ["Fantasy"], []),
    ]
    (folder / "tmdb_5000_movies.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    credits = [
        "movie_id,title,cast,crew",
        _credits_row(
            862,
            "Toy Story",
            [("Tim Allen", 1), ("Tom Hanks", 0), ("Don Rickles", 2), ("A", 3), ("B", 4), ("C", 5)],
            [
                {"job": "Producer", "name": "Someone Else", "department": "Production"},
                {"job": "Director", "name": "John Lasseter", "department": "Directing"},
            ],
        ),
        _credits_row(
            603,
            "The Matrix",
            [("Keanu Reeves", 0)],
            [
                {"job": "Director", "name": "Lana Wachowski", "department": "Directing"},
                {"job": "Director", "name": "Lilly Wachowski", "department": "Directing"},
            ],
        ),
        _credits_row(902, "The City of Lost Children", [], []),
    ]
    with gzip.open(folder / "tmdb_5000_credits.csv.gz", "wt", encoding="utf-8") as fh:
        fh.write("\n".join(credits) + "\n")
    return root


def write_movie_keywords(root: Path) -> Path:
    """the-movies-dataset keywords: duplicates, an empty list, a name with a quote."""
    folder = root / "the-movies-dataset"
    folder.mkdir(parents=True, exist_ok=True)
    rows = [
        "id,keywords",
        "902,\"[{'id': 1, 'name': 'dream'}, {'id': 2, 'name': 'circus'}]\"",
        "902,\"[{'id': 1, 'name': 'dream'}, {'id': 2, 'name': 'circus'}]\"",
        "902,\"[{'id': 3, 'name': 'orphan'}]\"",
        '336,"[{\'id\': 4, \'name\': ""children\'s war""}]"',
        "43904,[]",
        "862,\"[{'id': 5, 'name': 'should not be used'}]\"",
    ]
    with zipfile.ZipFile(folder / "keywords.csv.zip", "w") as zf:
        zf.writestr("keywords.csv", "\n".join(rows) + "\n")
    return root


U_ITEM = (
    "1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)"
    "|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
    "267|unknown||||1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
    "1067|Bottle Rocket (1996)|21-Feb-1996||u|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
    "1412|Land Before Time III: The Time of the Great Giving (1995) (V)|01-Jan-1995||u"
    "|0|0|0|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
    "1600|Guantanamera|16-May-1997||u|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
    "1700|Étoile, L' (1995)|01-Jan-1995||u|0|0|0|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0\n"
)


def write_ml100k(root: Path) -> Path:
    """ml-100k with u.data, the ua split, u.user and a latin-1 u.item."""
    folder = root / "ml-100k"
    folder.mkdir(parents=True, exist_ok=True)
    data = [
        "1\t1\t5\t874965758",
        "1\t1067\t3\t876893171",
        "2\t1\t4\t888550871",
        "3\t1412\t1\t889237455",
    ]
    (folder / "u.data").write_text("\n".join(data) + "\n")
    (folder / "ua.base").write_text("\n".join(data[:3]) + "\n")
    (folder / "ua.test").write_text("1\t1412\t2\t874965759\n2\t1067\t5\t888550872\n")
    (folder / "u.user").write_text(
        "1|24|M|technician|85711\n2|53|F|other|94043\n3|23|M|writer|32067\n"
    )
    (folder / "u.item").write_bytes(U_ITEM.encode("latin-1"))
    return root


@pytest.fixture
def small_dir(tmp_path: Path) -> Path:
    """A data directory with synthetic ml-latest-small, TMDB 5000 and keywords files."""
    write_ml_latest_small(tmp_path)
    write_tmdb(tmp_path)
    write_movie_keywords(tmp_path)
    return tmp_path


@pytest.fixture
def ml100k_dir(tmp_path: Path) -> Path:
    """A data directory with synthetic ml-100k files."""
    return write_ml100k(tmp_path)
