"""Find the movies and people a question names: titles, typos, titles and names in Hangul.

A chat question names movies in many ways: "Memento", "the director of memento", "Amélie",
"Incepton" (one typo), "Heat (1995)" (the year picks between remakes), "메멘토" (an English title
written in Hangul, see :mod:`cinerec.text.hangul`), and people: "Christopher Nolan", "봉준호"
(Bong Joon-ho). :class:`TitleIndex` answers these lookups over the catalog in memory.

Example:
    >>> index = TitleIndex([Movie(1, "Memento", 2000), Movie(2, "Up", 2009)], {1: 10, 2: 10})
    >>> [m.movie_id for m in index.title_matches("who directed memento?")]
    [1]
    >>> index.title_matches("what's up?")  # a common word needs a capital or quotes
    []
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cinerec.data.types import Movie
from cinerec.text.bm25 import STOP_WORDS, fold
from cinerec.text.hangul import STOP_WORDS as KOREAN_STOP_WORDS
from cinerec.text.hangul import hangul_skeleton, latin_skeleton, strip_particle
from cinerec.text.lang import HANGUL_RUN, SYLLABLES

_MAX_NGRAM = 10
_WORDS = re.compile(r"[^\W_]+")
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_PREDICATE_ENDINGS = (
    "는데", "하는", "해요", "했어", "해줘", "합니다", "인가요", "나요", "어요", "아요", "세요",
    "습니다", "할까", "볼까", "줄래", "싶어", "싶은", "있는", "없는", "했던", "봤어", "봤는데",
)  # fmt: skip
#: Titles matched from Hangul must have at least this many ratings (obscure ones collide).
MIN_HANGUL_POPULARITY = 5
_JOINING = frozenset("of the and a an in on to for at from with vs".split())
_QUOTED = re.compile(r"[\"“「『《〈']([^\"”」』》〉']{1,80})[\"”」』》〉']")
_ARTICLES = ("the", "a", "an", "le", "la", "les", "l", "el", "il", "das", "der", "die")


# Single words that are also titles ("Up", "Her", "Other") only count as titles when written
# with a capital letter mid-sentence or in quotes.
_COMMON_WORDS = STOP_WORDS | frozenset(
    "about again all also any best better big director directed else even film films find genre "
    "genres good great her lighter light like little love more most movie movies new old one "
    "other others recommend same show similar some something star stars tell up us watch year "
    "years cast actor actress dark darker fun funny made make kind".split()
)


@dataclass(frozen=True, slots=True)
class TitleMatch:
    """A catalog movie named in a query: the words that matched and whether it was exact."""

    movie_id: int
    phrase: str
    exact: bool


# Korean particles attach to a Latin title ("Memento의", "Heat은"): split scripts apart.
_SCRIPT_EDGE = re.compile(
    rf"(?<=[A-Za-z0-9\u00c0-\u024f])(?=[{SYLLABLES}])"
    rf"|(?<=[{SYLLABLES}])(?=[A-Za-z0-9\u00c0-\u024f])"
)


def split_scripts(text: str) -> str:
    return _SCRIPT_EDGE.sub(" ", text)


def words_of(text: str) -> list[str]:
    """Folded words, Latin and Hangul split apart, apostrophes dropped."""
    return _WORDS.findall(split_scripts(fold(text)).replace("'", "").replace("’", ""))


def title_keys(title: str) -> dict[str, bool]:
    """Normalised phrases a query may use for ``title``, mapped to exact (True) or loose.

    Example:
        >>> title_keys("Star Wars: Episode IV - A New Hope")["star wars episode iv a new hope"]
        True
        >>> title_keys("Star Wars: Episode IV - A New Hope")["star wars"]  # loose: many movies
        False
    """
    keys: dict[str, bool] = {}

    def add(text: str, exact: bool) -> None:
        words = words_of(text)
        for variant in (words, words[1:] if words and words[0] in _ARTICLES else None):
            if variant:
                key = " ".join(variant)
                keys[key] = keys.get(key, False) or exact

    main, _, alternative = title.partition(" (")
    add(title, True)
    add(main, True)
    if alternative:
        alt = alternative.rstrip(")")
        moved = re.match(r"^(.*), (\w+)$", alt)
        add(f"{moved.group(2)} {moved.group(1)}" if moved else alt, True)
    for sep in (": ", " - "):
        if sep in main:
            add(main.split(sep, 1)[0], False)
    return keys


def _deletes(text: str) -> set[str]:
    return {text[:i] + text[i + 1 :] for i in range(len(text))}


def _within_one_edit(a: str, b: str) -> bool:
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
        )
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def is_title_word(word: str) -> bool:
    """A Hangul word that may be (part of) a title written in Hangul: not a common question
    word, genre or predicate ("좋아하는데", "추천해줘")."""
    return (
        bool(HANGUL_RUN.fullmatch(word))
        and word not in KOREAN_STOP_WORDS
        and strip_particle(word) not in KOREAN_STOP_WORDS
        and not word.endswith(_PREDICATE_ENDINGS)
    )


class TitleIndex:
    """Catalog titles and people, indexed for lookup from free text.

    Args:
        movies: The catalog.
        popularity: Ratings count per movie id (the most rated of equal matches wins).
        min_typo_chars: Shortest query phrase matched to a title with one typo.
    """

    def __init__(
        self,
        movies: Iterable[Movie],
        popularity: Mapping[int, int] | None = None,
        *,
        min_typo_chars: int = 6,
    ) -> None:
        self.movies: dict[int, Movie] = {m.movie_id: m for m in movies}
        self.popularity = {int(k): int(v) for k, v in (popularity or {}).items()}
        self.min_typo_chars = min_typo_chars
        self._titles: dict[str, dict[int, bool]] = defaultdict(dict)
        self._people: dict[str, list[int]] = defaultdict(list)
        for movie in self.movies.values():
            for key, exact in title_keys(movie.title).items():
                self._titles[key][movie.movie_id] = self._titles[key].get(movie.movie_id) or exact
            for name in {*movie.directors, *movie.cast[:5]} - {""}:
                self._people[" ".join(words_of(name))].append(movie.movie_id)
        skeletons: dict[str, list[int]] = defaultdict(list)
        for movie in self.movies.values():
            skeleton = latin_skeleton(movie.title.partition(" (")[0])
            if (
                len(skeleton) >= 3
                and self.popularity.get(movie.movie_id, 0) >= MIN_HANGUL_POPULARITY
            ):
                skeletons[skeleton].append(movie.movie_id)
        self._skeletons = {k: self._by_popularity(v) for k, v in skeletons.items()}
        people: dict[str, list[str]] = defaultdict(list)
        for name, ids in self._people.items():
            if len(ids) >= 2:
                people[latin_skeleton(name)].append(name)
        self._person_skeletons = {
            k: sorted(v, key=lambda n: (-len(self._people[n]), n)) for k, v in people.items()
        }
        self._title_words = {
            m.movie_id: self._content_words(m.title.partition(" (")[0])
            for m in self.movies.values()
        }
        self._typos: dict[str, set[str]] = defaultdict(set)
        for key in self._titles:
            if self.min_typo_chars <= len(key) <= 24:
                for variant in {key, *_deletes(key)}:
                    self._typos[variant].add(key)

    def _by_popularity(self, ids: Iterable[int]) -> list[int]:
        return sorted(set(ids), key=lambda i: (-self.popularity.get(i, 0), i))

    def movies_of(self, name: str) -> list[int]:
        """Movies of a person (a key from :meth:`person_matches`), most rated first."""
        return self._by_popularity(self._people.get(name, ()))

    def title_matches(self, query: str) -> list[TitleMatch]:
        """Catalog movies the query names, longest phrase first; a year in the query wins ties.

        Exact phrases are found among all word n-grams; a phrase of at least
        ``min_typo_chars`` characters may also match one edit away. A one-word match on a common
        word ("up", "her") needs a capital letter mid-sentence or quotes.
        """
        text = split_scripts(unicodedata.normalize("NFKC", query))
        raw = _WORDS.findall(text.replace("'", "").replace("’", ""))
        words = [fold(w) for w in raw]
        quoted = {" ".join(words_of(q)) for q in _QUOTED.findall(query)}
        years = {int(y) for y in _YEAR.findall(query)}
        taken = [False] * len(words)
        found: list[tuple[int, int, bool, str]] = []
        for n in range(min(len(words), _MAX_NGRAM), 0, -1):
            for start in range(len(words) - n + 1):
                if any(taken[start : start + n]):
                    continue
                key = " ".join(words[start : start + n])
                exact_hit = key in self._titles
                typo_keys: set[str] = set()
                common = all(w in _COMMON_WORDS for w in words[start : start + n])
                if not exact_hit and not common and n <= 3 and len(key) >= self.min_typo_chars:
                    for variant in {key, *_deletes(key)}:
                        typo_keys |= self._typos.get(variant, set())
                    typo_keys = {k for k in typo_keys if _within_one_edit(k, key)}
                if not exact_hit and not typo_keys:
                    continue
                if n == 1 and key in _COMMON_WORDS or len(key) < 2:
                    capital = raw[start][:1].isupper() and start > 0
                    if not (capital or key in quoted):
                        continue
                for i in range(start, start + n):
                    taken[i] = True
                for matched in [key] if exact_hit else sorted(typo_keys):
                    for movie_id, exact in self._titles[matched].items():
                        found.append((movie_id, n, exact and exact_hit, key))
        if not found:  # Hangul only when no Latin title matched
            found = self._hangul_matches(words, taken)
        if years and any(self.movies[f[0]].year in years for f in found):
            found = [f for f in found if self.movies[f[0]].year in years]  # the year decides
        best: dict[int, TitleMatch] = {}
        order: dict[int, tuple[int, int, int, int]] = {}
        for movie_id, n, exact, phrase in found:
            year_hit = self.movies[movie_id].year in years
            rank = (-n, -int(year_hit), -int(exact), -self.popularity.get(movie_id, 0))
            if movie_id not in order or rank < order[movie_id]:
                order[movie_id] = rank
                best[movie_id] = TitleMatch(movie_id, phrase, exact)
        return [best[i] for i in sorted(order, key=lambda i: (order[i], i))]

    def _hangul_matches(
        self, words: list[str], taken: list[bool]
    ) -> list[tuple[int, int, bool, str]]:
        """Titles written in Hangul (인셉션 = Inception), by consonant skeleton: runs of up to
        three Korean words, longest first; of titles with the same skeleton the most rated."""
        hangul = [is_title_word(w) and not self._hangul_person(w) for w in words]
        for i in range(len(words) - 1):  # a two-word name is not a title
            if hangul[i] and hangul[i + 1] and self._hangul_person(f"{words[i]} {words[i + 1]}"):
                hangul[i] = hangul[i + 1] = False
        found: list[tuple[int, int, bool, str]] = []
        for n in (3, 2, 1):
            for start in range(len(words) - n + 1):
                span = range(start, start + n)
                if not all(hangul[i] and not taken[i] for i in span):
                    continue
                phrase = " ".join(strip_particle(words[i]) for i in span)
                ids = self._skeletons.get(hangul_skeleton(phrase), [])
                if not ids:
                    continue
                for i in span:
                    taken[i] = True
                found.append((ids[0], n, False, phrase))  # the most rated of equal skeletons
        return found

    def titles_in_text(self, text: str) -> list[TitleMatch]:
        """Catalog titles written title-cased in generated text, e.g. "The Dark Knight" or
        "Inception" (to tell when a model names a movie it was not given).

        Stricter than :meth:`title_matches`: exact phrases only, every word capitalized but
        the small joining words, and a one-word title only when it is not a common word.
        """
        raw = _WORDS.findall(split_scripts(unicodedata.normalize("NFKC", text)).replace("'", ""))
        words = [fold(w) for w in raw]
        capital = [w[:1].isupper() or w[:1].isdigit() or fold(w) in _JOINING for w in raw]
        taken = [False] * len(words)
        found: list[TitleMatch] = []
        for n in range(min(len(words), _MAX_NGRAM), 0, -1):
            for start in range(len(words) - n + 1):
                span = range(start, start + n)
                if any(taken[i] for i in span) or not all(capital[i] for i in span):
                    continue
                if not raw[start][:1].isupper() and not raw[start][:1].isdigit():
                    continue
                key = " ".join(words[start : start + n])
                if key not in self._titles or not any(self._titles[key].values()):
                    continue
                if n == 1 and (key in _COMMON_WORDS or len(key) < 4 or key.isdigit()):
                    continue  # "2012" in an answer is a year
                for i in span:
                    taken[i] = True
                found += [
                    TitleMatch(i, key, True) for i, exact in self._titles[key].items() if exact
                ]
        return found

    def close_titles(self, asked: str, limit: int = 3) -> list[int]:
        """Catalog movies whose titles are close to a title the catalog does not have: most of
        the asked title's words are in theirs ("The Batman (2022)" -> Batman (1989), Batman
        Begins, ...; "Top Gun: Maverick" -> Top Gun), most alike first, then most rated.

        Words are compared without articles, joining words and years; the part before a colon
        counts on its own ("Dune: Part Two" is close to Dune). A title sharing half the words
        or fewer ("Top Gun" and By the Gun, "Killers of the Flower Moon" and The Killers) is
        not close.

        Example:
            >>> index = TitleIndex([Movie(1, "Batman", 1989), Movie(2, "Batman Begins", 2005),
            ...                     Movie(3, "Heat", 1995)], {1: 50, 2: 60})
            >>> index.close_titles("The Batman (2022)")
            [1, 2]
        """
        askeds = [self._content_words(asked)]
        if ":" in asked:
            askeds.append(self._content_words(asked.split(":", 1)[0]))
        askeds = [a for a in askeds if a]
        if not askeds:
            return []
        scored: dict[int, tuple[float, int]] = {}
        for movie in self.movies.values():
            words = self._title_words[movie.movie_id]
            if not words:
                continue
            for wanted in askeds:
                shared = len(wanted & words)
                if shared / len(wanted) <= 0.5 or shared / len(words) < 1 / 3:
                    continue
                alike = shared / len(wanted | words)
                best = scored.get(movie.movie_id, (0.0, 0))
                scored[movie.movie_id] = max(best, (alike, shared))
        ranked = sorted(
            scored,
            key=lambda i: (-scored[i][0], -self.popularity.get(i, 0), i),
        )
        return ranked[:limit]

    @staticmethod
    def _content_words(text: str) -> set[str]:
        return {
            w
            for w in words_of(_YEAR.sub(" ", text))
            if w not in _ARTICLES and w not in _JOINING and w not in STOP_WORDS
        }

    def is_person(self, phrase: str) -> bool:
        """Whether ``phrase`` is the name of a director or cast member in the catalog."""
        return " ".join(words_of(phrase)) in self._people

    def _hangul_person(self, phrase: str) -> str | None:
        """A name written in Hangul: a Korean one as one word of three syllables (봉준호 = Bong
        Joon-ho, three romanized parts) or a foreign one as two words (크리스토퍼 놀란), whose
        skeleton has at least four classes; the most credited such person."""
        if not all(is_title_word(w) for w in phrase.split()):
            return None
        words = [strip_particle(w) for w in phrase.split()]
        if len(words) == 1 and len(words[0]) == 3:
            parts = 3
        elif len(words) == 2:
            parts = 2
        else:
            return None
        skeleton = hangul_skeleton(" ".join(words))
        names = self._person_skeletons.get(skeleton, []) if len(skeleton) >= 4 else []
        names = [n for n in names if len(n.split()) == parts]
        return names[0] if names else None

    def person_matches(self, query: str) -> list[str]:
        """Names of directors or cast members the query mentions: two words or more in Latin
        letters, or a Korean name in Hangul."""
        words = words_of(query)
        names = []
        for n in (4, 3, 2):
            for start in range(len(words) - n + 1):
                key = " ".join(words[start : start + n])
                if key in self._people:
                    names.append(key)
        phrases = [*words, *(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))]
        names += [name for name in map(self._hangul_person, phrases) if name]
        return list(dict.fromkeys(names))
