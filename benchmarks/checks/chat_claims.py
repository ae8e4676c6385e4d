"""What a chat answer claims, checked against the catalog without the product's grounding code.

Its own normalisation and matching (nothing from ``cinerec.llm``): the movies an answer names
(``[#id]`` citations and ``Title (Year)`` mentions), the catalog people it names (two words or
more, Latin letters), and the years it states. :func:`false_claims` lists statements that the
catalog contradicts:

- a cited id that is not a catalog movie, or a ``Title (Year)`` before a citation that is not
  that movie;
- a person named beside movies none of which they directed or acted in, unless the question
  named that person (``Christopher Nolan directed Homefront (2013)``);
- a movie listed for a person who neither directed nor acted in it;
- a year that is no named movie's year and not one the question gave.

Example:
    >>> movies = [CatalogMovie(1, "Memento", 2000, ("Christopher Nolan",), ("Guy Pearce",)),
    ...           CatalogMovie(2, "Homefront", 2013, ("Gary Fleder",), ("Jason Statham",))]
    >>> cat = ClaimCatalog(movies)
    >>> false_claims(cat, "Christopher Nolan directed Homefront (2013) [#2].", asked="")
    ['Christopher Nolan is not in Homefront (2013)']
    >>> false_claims(cat, "Memento (2000) [#1] was directed by Christopher Nolan.", asked="")
    []
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

CITE = re.compile(r"\[\s*#\s*(\d+)\s*\]")
TITLE_YEAR = re.compile(r"([^\s\[\](),.:;!?][^\[\]()\n]{0,90}?)\s*\((\d{4})\)")
YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
WORD = re.compile(r"[a-z0-9]+")
HANGUL_RUN = re.compile(r"[\uac00-\ud7a3]+")
UNKNOWN = re.compile(
    r"\bno (?:director|cast|release year|genre|information|record)|\bdoes not (?:know|store|have)"
    r"|\bdoesn'?t (?:know|have)|\bcannot\b|\bcan'?t\b|\bnot (?:find|found|in the catalog|know)"
    r"|\bunknown\b|\bonly has movies|없|모릅|알 수 없|찾지 못",
    re.IGNORECASE,
)


def norm(text: str) -> str:
    """Lowercase ASCII words: accents dropped, punctuation to spaces, Hangul removed."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(WORD.findall(text.replace("'", "").replace("’", "")))


def title_forms(title: str) -> set[str]:
    """``"Godfather, The"`` and ``"The Godfather"``, with and without a bracketed alias."""
    forms = {title}
    base = re.sub(r"\s*\([^)]*\)\s*$", "", title).strip()
    forms.add(base)
    for t in list(forms):
        m = re.match(r"^(.*), (The|A|An)$", t)
        if m:
            forms.add(f"{m.group(2)} {m.group(1)}")
    return {norm(f) for f in forms if norm(f)}


@dataclass(frozen=True, slots=True)
class CatalogMovie:
    """What the checker knows about a movie."""

    movie_id: int
    title: str
    year: int | None
    directors: tuple[str, ...]
    cast: tuple[str, ...]


class ClaimCatalog:
    """Titles, years and people of the catalog, normalised by this module."""

    def __init__(self, movies: Iterable[CatalogMovie]) -> None:
        self.movies = {m.movie_id: m for m in movies}
        self.by_title: dict[str, list[int]] = defaultdict(list)
        self.people: dict[str, set[int]] = defaultdict(set)
        for m in self.movies.values():
            for form in title_forms(m.title):
                self.by_title[form].append(m.movie_id)
            for name in (*m.directors, *m.cast):
                key = norm(name)
                if len(key.split()) >= 2:
                    self.people[key].add(m.movie_id)

    def people_in(self, text: str) -> list[str]:
        """Catalog people (normalised names) the text names, longest first, no overlaps."""
        words = norm(text).split()
        taken = [False] * len(words)
        found = []
        for n in (4, 3, 2):
            for i in range(len(words) - n + 1):
                if any(taken[i : i + n]):
                    continue
                key = " ".join(words[i : i + n])
                if key in self.people:
                    found.append(key)
                    for j in range(i, i + n):
                        taken[j] = True
        return found

    def titled_in_both(self, first: str, second: str) -> list[int]:
        """Ids of catalog movies whose title (two words or more, or one of 5+ letters) both
        texts name as whole words, with or without a year."""
        a = f" {norm(HANGUL_RUN.sub(' ', first))} "
        b = f" {norm(HANGUL_RUN.sub(' ', second))} "
        return [
            movie_id
            for key, movie_ids in self.by_title.items()
            if (" " in key or len(key) >= 5) and f" {key} " in a and f" {key} " in b
            for movie_id in movie_ids
        ]

    def named_movies(self, text: str) -> tuple[list[int], list[str]]:
        """Movie ids the text names (citations and ``Title (Year)`` pairs), in the order the
        text names them (a comparison's answer is read by which movie comes first), and
        problems."""
        found: list[tuple[int, int]] = []  # (position in the text, movie id)
        problems: list[str] = []
        for cited in CITE.finditer(text):
            movie_id = int(cited.group(1))
            if movie_id not in self.movies:
                problems.append(f"[#{movie_id}] is not a catalog movie")
            else:
                found.append((cited.start(), movie_id))
        # Same length as the text, so a pair's position is its position in the text.
        plain = CITE.sub(lambda m: " | ".ljust(len(m.group(0))), text)
        for pair in TITLE_YEAR.finditer(plain):
            raw_title, year = pair.group(1), pair.group(2)
            key = norm(raw_title)
            hits = []
            words = key.split()
            for start in range(len(words)):  # the title may follow other words
                candidate = " ".join(words[start:])
                hits = [
                    i for i in self.by_title.get(candidate, []) if self.movies[i].year == int(year)
                ]
                if hits:
                    break
            if hits:
                found.append((pair.start(), hits[0]))
        for m in re.finditer(r"([^\[\]\n]{1,100}?)\s*\((\d{4})\)\s*\[#(\d+)\]", text):
            movie = self.movies.get(int(m.group(3)))
            if movie is not None and movie.year != int(m.group(2)):
                problems.append(
                    f"[#{movie.movie_id}] is {movie.title} ({movie.year}), not {m.group(2)}"
                )
        ids = [movie_id for _, movie_id in sorted(found, key=lambda f: f[0])]
        return list(dict.fromkeys(ids)), problems


