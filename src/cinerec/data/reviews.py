"""Review corpora: IMDB large movie reviews, the raw Naver crawl behind NSMC, SemEval-2014 ABSA.

Every loader reads the archive as shipped (``tar.gz``, ``tar.xz``, XML) without unpacking it to
disk and returns a :class:`pandas.DataFrame` (or a list of :class:`AbsaSentence`) with a fixed
column set:

* IMDB (:func:`load_imdb`): ``review_id, split, label, rating, imdb_id, text``. ``imdb_id`` is the
  zero-padded number from ``urls_{pos,neg}.txt`` (line *i* belongs to review ``i``), which joins
  with MovieLens ``links.csv``.
* NSMC raw (:func:`load_nsmc_raw`): ``review_id, movie_id, rating, date, author, text, split,
  label, label5``. ``label`` is the NSMC construction (1-4 -> 0, 9-10 -> 1, 5-8 -> -1 meaning
  dropped); ``label5`` is the 5-level target ``(rating - 1) // 2``; ``split`` follows the
  movie-disjoint rule of :func:`movie_split`.
* SemEval-2014 (:func:`load_semeval`): sentences with aspect terms and aspect categories.

Example:
    >>> movie_split(120), movie_split(121), movie_split(125)
    ('test', 'validation', 'train')
"""

from __future__ import annotations

import json
import re
import tarfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from cinerec.data._io import REPLACE_HINT
from cinerec.data.paths import require_file
from cinerec.errors import DataError

IMDB_ARCHIVE = "imdb-aclImdb/aclImdb_v1_labeled.tar.gz"
NSMC_ARCHIVE = "nsmc-raw/nsmc_raw_crawl.tar.xz"
SEMEVAL_DIR = "semeval2014-absa"
SEMEVAL_FILES = {
    ("restaurants", "train"): "Restaurants_Train_v2.xml",
    ("restaurants", "test"): "Restaurants_Test_Gold.xml",
    ("laptops", "train"): "Laptop_Train_v2.xml",
    ("laptops", "test"): "Laptops_Test_Gold.xml",
}
IMDB_COLUMNS = ["review_id", "split", "label", "rating", "imdb_id", "text"]
NSMC_COLUMNS = [
    "review_id",
    "movie_id",
    "rating",
    "date",
    "author",
    "text",
    "split",
    "label",
    "label5",
]
DROPPED = -1
"""``label`` of NSMC reviews rated 5-8, which the binary NSMC construction leaves out."""

Split = Literal["train", "validation", "test"]
_IMDB_REVIEW = re.compile(r"^aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")
_IMDB_URLS = re.compile(r"^aclImdb/(train|test)/urls_(pos|neg)\.txt$")
_IMDB_ID = re.compile(r"/title/tt(\d+)")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


def movie_split(movie_id: int | str) -> Split:
    """The movie-disjoint split of a movie: ``id % 10 == 0`` test, ``== 1`` validation, else train.

    Raises:
        DataError: ``movie_id`` is not an integer.
    """
    try:
        rest = int(movie_id) % 10
    except (TypeError, ValueError) as exc:
        raise DataError(f"Movie id {movie_id!r} is not an integer; check the data file.") from exc
    return "test" if rest == 0 else "validation" if rest == 1 else "train"


def nsmc_binary_label(rating: int) -> int:
    """The NSMC construction: 1-4 -> 0 (negative), 9-10 -> 1 (positive), 5-8 -> ``DROPPED``."""
    if rating <= 4:
        return 0
    return 1 if rating >= 9 else DROPPED


def five_level_label(rating: int) -> int:
    """A 1-10 rating folded into 5 levels 0..4 (1-2 -> 0, 3-4 -> 1, ..., 9-10 -> 4)."""
    return (int(rating) - 1) // 2


def clean_review_text(text: str) -> str:
    """IMDB markup removed: ``<br />`` becomes a space (character offsets then refer to this)."""
    return _BREAK.sub(" ", text)


def _open_tar(path: Path, mode: str) -> tarfile.TarFile:
    try:
        return tarfile.open(path, mode)  # type: ignore[call-overload]
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"Data file {path} cannot be opened ({exc}); {REPLACE_HINT}.") from exc


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo, path: Path) -> str:
    handle = tar.extractfile(member)
    if handle is None:
        raise DataError(f"Data file {path} has an unreadable member {member.name}; {REPLACE_HINT}.")
    try:
        return handle.read().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}:{member.name} is not UTF-8 ({exc}); {REPLACE_HINT}.") from exc


