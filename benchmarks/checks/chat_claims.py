"""What a chat answer claims, checked against the catalog without the product's grounding code.

Its own normalisation and matching (nothing from ``cinerec.llm``): the movies an answer names
(``[#id]`` citations and ``Title (Year)`` mentions), the catalog people it names (two words or
more, Latin letters), and the years it states. :func:`false_claims` lists statements that the
catalog contradicts:

- a cited id that is not a catalog movie, or a ``Title (Year)`` before a citation that is not
  that movie (another year, or another catalog movie's title of that year);
- a person named beside movies none of which they directed or acted in, unless the question
  named that person (``Christopher Nolan directed Homefront (2013)``);
- a movie listed for a person who neither directed nor acted in it;
- a year that is no named movie's year and not one the question gave;
- a ratings count said of a movie that has another count (counts need ``ratings``);
- a comparison that names one movie twice and no other ("X is older: 1996, and X 1996");
- a comparison verdict the catalog contradicts: the movie said to be older, newer, more or
  less rated is not ("X의 평가 수가 더 많은 영화는 Y입니다" says Y);
- "not in the catalog" said of a name that is a catalog title ("could not find 'dune'");
- "the K most rated of N" of a person's movies when an unlisted movie of theirs (not set aside
  with "Besides X" / "X 외에") has more ratings than a listed one.

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
    ratings: int | None = None  # ratings count in the catalog, when known


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
        found, problems = self.named_at(text)
        ids = [movie_id for _, movie_id in found]
        return list(dict.fromkeys(ids)), problems

    def _other_title(self, before: str, movie: CatalogMovie) -> str | None:
        """The title of another catalog movie of the same year that ``before`` (the words
        before a ``(Year) [#id]``) ends with, when it does not end with ``movie``'s own title:
        "Snatch (2000) [#4027]" where #4027 is O Brother, Where Art Thou? (2000)."""
        words = norm(before).split()
        ends = [" ".join(words[start:]) for start in range(len(words))]
        if any(end in title_forms(movie.title) for end in ends):
            return None
        for end in ends:
            for other in self.by_title.get(end, []):
                if other != movie.movie_id and self.movies[other].year == movie.year:
                    return self.movies[other].title
        return None

    def named_at(self, text: str) -> tuple[list[tuple[int, int]], list[str]]:
        """Every naming of a movie as ``(position, movie id)``, in text order, and problems."""
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
                found.append((pair.start(2) - 1, hits[0]))  # at its year: the title ends there
        for m in re.finditer(r"([^\[\]\n]{1,100}?)\s*\((\d{4})\)\s*\[#(\d+)\]", text):
            movie = self.movies.get(int(m.group(3)))
            if movie is not None and movie.year != int(m.group(2)):
                problems.append(
                    f"[#{movie.movie_id}] is {movie.title} ({movie.year}), not {m.group(2)}"
                )
            elif movie is not None and (other := self._other_title(m.group(1), movie)):
                problems.append(f"[#{movie.movie_id}] is {movie.title}, not {other}")
        # A title followed by its citation is one naming (the pair's start is the title's).
        found = sorted(set(found))
        merged: list[tuple[int, int]] = []
        for at, movie_id in found:
            if merged and merged[-1][1] == movie_id and 0 <= at - merged[-1][0] <= 100:
                between = text[merged[-1][0] : at]
                if not re.search(r"[.!?,;:]\s|\s(?:and|than|for|vs)\s|보다|와|과", between):
                    continue
            merged.append((at, movie_id))
        return merged, problems


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
    problems += comparison_problems(catalog, answer)
    problems += not_found_problems(catalog, answer)
    problems += most_rated_problems(catalog, answer)
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


COMPARING = re.compile(
    r"\b(?:older|newer|more recent|earlier|later|more|fewer|less|than)\b|오래|최근|많|적|보다",
    re.IGNORECASE,
)
RATINGS_WORD = re.compile(r"\bratings?\b|평가\s*수|평가수", re.IGNORECASE)
COUNT = re.compile(r"(?<![\d#])(\d{1,4})(?!\d|\)\s*\[|\s*(?:년|편|th|s\b))")


def _sentences(text: str) -> list[tuple[int, str]]:
    """``(start, sentence)``; a period after a title's "vs"/"Mr"/"Dr"/"St"/"Jr" or an
    initial ends nothing."""
    out, start = [], 0
    for end in re.finditer(r"[.!?]+\s+|\n+", text):
        words = re.findall(r"[A-Za-z']+|\S", text[start : end.start()])
        last = words[-1].lower() if words else ""
        if last in {"vs", "v", "mr", "mrs", "ms", "dr", "st", "jr", "sr", "vol"} or (
            len(last) == 1 and last.isalpha()
        ):
            continue
        out.append((start, text[start : end.end()]))
        start = end.end()
    out.append((start, text[start:]))
    return [(at, sentence) for at, sentence in out if sentence.strip()]


def _title_spans(catalog: ClaimCatalog, text: str) -> list[tuple[int, int]]:
    """Where the text writes a ``Title (Year)`` or a citation (numbers there are no counts)."""
    spans = [(m.start(), m.end()) for m in CITE.finditer(text)]
    spans += [(m.start(2) - 1, m.end(2) + 1) for m in TITLE_YEAR.finditer(text)]
    return spans


def comparison_problems(catalog: ClaimCatalog, answer: str) -> list[str]:
    """Counts said of the wrong movie, a movie compared with itself, a wrong verdict."""
    problems: list[str] = []
    named, _ = catalog.named_at(answer)
    for start, sentence in _sentences(answer):
        end = start + len(sentence)
        here = [(at, i) for at, i in named if start <= at < end]
        if not here:
            continue
        ids = [i for _, i in here]
        comparing = bool(COMPARING.search(CITE.sub(" ", sentence)))
        if comparing and len(ids) >= 2 and len(set(ids)) == 1:
            m = catalog.movies[ids[0]]
            problems.append(f"compares {m.title} ({m.year}) with itself")
            continue
        if RATINGS_WORD.search(sentence):
            problems += _count_problems(catalog, answer, start, sentence, here)
        if comparing and len(set(ids)) == 2:
            problems += _verdict_problems(catalog, sentence, start, here)
    return problems


def _count_problems(
    catalog: ClaimCatalog, answer: str, start: int, sentence: str, here: list[tuple[int, int]]
) -> list[str]:
    problems = []
    spans = _title_spans(catalog, answer)
    for movie_id in {i for _, i in here}:  # "Big Hero 6", "8 Mile": a title's number is no count
        for form in _raw_title_forms(catalog.movies[movie_id].title):
            for hit in re.finditer(re.escape(form), sentence, re.IGNORECASE):
                spans.append((start + hit.start(), start + hit.end()))
    for number in COUNT.finditer(sentence):
        at = start + number.start()
        if any(a <= at < b for a, b in spans):
            continue
        if (
            sentence[number.start() - 1 : number.start()] == "("
            and sentence[number.end() : number.end() + 1] == ")"
        ):  # "(2000)": a year beside a title the checker did not find
            continue
        tail = sentence[number.end() :]
        owner = None
        following = re.match(r"\s*(?:ratings?\s+)?(?:for|of)\s+", tail, re.IGNORECASE)
        if following:  # "40 for Y": Y's (unread when Y is not found: no claim read)
            later = [i for pos, i in here if pos >= start + number.end()]
            if not later:
                continue
            owner = later[0]
        else:  # the last movie named before it, not the one compared against ("than Y")
            before = [i for pos, i in here if pos < at and not _compared_against(answer, pos)]
            owner = before[-1] if before else None
        movie = catalog.movies.get(owner) if owner is not None else None
        if movie is None or movie.ratings is None:
            continue
        if int(number.group(1)) != movie.ratings:
            problems.append(
                f"{movie.title} ({movie.year}) has {movie.ratings} ratings, not {number.group(1)}"
            )
    return problems


def _raw_title_forms(title: str) -> set[str]:
    """A catalog title as written: ``Godfather, The`` -> also ``The Godfather``; without a
    bracketed alias."""
    forms = {title, re.sub(r"\s*\([^)]*\)\s*$", "", title).strip()}
    for t in list(forms):
        m = re.match(r"^(.*), (The|A|An)$", t)
        if m:
            forms.add(f"{m.group(2)} {m.group(1)}")
    return {f for f in forms if f}


def _compared_against(text: str, pos: int) -> bool:
    """Whether the movie named at ``pos`` follows "than" or precedes "보다"."""
    ahead = re.match(
        r"[^\s\[]*(?:\s*\(\d{4}\))?\s*(?:\[\s*#\s*\d+\s*\])?\s*\S{0,4}보다", text[pos:]
    )
    behind = re.search(r"\bthan\s+[^\[.;:]{0,90}$", text[:pos], re.IGNORECASE)
    return bool(ahead or behind)


def _verdict_problems(
    catalog: ClaimCatalog, sentence: str, start: int, here: list[tuple[int, int]]
) -> list[str]:
    """The movie a comparison's sentence says wins: the one after "영화는" ("더 많은 영화는
    Y입니다"), else the one before "than"/"보다" loses, else the first named wins."""
    ids = list(dict.fromkeys(i for _, i in here))
    a, b = (catalog.movies[i] for i in ids[:2])
    plain = CITE.sub(" ", sentence)
    if RATINGS_WORD.search(plain) and re.search(r"\b(?:more|fewer|less)\b|많|적", plain):
        fewer = bool(re.search(r"\b(?:fewer|less)\b|적", plain))
        if a.ratings is None or b.ratings is None or a.ratings == b.ratings:
            return []
        key = (lambda m: -m.ratings) if not fewer else (lambda m: m.ratings)  # type: ignore[operator]
        what = "to have fewer ratings" if fewer else "to have more ratings"
    elif re.search(r"\b(?:older|earlier)\b|오래|먼저", plain):
        if not a.year or not b.year or a.year == b.year:
            return []
        key, what = (lambda m: m.year), "to be older"  # type: ignore[assignment]
    elif re.search(r"\b(?:newer|more recent|later)\b|최근|나중", plain):
        if not a.year or not b.year or a.year == b.year:
            return []
        key, what = (lambda m: -m.year), "to be newer"  # type: ignore[assignment, operator]
    else:
        return []
    right = min((a, b), key=key)
    movie_is = re.search(r"(?:영화는|movie is|one is)\s*", sentence)
    than = re.search(r"\bthan\b|보다", sentence)
    if movie_is:
        after = [i for pos, i in here if pos >= start + movie_is.end() - 1]
        claimed = catalog.movies[after[0]] if after else None
    elif than:
        before = [i for pos, i in here if pos < start + than.start()]
        after = [i for pos, i in here if pos >= start + than.start()]
        if re.search(r"보다", than.group(0)):  # "Y보다 X가 더 오래됐습니다" / "X는 Y보다 ..."
            loser = before[-1] if before else None
            claimed = a if loser == b.movie_id else b if loser == a.movie_id else None
        else:
            loser = after[0] if after else None
            claimed = a if loser == b.movie_id else b if loser == a.movie_id else None
    else:
        claimed = a
    if claimed is None or claimed.movie_id == right.movie_id:
        return []
    return [f"{claimed.title} ({claimed.year}) is said {what}, but that is {right.title}"]


NOT_FOUND = re.compile(
    r"(?:find|found|have|has)\s+(?:that movie\s+|the movie\s+)?['‘\"]?(?P<en>[^'’\"]+?)['’\"]?"
    r"\s+in the catalog|does not have\s+(?P<en2>.+?),\s+so|카탈로그에서?\s+(?:그 영화\s+)?"
    r"['‘\"]?(?P<ko>[^'’\"]+?)['’\"]?(?:을|를|이\(가\)|이|가)\s*(?:찾지 못|없)",
)


def not_found_problems(catalog: ClaimCatalog, answer: str) -> list[str]:
    """A "not in the catalog" said of a name the catalog has as a title (with that year when one
    is given): "I could not find that movie 'dune'" while the catalog has Dune (1984)."""
    problems = []
    for m in NOT_FOUND.finditer(answer):
        name = (m.group("en") or m.group("en2") or m.group("ko") or "").strip()
        year = re.search(r"\((\d{4})\)\s*$", name)
        key = norm(re.sub(r"\s*\(\d{4}\)\s*$", "", name))
        hits = catalog.by_title.get(key, [])
        if year:
            hits = [i for i in hits if catalog.movies[i].year == int(year.group(1))]
        if hits:
            movie = catalog.movies[hits[0]]
            problems.append(
                f"says {name!r} is not in the catalog, but {movie.title} ({movie.year}) is"
            )
    return problems


MOST_RATED = re.compile(r"the (\d+) most rated of (\d+)|모두 (\d+)편 중 평가가 많은 (\d+)편")


def most_rated_problems(catalog: ClaimCatalog, answer: str) -> list[str]:
    """A "These are the K most rated of N" of a person's movies: no unlisted movie of theirs
    (besides those set aside with "Besides X," / "X 외에") has more ratings than a listed one."""
    if not MOST_RATED.search(answer):
        return []
    people = catalog.people_in(answer)
    if not people:
        return []
    person = people[0]
    directed = bool(re.search(r"\bdirected\b|감독한", answer))
    acted = bool(re.search(r"\bacted in\b|\bstarred in\b|출연한", answer))
    theirs = []
    for m in catalog.movies.values():
        as_director = any(norm(d) == person for d in m.directors)
        as_cast = any(norm(c) == person for c in m.cast)
        if (as_director and (directed or not acted)) or (as_cast and (acted or not directed)):
            theirs.append(m)
    aside_text = ""
    besides = re.search(r"Besides (.+?), [A-Z]", answer)
    if besides:
        aside_text = besides.group(1)
    ko_aside = re.search(r"^(.+?) 외에", answer)
    if ko_aside:
        aside_text += "   " + ko_aside.group(1)
    aside = set(catalog.named_movies(aside_text)[0]) if aside_text else set()
    for part in re.split(r"\s{2,}", aside_text.strip()):  # "Alien³ (a.k.a. Alien 3) (1992)"
        year = re.search(r"\((\d{4})\)\s*$", part)
        key = norm(re.sub(r"\s*\(\d{4}\)\s*$", "", part))
        hits = catalog.by_title.get(key, [])
        aside |= {i for i in hits if not year or catalog.movies[i].year == int(year.group(1))}
    listed = [i for i in catalog.named_movies(answer)[0] if i not in aside]
    if not listed or any(catalog.movies[i].ratings is None for i in listed):
        return []
    lowest = min(listed, key=lambda i: catalog.movies[i].ratings or 0)
    floor = catalog.movies[lowest].ratings or 0
    problems = []
    for m in theirs:
        if m.movie_id in aside or m.movie_id in listed or m.ratings is None:
            continue
        if m.ratings > floor:
            low = catalog.movies[lowest]
            problems.append(
                f"{m.title} ({m.year}, {m.ratings} ratings) is left out of the most rated while "
                f"{low.title} ({low.year}, {floor}) is listed"
            )
    return problems[:3]