def false_claims(catalog: ClaimCatalog, answer: str, *, asked: str) -> list[str]:
    """Statements of ``answer`` the catalog contradicts (see the module docstring).

    Args:
        catalog: The checker's catalog.
        answer: The text to check.
        asked: The question (and earlier turns): people and years it gave may be repeated.
    """
    ids, problems = catalog.named_movies(answer)
    asked_people = set(catalog.people_in(asked))
    # Names inside a title ("The Assassination of Jesse James ... (2007)") are no claims.
    masked = f" {norm(CITE.sub(' | ', answer))} "
    for movie_id in ids:
        for form in title_forms(catalog.movies[movie_id].title):
            masked = masked.replace(f" {form} ", " | ")
    people = catalog.people_in(masked)
    for person in people:
        if person in asked_people or not ids:
            continue
        if not catalog.people[person] & set(ids):
            shown = ", ".join(
                f"{catalog.movies[i].title} ({catalog.movies[i].year})" for i in ids[:3]
            )
            problems.append(f"{_display(person, catalog)} is not in {shown}")
    for person in [p for p in people if p in asked_people]:
        if ids:  # movies named for the person the question asked about must be theirs
            strangers = [i for i in ids if i not in catalog.people[person]]
            asked_ids, _ = catalog.named_movies(asked)
            strangers = [i for i in strangers if i not in asked_ids]
            problems += [
                f"{_display(person, catalog)} is not in {catalog.movies[i].title}"
                for i in strangers
            ]
    years = {catalog.movies[i].year for i in ids} | {int(y) for y in YEAR.findall(asked)}
    # "In what year was Galaxy Quest released?" -> "Galaxy Quest was released in 1999": a title
    # both the question and the answer name, without its year, names that movie too.
    years |= {catalog.movies[i].year for i in catalog.titled_in_both(asked, answer)}
    plain = CITE.sub(" ", answer)
    for year in YEAR.findall(plain):
        if int(year) not in years and not _decade_word(plain, year):
            problems.append(f"{year} is no named movie's year")
    return list(dict.fromkeys(problems))


def _decade_word(text: str, year: str) -> bool:
    """``the 1990s`` / ``1990년대`` / ``up to 2018`` (the catalog's range) are not movie years."""
    return bool(re.search(rf"{year}(?:s\b|년대)|up to {year}|{year}년까지", text))


def _display(key: str, catalog: ClaimCatalog) -> str:
    return " ".join(w.capitalize() for w in key.split())


def says_unknown(answer: str) -> bool:
    """Whether the answer says the catalog does not know (English or Korean)."""
    return bool(UNKNOWN.search(answer))


def mentions(answer: str, names: Sequence[str]) -> bool:
    """Whether any of ``names`` appears in the answer (normalised words, Hangul split off)."""
    spaced = HANGUL_RUN.sub(lambda m: f" {m.group(0)} ", answer)
    text = f" {norm(spaced)} "
    hangul = [n for n in names if HANGUL_RUN.search(n)]
    return any(f" {norm(n)} " in text for n in names if norm(n)) or any(n in answer for n in hangul)