def iter_imdb(
    path: Path, *, splits: tuple[str, ...] = ("train", "test"), limit: int | None = None
) -> Iterator[dict[str, object]]:
    """Stream IMDB reviews from the ``tar.gz`` as dicts with the :data:`IMDB_COLUMNS`.

    The archive stores ``urls_*.txt`` after the reviews of a folder, so the reviews of a
    (split, label) folder are held until its url file arrives; at most ``limit`` reviews per
    folder are kept (the rest are skipped unread).

    Raises:
        DataError: the archive is unreadable, or a url file lacks a line for a review.
    """
    pending: dict[tuple[str, str], list[tuple[int, int, str]]] = {}
    with _open_tar(path, "r:gz") as tar:
        try:
            for member in tar:
                if not member.isfile():
                    continue
                if m := _IMDB_REVIEW.match(member.name):
                    split, polarity, rid, rating = m.groups()
                    bucket = pending.setdefault((split, polarity), [])
                    if split in splits and (limit is None or len(bucket) < limit):
                        text = clean_review_text(_read_member(tar, member, path))
                        bucket.append((int(rid), int(rating), text))
                elif m := _IMDB_URLS.match(member.name):
                    split, polarity = m.groups()
                    if split not in splits:
                        continue
                    urls = _read_member(tar, member, path).splitlines()
                    for rid, rating, text in sorted(pending.pop((split, polarity), [])):
                        if rid >= len(urls):
                            raise DataError(
                                f"{path}: {member.name} has no line for review {rid}; "
                                f"{REPLACE_HINT}."
                            )
                        found = _IMDB_ID.search(urls[rid])
                        yield {
                            "review_id": f"{split}/{polarity}/{rid}",
                            "split": split,
                            "label": int(polarity == "pos"),
                            "rating": rating,
                            "imdb_id": int(found.group(1)) if found else -1,
                            "text": text,
                        }
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise DataError(
                f"Data file {path} is truncated or corrupt ({exc}); {REPLACE_HINT}."
            ) from exc
    leftover = [k for k, v in pending.items() if v and k[0] in splits]
    if leftover:
        raise DataError(f"Data file {path} lacks the url files for {leftover}; {REPLACE_HINT}.")


def load_imdb(
    data_dir: Path, *, splits: tuple[str, ...] = ("train", "test"), limit: int | None = None
) -> pd.DataFrame:
    """IMDB labelled reviews (25k train + 25k test) with their IMDb ids.

    Args:
        data_dir: the data directory (see :func:`cinerec.data.paths.resolve_data_dir`).
        splits: which of ``train`` / ``test`` to read.
        limit: at most this many reviews per (split, polarity) folder, for quick looks.
    """
    path = require_file(data_dir, IMDB_ARCHIVE)
    frame = pd.DataFrame(list(iter_imdb(path, splits=splits, limit=limit)), columns=IMDB_COLUMNS)
    if frame.empty:
        raise DataError(f"Data file {path} holds no reviews for {splits}; {REPLACE_HINT}.")
    return frame


