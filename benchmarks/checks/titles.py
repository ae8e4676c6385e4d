"""An independent detector of movie titles that are not in the catalog.

The product removes sentences that name unknown titles (``cinerec.llm.grounding``); a benchmark
that counts titles with that same function after the product deleted what it found cannot
fail. This module is the benchmarks' own detector: its own patterns, its own normalisation and
its own reference, read straight from the data files (MovieLens ``movies.csv`` for the titles,
TMDB 5000 credits for people and character names). It must not import
``cinerec.llm.grounding`` or the product's title index (a test checks).

What it flags (each checked against the catalog titles and known names):

* a quoted phrase (``"..."``, ``'...'``, curly quotes, ``「」『』《》〈〉``) that is not all
  lower-case ASCII (a quoted all-lower-case phrase is a quotation, not a title);
* a run of capitalised words or numbers that carries a number or a year, or has three or more
  capitalised words, or is followed by a Hangul particle (``Galactic Tacos를``);
* a run that splits into known titles, names, genres, joining words and years passes.

Two-word capitalised runs without a number (``Hong Kong``) are not flagged: they are more often
places or people than titles, and this detector has no place list. So the counts are a lower
bound on invented two-word titles and, for the rest, err toward flagging (the result files list
every phrase flagged, so a reader can judge them).

Example:
    >>> ref = Reference.from_titles(["Heat (1995)", "Matrix, The (1999)"], names=["Al Pacino"])
    >>> unknown_titles('Al Pacino in "Heat" and The Matrix, then Fake Movie 3000.', ref)
    ['Fake Movie 3000']
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

_PAREN_YEAR = re.compile(r"\s*\((?:1[89]|20)\d{2}\)\s*$")
_ALIAS = re.compile(r"\s*\(([^()]+)\)\s*$")  # "Amores Perros (Love's a Bitch)"
_TRAILING_ARTICLE = re.compile(r"^(.*), (the|a|an|les|la|le|il|el|die|das|der)$", re.I)
_QUOTES = re.compile(
    r'"([^"\n]{1,80})"|“([^”\n]{1,80})”|‘([^’\n]{1,80})’|(?<![A-Za-z])\'([^\'\n]{1,80})\''
    r"(?![A-Za-z])|「([^」\n]{1,80})」|『([^』\n]{1,80})』|《([^》\n]{1,80})》|〈([^〉\n]{1,80})〉"
)
_LATIN = r"[A-Za-z0-9\u00c0-\u024f'’:\-]"
# Latin only (a Hangul particle ends a word); a full stop only inside a word ("L.A.").
_WORD = rf"(?:[A-Z\u00c0-\u00de]{_LATIN}*(?:\.{_LATIN}+)*|\d+(?:[,.]\d+)*)"
_JOINER = r"(?:of|the|and|a|an|in|on|to|for|at|from|with|vs\.?|&|-)"
_CAPITAL_RUN = re.compile(rf"(?<![\w'’]){_WORD}(?: +(?:{_JOINER} +)*{_WORD})*")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_YEAR_WORD = re.compile(r"^(?:1[89]|20)\d{2}s?$")
_JOINERS = frozenset("of the and a an in on to for at from with vs vs. & -".split())
# Capitalised words that start sentences or name roles, not titles.
_OPENERS = frozenset(
    "a an and as at because but by for from he her his i if in it its like my of on or our "
    "she since so such that the their then these they this those to try viewer viewers we "
    "when while with you your watch see love loved enjoy enjoyed liked recommend".split()
)
_NOT_TITLES = frozenset(
    {"science fiction", "sci fi", "film noir", "new york", "los angeles", "world war ii",
     "world war 2", "academy award", "oscar", "imax", "no genres listed"}
)  # fmt: skip


def normalise(text: str) -> str:
    """Casefolded words: NFKC, year and leading article dropped, ``X, The`` turned round."""
    text = unicodedata.normalize("NFKC", text).strip()
    text = _PAREN_YEAR.sub("", text)
    moved = _TRAILING_ARTICLE.match(text)
    if moved:
        text = f"{moved.group(2)} {moved.group(1)}"
    text = re.sub(r"['’]s\b", "", text.casefold())
    words = re.sub(r"[^\w]+", " ", text).split()
    if len(words) > 1 and words[0] in ("the", "a", "an"):
        words = words[1:]
    return " ".join(words)


@dataclass(frozen=True)
class Reference:
    """Normalised catalog titles and known names (people, characters, genres)."""

    titles: frozenset[str]
    names: frozenset[str]
    pieces: frozenset[str] = frozenset()

    @classmethod
    def from_titles(cls, titles: Iterable[str], names: Iterable[str] = ()) -> Reference:
        """A reference from raw titles (``Matrix, The (1999)``) and names."""
        keys: set[str] = set()
        for title in titles:
            bare = _PAREN_YEAR.sub("", title).strip()
            forms = [bare]
            while alias := _ALIAS.search(forms[0]):  # every "(a.k.a.)" and the title without
                forms += [alias.group(1), forms[0][: alias.start()]]
                forms[0] = forms[-1]
            for form in forms:
                keys.add(normalise(form))
                moved = _TRAILING_ARTICLE.match(form.strip())
                if moved:
                    keys.add(normalise(moved.group(1)))
        pieces = {
            " ".join(words[i:j])
            for key in keys
            if len(words := key.split()) > 2
            for i in range(len(words))
            for j in range(i + 2, len(words) + 1)
        }
        return cls(
            frozenset(k for k in keys if k),
            frozenset(normalise(n) for n in names if n),
            frozenset(pieces),
        )

    @classmethod
    def from_data_dir(cls, data_dir: Path, dataset: str = "ml-latest-small") -> Reference:
        """Titles of MovieLens ``movies.csv`` and names of TMDB 5000 credits (when present),
        read with the standard library."""
        titles: list[str] = []
        genres: set[str] = set()
        with (data_dir / dataset / "movies.csv").open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                titles.append(row["title"])
                genres.update(row["genres"].split("|"))
        names = set(genres)
        credits = data_dir / "tmdb-5000" / "tmdb_5000_credits.csv.gz"
        if credits.exists():
            csv.field_size_limit(1 << 26)
            with gzip.open(credits, "rt", encoding="utf-8", newline="") as f:
                for row in csv.DictReader(f):
                    for person in json.loads(row["cast"]):
                        names.add(person["name"])
                        names.update(c.strip() for c in person["character"].split("/"))
                    names.update(
                        p["name"] for p in json.loads(row["crew"]) if p["job"] == "Director"
                    )
        return cls.from_titles(titles, names)

    def knows(self, phrase: str, allowed: frozenset[str] = frozenset()) -> bool:
        """Whether ``phrase`` is a catalog title (or two or more consecutive words of one: a
        title cut short, ``Kill Bill: Vol``), a known name or an allowed phrase."""
        key = normalise(phrase)
        return (
            not key
            or key in self.titles
            or key in self.pieces
            or key in self.names
            or key in allowed
            or key in _NOT_TITLES
        )


def _splits(words: Sequence[str], ref: Reference, allowed: frozenset[str]) -> bool:
    """Whether ``words`` split into known phrases, joining words, openers and years."""
    ok = [True] + [False] * len(words)
    for end in range(1, len(words) + 1):
        for start in range(end):
            if not ok[start]:
                continue
            piece = words[start:end]
            one = piece[0].strip(",.").casefold() if len(piece) == 1 else ""
            if (
                ref.knows(" ".join(piece), allowed)
                or one in _JOINERS
                or one in _OPENERS
                or _YEAR_WORD.match(one)
            ):
                ok[end] = True
                break
    return ok[-1]


def _known_run(words: Sequence[str], ref: Reference, allowed: frozenset[str]) -> bool:
    """A run that splits into known phrases, also after its first word (``Loved Heat``: a
    capitalised verb at a sentence start)."""
    return _splits(words, ref, allowed) or (len(words) > 2 and _splits(words[1:], ref, allowed))


def candidates(text: str) -> list[tuple[str, str]]:
    """``(phrase, kind)`` for every title-like phrase of ``text``; kind is ``quoted`` or
    ``run``."""
    found: list[tuple[str, str]] = []
    for match in _QUOTES.finditer(text):
        phrase = next(g for g in match.groups() if g is not None).strip()
        if phrase and not (
            phrase.isascii() and phrase == phrase.lower() and not re.search(r"\d", phrase)
        ):
            found.append((phrase, "quoted"))
    bare = _QUOTES.sub(" ", text)
    for match in _CAPITAL_RUN.finditer(bare):
        whole = match.group(0).rstrip(".,:").split()
        words = list(whole)
        while words and words[0].casefold() in _OPENERS:
            words = words[1:]
        if not words:
            continue
        capitals = [w for w in words if w[:1].isupper() or w[:1].isdigit()]
        numbered = any(w[:1].isdigit() for w in words) and any(w[:1].isupper() for w in words)
        particle = bool(_HANGUL.match(bare[match.end() : match.end() + 1]))
        if (
            (numbered and len(words) >= 2)
            or len(capitals) >= 3
            or (particle and len(capitals) >= 2)
        ):
            found.append((" ".join(words), "run"))
            if len(whole) > len(words):  # "This Is Spinal Tap": the opener may be the title's
                found.append((" ".join(whole), "opener"))
    return found


def unknown_titles(text: str, ref: Reference, allowed: Iterable[str] = ()) -> list[str]:
    """Title-like phrases of ``text`` that are not catalog titles or known names.

    Args:
        text: Model output (raw, before any product repair).
        ref: Catalog titles and known names (:meth:`Reference.from_data_dir`).
        allowed: Further phrases the text may use (the viewer's name, for example).

    Returns:
        The flagged phrases in order, without duplicates.
    """
    extra = frozenset(normalise(a) for a in allowed)
    flagged = []
    found = candidates(text or "")
    whole_known = {p for p, kind in found if kind == "opener" and _known_run(p.split(), ref, extra)}
    for phrase, kind in found:
        if kind == "opener" or any(phrase in w for w in whole_known):
            continue
        if kind == "quoted":
            if not ref.knows(phrase, extra):
                flagged.append(phrase)
            continue
        if _known_run(phrase.split(), ref, extra):
            continue
        pieces = [p.strip() for p in re.split(r" (?:and|&|vs\.?) ", phrase)]
        unknown = [p for p in pieces if not _known_run(p.split(), ref, extra)]
        flagged.extend(unknown if len(pieces) > 1 and unknown else [phrase])
    return list(dict.fromkeys(flagged))
