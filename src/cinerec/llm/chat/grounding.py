"""Grounded chat answers: citations must be given ids, titles must be given movies.

:class:`AnswerGrounder` checks an answer sentence by sentence while it streams, so that nothing
unchecked reaches the page: a sentence is dropped when it cites ``[#id]`` a movie the model was
not given, names a title that is not among the given movies (see
:func:`cinerec.llm.grounding.find_unknown_titles`), names a catalog person who is not in the
given facts, or (given the movies' records) says something false about a given movie's genre,
people or year by the separate fact checker (:mod:`cinerec.llm.facts`).

Example:
    >>> g = AnswerGrounder(allowed_ids={6}, known_titles=["Heat"], allowed_names=["Michael Mann"])
    >>> g.feed("Heat (1995) [#6] is by Michael Mann. Also try Fake Movie 3000. Or [#9]. ")
    'Heat (1995) [#6] is by Michael Mann.'
    >>> g.finish().flags
    ('unknown_title', 'unknown_citation')
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from cinerec.data.types import Movie
from cinerec.llm.facts import check_text, false_claims, unverified_people
from cinerec.llm.grounding import find_unknown_titles, strip_markup
from cinerec.text.bm25 import fold
from cinerec.text.lang import GENRES_KO, HANGUL, SYLLABLES

CITATION = re.compile(r"\[\s*#\s*(\d{1,9})\s*\]")
#: A sentence ends after ``.!?`` and white space, or at a line break; not after an initial or
#: a short title ("M. Night Shyamalan", "(a.k.a. Alien 3)", "Dr. Moreau"): the grounder would
#: check the name's two halves apart and read "Night" or "Stone" as another movie's title.
_BOUNDARY = re.compile(
    r"(?<=[.!?。！？])(?<!\b[A-Za-z]\.)(?<!\bDr\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bMrs\.)"
    r"(?<!\bSt\.)(?<!\bJr\.)(?<!\bvs\.)[\"')\]]*\s+|\n+"
)
_NAME_RUN = re.compile(r"(?<![\w])[A-Z][\w'’.-]+(?:[ ]+[A-Z][\w'’.-]+){1,4}")
_NAME_WORDS = re.compile(r"[^\W_]+")
_BULLET = re.compile(r"^\s{0,3}(?:[-*+•]|\d{1,2}[.)])\s+")


def name_key(name: str) -> str:
    """A name folded for comparison: ``"Jean-Pierre Jeunet"`` -> ``"jean pierre jeunet"``."""
    return " ".join(_NAME_WORDS.findall(fold(name).replace("'", "").replace("’", "")))


def cut_words(text: str, limit: int) -> str:
    """``text`` with white space folded, cut at a word boundary to ``limit`` characters and an
    ellipsis (a single over-long word is cut where the limit falls).

    Example:
        >>> cut_words("a quiet  film, slowly told", 14)
        'a quiet film…'
    """
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return head.rstrip(" ,;:") + "…"


@dataclass(frozen=True, slots=True)
class GroundedAnswer:
    """A checked answer: its text, the ids it cites, and what checking changed."""

    text: str
    cited_ids: tuple[int, ...]
    flags: tuple[str, ...]
    removed: tuple[str, ...] = ()


# Grounding -----------------------------------------------------------------------------------


class AnswerGrounder:
    """Checks an answer sentence by sentence while it streams.

    :meth:`feed` takes generated pieces and returns the text that may be shown now (complete
    sentences that passed); :meth:`finish` checks the rest and returns the whole answer.

    Args:
        allowed_ids: Ids the model may cite (the movies it was given).
        known_titles: Titles it may name (the same movies, watched and earlier cited ones).
        allowed_names: People, genres and the viewer's name (not titles, but capitalized).
        max_chars: Length bound of the answer.
        facts: The given movies' records: a sentence the fact checker
            (:func:`cinerec.llm.facts.false_claims`) finds a false genre, person role or year
            in, about a movie it names, is dropped (flag ``false_claim``); so is one that says
            who directed or stars in a given movie whose people the catalog lacks
            (:func:`cinerec.llm.facts.unverified_people`, flag ``unverified_claim``).
    """

    def __init__(
        self,
        *,
        allowed_ids: Collection[int],
        known_titles: Iterable[str],
        allowed_names: Iterable[str] = (),
        is_person: Callable[[str], bool] | None = None,
        catalog_titles: Callable[[str], Iterable[tuple[str, int]]] | None = None,
        max_chars: int = 1500,
        facts: Sequence[Movie] = (),
    ) -> None:
        self.allowed_ids = {int(i) for i in allowed_ids}
        self.facts = list(facts)
        self.known_titles = list(known_titles)
        self.allowed_names = [n for n in allowed_names if n]
        self._allowed_keys = {name_key(n) for n in self.allowed_names}
        self.is_person = is_person
        self.catalog_titles = catalog_titles
        masked = sorted({*self.allowed_names, *self.known_titles}, key=len, reverse=True)
        self._names_pattern = (
            re.compile(
                "|".join(rf"(?<![^\W_]){re.escape(n)}(?![A-Za-z0-9])" for n in masked if n.strip()),
                re.IGNORECASE,
            )
            if masked
            else None
        )
        self.max_chars = max_chars
        self._buffer = ""
        self._kept: list[str] = []
        self._cited: list[int] = []
        self._flags: list[str] = []
        self._removed: list[str] = []
        self._length = 0
        self._separator = ""
        self.raw = ""  # everything generated, unchecked (for logs and debugging)

    def flag(self, flag: str) -> None:
        """Record a flag (once)."""
        if flag not in self._flags:
            self._flags.append(flag)

    def check(self, sentence: str) -> str | None:
        """The sentence, tidied; None when it cites a movie the model was not given, or names
        an unknown title or a catalog person outside the given facts."""
        bullet = _BULLET.match(sentence)
        text = strip_markup(sentence[bullet.end() :] if bullet else sentence)
        cited = {int(i) for i in CITATION.findall(text)}
        if cited - self.allowed_ids:  # about a movie it was not given: facts unchecked
            self.flag("unknown_citation")
            self._removed.extend(f"[#{i}]" for i in sorted(cited - self.allowed_ids))
            return None
        text = CITATION.sub(lambda m: f"[#{int(m.group(1))}]", text)
        text = re.sub(r"\s+([.,!?;:])", r"\1", " ".join(text.split()))
        if not text:
            return None
        plain = CITATION.sub(" ", text)
        unknown = find_unknown_titles(plain, self.known_titles, allowed=self.allowed_names)
        if unknown:
            self.flag("unknown_title")
            self._removed.extend(u.rstrip(".,;:!?") for u in unknown)
            return None
        others = self.other_catalog_titles(plain)
        if others:
            self.flag("unknown_title")
            self._removed.extend(others)
            return None
        people = self.unknown_people(plain)
        if people:
            self.flag("unknown_person")
            self._removed.extend(people)
            return None
        if self.facts:
            language = "ko" if HANGUL.search(plain) else "en"
            # a sentence citing one movie is about it, whatever name it gives the movie
            about = [m for m in self.facts if m.movie_id in cited]
            subject = about[0] if len(about) == 1 else None
            # one reading of the claims: false ones, and who directed or stars in a movie
            # whose people the catalog lacks (say nothing)
            said = check_text(
                plain, subject=subject, watched=(), language=language, page=self.facts
            )
            if wrong := false_claims(said):
                self.flag("false_claim")
                self._removed.extend(c.claim.span for c in wrong)
                return None
            if unsure := unverified_people(said):
                self.flag("unverified_claim")
                self._removed.extend(c.claim.span for c in unsure)
                return None
        return ("- " if bullet else "") + text

    def other_catalog_titles(self, text: str) -> list[str]:
        """Catalog titles the text names (``catalog_titles``) that are not among the given
        movies: their facts were not retrieved, so nothing said about them is checked."""
        if self.catalog_titles is None:
            return []
        # People, genres and given titles are not other movies ("Rain", "Romance", "Michael").
        text = self._names_pattern.sub(" · ", text) if self._names_pattern else text
        ids_by_phrase: dict[str, set[int]] = {}
        for phrase, movie_id in self.catalog_titles(text):
            ids_by_phrase.setdefault(phrase, set()).add(int(movie_id))
        return [p for p, ids in ids_by_phrase.items() if not ids & self.allowed_ids]

    def unknown_people(self, text: str) -> list[str]:
        """Catalog people (``is_person``) the text names who are not among the allowed names:
        a small model asked who directed a movie whose director the catalog lacks will name
        someone famous instead."""
        if self.is_person is None:
            return []
        found = []
        for run in _NAME_RUN.finditer(text):
            words = [w.strip(".-'’") for w in run.group(0).split()]
            for size in (3, 2):
                for start in range(len(words) - size + 1):
                    phrase = " ".join(words[start : start + size])
                    key = name_key(phrase)
                    allowed = any(key in known for known in self._allowed_keys)
                    if not allowed and self.is_person(phrase):
                        found.append(phrase)
        return list(dict.fromkeys(found))

    def _accept(self, sentence: str, separator: str) -> str:
        checked = self.check(sentence)
        before = self._separator
        if checked is None:  # a dropped sentence keeps the line break it may have ended
            self._separator = "\n" if "\n" in before + separator else " "
            return ""
        self._separator = "\n" if "\n" in separator else " "
        piece = before if self._kept else ""
        room = self.max_chars - self._length - len(piece)
        if len(checked) > room:
            self.flag("truncated")
            if room < 20:
                return ""
            checked = cut_words(checked, room - 1)
        self._cited.extend(int(i) for i in CITATION.findall(checked))
        self._kept.append(piece + checked)
        self._length += len(piece) + len(checked)
        return piece + checked

    def feed(self, piece: str) -> str:
        """Add generated text; returns the newly released (checked) text, maybe empty."""
        self._buffer += piece
        self.raw += piece
        released: list[str] = []
        while True:
            match = _BOUNDARY.search(self._buffer)
            if match is None:
                break
            sentence, separator = self._buffer[: match.end()], match.group(0)
            self._buffer = self._buffer[match.end() :]
            released.append(self._accept(sentence.strip(), separator))
        return "".join(released)

    def ground(self, text: str) -> GroundedAnswer:
        """A whole answer at once: :meth:`feed` it, then :meth:`finish`."""
        self.feed(text)
        return self.finish()

    def finish(self) -> GroundedAnswer:
        """Check what is left and return the whole grounded answer."""
        if self._buffer.strip():
            self._accept(self._buffer.strip(), "")
        self._buffer = ""
        return GroundedAnswer(
            text="".join(self._kept).strip(),
            cited_ids=tuple(dict.fromkeys(self._cited)),
            flags=tuple(self._flags),
            removed=tuple(dict.fromkeys(self._removed)),
        )


def names_of(movies: Iterable[Movie]) -> list[str]:
    """Directors, cast and genres (English and Korean) of ``movies``: allowed capitalized names."""
    names: list[str] = []
    for movie in movies:
        names.extend(movie.genres)
        names.extend(GENRES_KO.get(g, "") for g in movie.genres)
        names.extend(movie.cast)
        if movie.director:
            names.append(movie.director)
    return list(dict.fromkeys(n for n in names if n))


def add_missing_citations(text: str, movies: Iterable[Movie]) -> tuple[str, list[int]]:
    """Cite given movies the answer names without their id: ``Heat (1995)`` -> ``... [#6]``.

    Titles match case-sensitively on word boundaries (with an optional ``(year)``); a title of
    three letters or fewer ("Up", "It") only when the year follows it. A Korean particle written
    onto the title ("Memento (2000)의 감독") is not part of it: Hangul ends a Latin title.

    Returns:
        The text and the ids that were added.
    """
    movies = list(movies)
    added: list[int] = []
    for movie in movies:
        marker = f"[#{movie.movie_id}]"
        if marker in text or not movie.title.strip():
            continue
        year = rf"\s*\({movie.year}\)" if movie.year else ""
        optional_year = f"(?:{year})?" if year else ""
        short = len(movie.title) <= 3
        # Not when another year or another citation follows: that is a different movie.
        pattern = (
            rf"(?<![\w'’]){re.escape(movie.title)}{year if short else optional_year}"
            rf"(?![^\W{SYLLABLES}]|['’])(?!\s*\((?:18|19|20)\d\d\))(?!\s*\[\s*#)"
        )
        if short and not year:
            continue
        # Not inside a longer given title: "Spy Kids" in "Spy Kids 2: The Island of Lost Dreams".
        longer = [
            (m.start(), m.end())
            for other in movies
            if len(other.title) > len(movie.title) and movie.title in other.title
            for m in re.finditer(re.escape(other.title), text)
        ]
        match = next(
            (
                m
                for m in re.finditer(pattern, text)
                if not any(s <= m.start() and m.end() <= e for s, e in longer)
            ),
            None,
        )
        if match is None:
            continue
        text = f"{text[: match.end()]} {marker}{text[match.end() :]}"
        added.append(movie.movie_id)
    return text, added