def _nsmc_rows(records: object, name: str, path: Path) -> Iterator[dict[str, object]]:
    if not isinstance(records, list):
        raise DataError(f"{path}:{name} is not a JSON list; {REPLACE_HINT}.")
    for r in records:
        try:
            rating = int(r["rating"])
            movie_id = int(r["movie_id"])
            yield {
                "review_id": int(r["review_id"]),
                "movie_id": movie_id,
                "rating": rating,
                "date": str(r.get("date", "")),
                "author": str(r.get("author", "")),
                "text": str(r["review"]),
                "split": movie_split(movie_id),
                "label": nsmc_binary_label(rating),
                "label5": five_level_label(rating),
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(
                f"{path}:{name} has a malformed review ({exc}); {REPLACE_HINT}."
            ) from exc


def load_nsmc_raw(data_dir: Path, *, limit_movies: int | None = None) -> pd.DataFrame:
    """The raw Naver crawl (712k reviews rated 1-10) with NSMC labels and the movie split.

    Args:
        data_dir: the data directory.
        limit_movies: read only the first this many ``raw/<movie_id>.json`` members.

    Returns:
        One row per review with the :data:`NSMC_COLUMNS`; use :func:`nsmc_binary` for the
        binary NSMC subset.
    """
    path = require_file(data_dir, NSMC_ARCHIVE)
    rows: list[dict[str, object]] = []
    seen = 0
    with _open_tar(path, "r:xz") as tar:
        try:
            for member in tar:
                if not (member.isfile() and member.name.startswith("raw/")):
                    continue
                if not member.name.endswith(".json"):
                    continue
                if limit_movies is not None and seen >= limit_movies:
                    break
                seen += 1
                try:
                    records = json.loads(_read_member(tar, member, path))
                except json.JSONDecodeError as exc:
                    raise DataError(
                        f"{path}:{member.name} is not JSON ({exc}); {REPLACE_HINT}."
                    ) from exc
                rows.extend(_nsmc_rows(records, member.name, path))
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise DataError(
                f"Data file {path} is truncated or corrupt ({exc}); {REPLACE_HINT}."
            ) from exc
    if not rows:
        raise DataError(f"Data file {path} holds no raw/*.json reviews; {REPLACE_HINT}.")
    frame = pd.DataFrame(rows, columns=NSMC_COLUMNS)
    return frame.drop_duplicates("review_id", ignore_index=True)


def nsmc_binary(frame: pd.DataFrame) -> pd.DataFrame:
    """The NSMC construction: reviews rated 1-4 or 9-10 with a non-blank text."""
    keep = (frame["label"] != DROPPED) & (frame["text"].str.strip() != "")
    return frame.loc[keep].reset_index(drop=True)


def nsmc_balanced(
    frame: pd.DataFrame, *, per_class: int | None = None, seed: int = 1234
) -> pd.DataFrame:
    """Equal numbers of negative and positive reviews in every split, like the official NSMC.

    Args:
        frame: the output of :func:`nsmc_binary` (or any frame with ``split`` and ``label``).
        per_class: cap per class and split (default: the minority class's count).
        seed: sampling seed.
    """
    parts = []
    for _, group in frame.groupby("split", sort=True):
        n = int(group["label"].value_counts().min())
        n = min(n, per_class) if per_class is not None else n
        for _, cls in group.groupby("label", sort=True):
            parts.append(cls.sample(n=n, random_state=seed))
    return pd.concat(parts).sort_values("review_id").reset_index(drop=True)


@dataclass(frozen=True, slots=True)
class AspectTerm:
    """An opinion target in a sentence: its text, polarity and character span."""

    term: str
    polarity: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class AbsaSentence:
    """One SemEval-2014 sentence with its aspect terms and ``{category: polarity}``."""

    sentence_id: str
    text: str
    terms: tuple[AspectTerm, ...]
    categories: dict[str, str]


def parse_semeval(raw: bytes, *, source: str = "<bytes>") -> list[AbsaSentence]:
    """Parse SemEval-2014 Task 4 XML (leading whitespace before ``<?xml`` is tolerated).

    Raises:
        DataError: the bytes are not well-formed XML or a sentence lacks its text.
    """
    try:
        root = ET.fromstring(raw.lstrip())  # Laptop_Train_v2.xml starts with a space
    except ET.ParseError as exc:
        raise DataError(f"{source} is not well-formed XML ({exc}); {REPLACE_HINT}.") from exc
    sentences = []
    for node in root.iter("sentence"):
        text = node.findtext("text")
        if text is None:
            raise DataError(f"{source}: sentence {node.get('id')} has no <text>; {REPLACE_HINT}.")
        terms = tuple(
            AspectTerm(
                t.get("term", ""),
                t.get("polarity", ""),
                int(t.get("from", 0)),
                int(t.get("to", 0)),
            )
            for t in node.iter("aspectTerm")
        )
        categories = {
            c.get("category", ""): c.get("polarity", "") for c in node.iter("aspectCategory")
        }
        sentences.append(AbsaSentence(node.get("id", ""), text, terms, categories))
    return sentences


def load_semeval(
    data_dir: Path,
    *,
    domain: Literal["restaurants", "laptops"] = "restaurants",
    part: Literal["train", "test"] = "train",
) -> list[AbsaSentence]:
    """SemEval-2014 ABSA sentences (only restaurants carry aspect categories)."""
    key = (domain, part)
    if key not in SEMEVAL_FILES:
        raise DataError(f"No SemEval-2014 file for {key}; use restaurants/laptops and train/test.")
    path = require_file(data_dir, f"{SEMEVAL_DIR}/{SEMEVAL_FILES[key]}")
    return parse_semeval(path.read_bytes(), source=str(path))
