"""Question understanding in code: what a chat question asks and about which catalog entities.

The small local model is weak at reasoning, so the chat decides in code what is asked and
resolves it against the catalog before the model writes a word:

- the *kind*: a single fact about one movie (director, cast, year, genre), a list ("which movies
  did X direct?", "90s comedies", "what else did he direct?"), a comparison ("which is older,
  A or B?"), a question the catalog cannot answer (a movie it does not have, the future), or an
  open question left to retrieval and the model;
- the *entities*: titles (the title index: exact, one typo, Hangul), people (directors and cast,
  Latin or Hangul), years and decades ("the 90s", "90년대", "before 1980"), genres (English and
  Korean);
- *follow-ups*: pronouns and references ("he", "it", "the second one", "그 감독", "두 번째")
  resolved from the conversation's :class:`ChatState`, which each turn stores.

Example:
    >>> state = ChatState(movie_ids=(1,), person="Christopher Nolan", role="director")
    >>> ChatState.from_json(state.to_json()) == state
    True
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cinerec.data.types import Movie
from cinerec.db.movie_queries import Role
from cinerec.services.retrieval import CatalogRetriever
from cinerec.text.bm25 import fold
from cinerec.text.lang import GENRES_KO, HANGUL, HANGUL_RUN, LATIN, SYLLABLES

Kind = Literal["fact", "list", "compare", "not_in_catalog", "future", "open"]
Field = Literal["director", "cast", "year", "genre"]
Order = Literal["older", "newer", "more_rated", "less_rated", "better_rated"]


@dataclass(frozen=True, slots=True)
class ChatState:
    """What the last turn resolved, stored with the conversation for follow-ups.

    Attributes:
        movie_ids: The movies the turn was about (named or resolved), in order.
        person: The person it was about (a director or cast member), if any.
        role: ``director`` or ``cast``: how ``person`` was asked about.
        listed_ids: The movies its answer listed, in order ("the second one").
    """

    movie_ids: tuple[int, ...] = ()
    person: str | None = None
    role: str | None = None
    listed_ids: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (see :meth:`from_json`)."""
        return {
            "movie_ids": list(self.movie_ids),
            "person": self.person,
            "role": self.role,
            "listed_ids": list(self.listed_ids),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> ChatState:
        """The state stored by :meth:`to_json`; an empty state for None or malformed data."""
        if not isinstance(data, Mapping):
            return cls()
        try:
            return cls(
                movie_ids=tuple(int(i) for i in data.get("movie_ids") or ()),
                person=str(data["person"]) if data.get("person") else None,
                role=str(data["role"]) if data.get("role") else None,
                listed_ids=tuple(int(i) for i in data.get("listed_ids") or ()),
            )
        except (TypeError, ValueError):
            return cls()


@dataclass(frozen=True)
class Query:
    """A question resolved against the catalog (see the module docstring)."""

    kind: Kind
    field: Field | None = None
    movies: tuple[Movie, ...] = ()
    person: str | None = None
    role: Role = "any"
    year_from: int | None = None
    year_to: int | None = None
    genre: str | None = None
    order: Order | None = None
    exclude: tuple[int, ...] = ()
    follow_up: bool = False
    asked_title: str = ""
    near: tuple[Movie, ...] = ()  # not in the catalog: catalog movies with close titles


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


DIRECTOR = _rx(r"\bdirect\w*|\bfilmmaker|감독|연출")
CAST = _rx(
    r"\bstar(?:s|red|ring)?\b|\bcast\b|\bact(?:or|ors|ress|ed|s)?\b|\bplay(?:s|ed)?\b|"
    r"\bappear\w*|\b(?:was|is|were|been) (?:he|she|they) in\b|\bbeen in\b|출연|배우|주연|나온"
)
YEAR = _rx(r"\bwhen\b|\bwhat year|\bwhich year|\breleas\w*|\bcame out|언제|몇 년|개봉|연도")
GENRE_ASK = _rx(r"\bgenres?\b|\bwhat kind of (?:movie|film)|\bwhat type of (?:movie|film)|장르")
LIST = _rx(
    r"\b(?:which|what) (?:other )?(?:movies|films)\b|\b(?:movies|films) (?:by|with|from|of|"
    r"directed|starring|that)\b|\bwhat else\b|\bother (?:movies|films)\b|\blist\b|"
    r"\bfilmography\b|\bany (?:movies|films)\b|\bname (?:some|a few)\b|"
    r"\bsome\b.*\b(?:movies|films)\b|\bwhat (?:did|has|have) (?:he|she|they)\b|"
    r"다른|작품|영화들|어떤 영화|무슨 영화|어떤 것|뭐가 있|목록|영화는\s*\??$|영화\s*(?:알려|뭐|있)"
)
ELSE = _rx(r"\belse\b|\bother\b|\banother\b|\bbesides\b|다른|말고|또")
OLDER = _rx(
    r"\bolder\b|\boldest\b|\bearlier\b|\bfirst\b|\bcame out first|더 오래|먼저|가장 오래|이전에"
)
NEWER = _rx(
    r"\bnewer\b|\bnewest\b|\bmore recent\b|\blater\b|\blatest\b|더 최근|나중에|최신|더 늦게"
)
MORE_RATED = _rx(
    r"\bmore (?:popular|ratings|rated)\b|\bmost (?:popular|rated)\b|더 인기|평가.*더 많"
)
BETTER = _rx(r"\bhigher[- ]rated\b|\bbetter[- ]rated\b|\bbetter\b|\bbest\b|평점|더 좋|더 나은")
COMPARE_FORM = _rx(r"\bwhich\b|\bor\b|\bvs\.?\b|\bversus\b|\bcompare|중|와|과|랑|아니면|어느")
FUTURE = _rx(
    r"\bwill\b|\bupcoming\b|\bnext (?:movie|film)\b|\bsequel coming\b|\bgoing to (?:direct|star|"
    r"release)|개봉 예정|다음 작품|앞으로|차기작|나올 예정"
)
PERSON_PRONOUN = _rx(r"\b(?:he|him|his|she|her|hers|they|them|their)\b|그는|그가|그의|그녀|그 사람")
DIRECTOR_REF = _rx(
    r"\bthe director\b|\bthat director\b|\bits director\b|그 감독|감독의 다른|이 감독"
)
ACTOR_REF = _rx(r"\bthat actor\b|\bthe actor\b|\bthat actress\b|그 배우|이 배우|주연 배우의")
MOVIE_REF = _rx(
    r"\bit\b|\bthat (?:movie|film|one)\b|\bthis (?:movie|film|one)\b|\bthe (?:movie|film)\b|"
    r"그 영화|이 영화|그거|그 작품"
)
ORDINALS = (
    (_rx(r"\bfirst one\b|\bthe first\b|\b1st\b|첫 번째|첫번째"), 0),
    (_rx(r"\bsecond one\b|\bthe second\b|\b2nd\b|두 번째|두번째"), 1),
    (_rx(r"\bthird one\b|\bthe third\b|\b3rd\b|세 번째|세번째"), 2),
    (_rx(r"\bfourth one\b|\bthe fourth\b|\b4th\b|네 번째|네번째"), 3),
    (_rx(r"\blast one\b|\bthe last\b|마지막"), -1),
)
_DECADE = re.compile(r"(?<!\d)(?:(19|20)?(\d)0)(?:'?s\b|\s*년대)", re.IGNORECASE)
_YEAR_NUM = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
_BEFORE = _rx(r"\bbefore\b|\bearlier than\b|\bprior to\b|이전|전에")
_AFTER = _rx(r"\bafter\b|\bsince\b|\blater than\b|이후|부터")
#: Genre words, English and Korean (lowercase), to the catalog's genre names.
GENRE_WORDS: dict[str, str] = {
    **{k.casefold(): v for v, k in GENRES_KO.items()},
    "comedy": "Comedy", "comedies": "Comedy", "drama": "Drama", "dramas": "Drama",
    "horror": "Horror", "thriller": "Thriller", "thrillers": "Thriller", "action": "Action",
    "adventure": "Adventure", "adventures": "Adventure", "animated": "Animation",
    "animation": "Animation", "cartoon": "Animation", "cartoons": "Animation",
    "children": "Children", "kids": "Children", "family": "Children", "crime": "Crime",
    "documentary": "Documentary", "documentaries": "Documentary", "fantasy": "Fantasy",
    "noir": "Film-Noir", "musical": "Musical", "musicals": "Musical", "mystery": "Mystery",
    "mysteries": "Mystery", "romance": "Romance", "romantic": "Romance", "romances": "Romance",
    "sci-fi": "Sci-Fi", "scifi": "Sci-Fi", "science fiction": "Sci-Fi", "war": "War",
    "western": "Western", "westerns": "Western", "애니": "Animation", "다큐": "Documentary",
    "누아르": "Film-Noir", "느와르": "Film-Noir", "공상과학": "Sci-Fi", "호러": "Horror",
}  # fmt: skip
_GENRE_RX = re.compile(
    "|".join(
        rf"(?<![\w-]){re.escape(w)}(?![a-z-])" for w in sorted(GENRE_WORDS, key=len, reverse=True)
    ),
    re.IGNORECASE,
)


def _decade(text: str) -> tuple[int, int] | None:
    match = _DECADE.search(text)
    if match is None:
        return None
    century, digit = match.group(1), int(match.group(2))
    start = (
        int(century) * 100 + digit * 10 if century else (1900 if digit >= 2 else 2000) + digit * 10
    )
    return start, start + 9


def _years(text: str) -> tuple[int | None, int | None]:
    decade = _decade(text)
    if decade:
        return decade
    years = [int(y) for y in _YEAR_NUM.findall(text)]
    if len(years) >= 2:
        return min(years), max(years)
    if years:
        if _BEFORE.search(text):
            return None, years[0] - 1
        if _AFTER.search(text):
            return years[0] + (0 if "since" in text.casefold() or "부터" in text else 1), None
        return years[0], years[0]
    return None, None


def _genre(text: str) -> str | None:
    match = _GENRE_RX.search(text)
    return GENRE_WORDS[match.group(0).casefold()] if match else None


def _self_contained(question: str, asked: str) -> bool:
    """A list question that says what it lists by itself (a genre or years): it starts anew
    rather than going on about the conversation's last person."""
    return _genre(asked) is not None or _years(question) != (None, None)


def _mask(text: str, phrases: list[str]) -> str:
    """``text`` without the phrases (folded): "Star Wars" asks nothing about stars."""
    folded = fold(text)
    for phrase in sorted(phrases, key=len, reverse=True):
        if phrase:
            folded = folded.replace(fold(phrase), " · ")
    return folded


# A Korean particle written onto a Latin title ("Toy Story와", "Heat의") is not part of it.
_PARTICLE = re.compile(
    r"(?<=[A-Za-z0-9)\]])(?:은\(는\)|는\(은\)|이\(가\)|을\(를\)|와\(과\)|과\(와\)|"
    r"이랑|하고|에서|으로|와|과|랑|의|은|는|이|가|을|를|에|도|로|나)(?=[\s?.,!]|$)"
)


def _not_a_title(phrase: str, folded: str) -> bool:
    """Words that name a year, a decade or a genre in this question, not a movie: "(1984)",
    "10년대", "War movies", "romance from the 60s"."""
    if phrase.isdigit():
        return bool(re.search(rf"\(\s*{phrase}\s*\)|{phrase}(?:'?s\b|\s*년대)", folded))
    if phrase in GENRE_WORDS:
        return bool(
            _DECADE.search(folded)
            or re.search(rf"{re.escape(phrase)}\s+(?:movies|films|영화)", folded)
        )
    return False


def _named_movies(retriever: CatalogRetriever, question: str) -> tuple[list[Movie], list[str]]:
    """Distinct movies the question names (one per phrase: the year, then popularity, decide),
    and the phrases that named them."""
    movies: list[Movie] = []
    phrases: list[str] = []
    question = _PARTICLE.sub(" ", question)
    folded = fold(question)
    # Hangul words next to a Latin title are no part of it ("Gremlins 몇" is one edit from
    # "Gremlins 2"): match the Latin words alone first, Hangul titles (메멘토) only after.
    latin = HANGUL_RUN.sub(" qqqqqqqq ", question) if len(LATIN.findall(question)) >= 3 else ""
    matches = retriever.title_matches(latin) if latin else []
    if not matches:
        matches = retriever.title_matches(question)
    if not matches:  # a one-word title that opens the question ("Big (1988)의 감독은")
        matches = retriever.title_matches(f"about {question}")
    for match in matches:
        if match.phrase in phrases or _not_a_title(match.phrase, folded):
            continue
        phrases.append(match.phrase)
        movies.append(retriever.movies[match.movie_id])
    where = {p: folded.find(p) for p in phrases}
    order = sorted(range(len(phrases)), key=lambda i: (where[phrases[i]] < 0, where[phrases[i]]))
    return [movies[i] for i in order], [phrases[i] for i in order]


def _stated_year_mismatch(question: str, movie: Movie) -> bool:
    """The question gives a year for the title that the catalog's movie does not have
    ("Parasite (2019)" when the catalog has only the 1982 one)."""
    years = [int(y) for y in _YEAR_NUM.findall(question)]
    return bool(years) and movie.year is not None and all(abs(y - movie.year) > 1 for y in years)


def _fact_field(text: str) -> Field | None:
    if DIRECTOR.search(text):
        return "director"
    if CAST.search(text):
        return "cast"
    if YEAR.search(text):
        return "year"
    if GENRE_ASK.search(text):
        return "genre"
    return None


def _ordinal(text: str, ids: tuple[int, ...]) -> int | None:
    for pattern, index in ORDINALS:
        if pattern.search(text) and ids:
            if -len(ids) <= index < len(ids):
                return ids[index]
    return None


def understand(
    question: str, *, retriever: CatalogRetriever, state: ChatState | None = None
) -> Query:
    """Resolve ``question`` against the catalog and the conversation's state.

    Recommendation requests are left to the caller (see
    :func:`cinerec.services.chat_facts.detect_intent`); what this cannot resolve is ``open``.
    """
    state = state or ChatState()
    known = retriever.movies
    picked = _ordinal(question, state.listed_ids or state.movie_ids)
    if picked is not None and picked in known:  # "the second one" is no title ("Seconds")
        movies, phrases = [known[picked]], []
    else:
        movies, phrases = _named_movies(retriever, question)
    people = retriever.people_in(question)
    # A person's name is not a title ("Tom Hanks" is not the movie "Hanks").
    if phrases:
        kept = [
            i
            for i, p in enumerate(phrases)
            if not any(fold(p) in fold(person) for person in people)
            and not (people and HANGUL.search(p))  # a Hangul look-alike beside a named person
        ]
        movies, phrases = [movies[i] for i in kept], [phrases[i] for i in kept]
    asked = _mask(question, [*phrases, *people])
    follow = picked is not None and picked in known

    if FUTURE.search(asked):
        return Query("future", movies=tuple(movies), person=people[0] if people else None)

    # Follow-ups: "the second one", "it", "he", "그 감독".
    if not movies and not people:
        if DIRECTOR_REF.search(asked) and state.movie_ids:
            subject = known.get(state.movie_ids[0])
            names = subject.directors if subject else ()
            if state.person and state.role == "director":
                names = (state.person,)
            if names:
                people, follow = [names[0]], True
        elif ACTOR_REF.search(asked) and (state.person or state.movie_ids):
            subject = known.get(state.movie_ids[0]) if state.movie_ids else None
            name = state.person if state.role == "cast" else None
            name = name or (subject.cast[0] if subject and subject.cast else None)
            if name:
                people, follow = [name], True
        elif PERSON_PRONOUN.search(asked) and (state.person or state.movie_ids):
            name = state.person
            if name is None and state.movie_ids and state.movie_ids[0] in known:
                subject = known[state.movie_ids[0]]
                if CAST.search(asked) and subject.cast:
                    name = subject.cast[0]
                elif subject.directors:
                    name = subject.directors[0]
            if name:
                people, follow = [name], True
        elif MOVIE_REF.search(asked) and state.movie_ids:
            movies = [known[i] for i in state.movie_ids[:1] if i in known]
            follow = bool(movies)
        elif state.person and (
            ELSE.search(asked) or (LIST.search(asked) and not _self_contained(question, asked))
        ):
            # "what else?" and "list them" go on about the last person; "2000년대 로맨스 영화
            # 알려줘" after a question about Nolan is a new list of its own, not Nolan's.
            people, follow = [state.person], True

    order: Order | None = None
    if BETTER.search(asked) and not MORE_RATED.search(asked):
        order = "better_rated"
    elif MORE_RATED.search(asked):
        order = "more_rated"
    elif OLDER.search(asked):
        order = "older"
    elif NEWER.search(asked):
        order = "newer"
    if order and COMPARE_FORM.search(asked):
        pair = movies[:2]
        if (
            len(pair) < 2
            and state.listed_ids
            and re.search(r"\bthem\b|\bthese\b|둘 중|그 중", asked)
        ):
            pair = [known[i] for i in state.listed_ids[:2] if i in known]
            follow = True
        if len(pair) == 2:
            return Query("compare", movies=tuple(pair), order=order, follow_up=follow)

    fact = _fact_field(asked)
    wants_list = bool(LIST.search(asked)) or (bool(ELSE.search(asked)) and bool(people))
    year_from, year_to = _years(_mask(question, phrases))
    genre = _genre(asked)

    if people and (wants_list or not movies):
        person = people[0]
        role: Role = (
            "director" if DIRECTOR.search(asked) else "cast" if CAST.search(asked) else "any"
        )
        exclude = tuple(m.movie_id for m in movies)
        if ELSE.search(asked) and not movies:  # "what else did he direct?": not the last movie
            movies = [known[i] for i in state.movie_ids[:1] if i in known]
            exclude = tuple(m.movie_id for m in movies)
        return Query(
            "list",
            movies=tuple(movies),
            person=person,
            role=role,
            year_from=year_from,
            year_to=year_to,
            genre=genre,
            exclude=exclude,
            follow_up=follow,
        )

    if movies:
        movie = movies[0]
        if _stated_year_mismatch(question, movie) and not follow:
            return _not_in_catalog(retriever, question, phrases[0] if phrases else "")
        if phrases and not follow and _inside_a_longer_title(question, phrases, movie):
            return _not_in_catalog(retriever, question, phrases[0])
        if wants_list and fact == "director":  # "other films by the director of Memento"
            names = movie.directors
            if not names:
                return Query("fact", field="director", movies=(movie,), follow_up=follow)
            return Query(
                "list",
                movies=(movie,),
                person=names[0],
                role="director",
                exclude=(movie.movie_id,),
                follow_up=follow,
            )
        if fact is not None:
            return Query("fact", field=fact, movies=(movie,), follow_up=follow)
        return Query("open", movies=tuple(movies), follow_up=follow)

    if fact in ("director", "cast", "year") and not wants_list and _asks_about_a_title(asked):
        return _not_in_catalog(retriever, question, "")
    if (genre or year_from or year_to) and (
        wants_list or re.search(r"\bmovies\b|\bfilms\b|영화", asked)
    ):
        return Query("list", year_from=year_from, year_to=year_to, genre=genre)
    return Query("open")


_TITLE_TAIL = _rx(
    r"(?:who (?:directed|starred in|was in|stars in)|when was|what year was)\s+"
    r"(.+?)(?:\s+released)?\s*\??$"
)


def _asks_about_a_title(asked: str) -> bool:
    """Whether a fact question names something in the place of a title ("who directed X?")."""
    return bool(_TITLE_TAIL.search(asked.strip())) or bool(
        re.search(r"\S+\s*(?:의 감독|에 출연|은|는)\s", asked)
    )


#: "Parasite (2019)의 감독은 누구인가요?": the title before the particle of the asked fact.
_TITLE_HEAD_KO = re.compile(r"^(.+?)\s*(?:의 감독|에 출연|에 나온|은\(는\)|[은는]\s)")


def _title_guess(question: str) -> str:
    """The title as the question writes it ("The Batman (2022)"), or ""."""
    text = question.strip()
    match = _TITLE_TAIL.search(text) or _TITLE_HEAD_KO.search(text)
    return match.group(1).strip(" ?") if match else ""


def _not_in_catalog(retriever: CatalogRetriever, question: str, phrase: str) -> Query:
    """A movie the catalog does not have: the title as asked (else the matched ``phrase``) and
    the catalog's movies with close titles, to name instead."""
    asked = _title_guess(question) or _title_around(question, phrase) or phrase
    near = [retriever.movies[i] for i in retriever.titles.close_titles(asked or phrase)]
    return Query("not_in_catalog", asked_title=asked, near=tuple(near))


#: Small words inside a title ("Everything Everywhere All at Once", "Lord of the Rings").
_TITLE_JOINERS = frozenset("a an and at by for in of on or the to vs with &".split())
#: Capitalised words that open a question, not a title ("Tell me about ...", "Is ...").
_NOT_TITLE_WORDS = frozenset(
    "tell is was are were did does do have has who what when which how why where i you me "
    "about please can could would should".split()
)
_TOKEN = re.compile(r"[^\s]+")


def _inside_a_longer_title(question: str, phrases: list[str], movie: Movie) -> bool:
    """The matched phrase is a piece of a longer title the question writes: "Tell me about
    Everything Everywhere All at Once" matched "once", and the catalog's Once (2006) is another
    movie. True when the capitalised span around the phrase (:func:`_title_around`) has at least
    two words that the matched movie's title lacks (small joining words and a "(year)" aside)
    and holds no other phrase of the question ("Heat and Memento" names two movies)."""
    around = _title_around(question, phrases[0])
    if not around or any(fold(p) in fold(around) for p in phrases[1:]):
        return False
    own = set(re.findall(r"\w+", fold(movie.title)))
    words = re.findall(r"\w+", fold(re.sub(r"\((?:18|19|20)\d\d\)", " ", around)))
    extra = [w for w in words if w not in own and w not in _TITLE_JOINERS]
    return len(extra) >= 2


def _titleish(word: str) -> bool:
    core = word.strip(":,-–'’\"!")
    if not core or core.lower() in _NOT_TITLE_WORDS or HANGUL.search(core):
        return False
    return core[0].isupper() or core[0].isdigit() or core.lower() in _TITLE_JOINERS


def _title_around(question: str, phrase: str) -> str:
    """The whole title the question writes around a matched fragment: "Tell me about Dune: Part
    Two (2024)" matched "dune" (the catalog's Dune), and the catalog lacks "Dune: Part Two
    (2024)". The capitalised words (and small joining words) on both sides of the fragment,
    and a "(year)" right after them; "" when the fragment is not found in the question."""
    if not phrase:
        return ""
    words = [re.escape(w) for w in re.findall(r"\w+", phrase)]
    if not words:
        return ""
    found = re.search(
        r"(?<!\w)" + r"\W+".join(words) + rf"(?![^\W{SYLLABLES}])", question, re.IGNORECASE
    )
    if found is None:
        return ""
    tokens = [(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(question)]
    inside = [i for i, (a, b, _) in enumerate(tokens) if a < found.end() and b > found.start()]
    if not inside:
        return ""
    first, last = inside[0], inside[-1]
    while (
        first > 0
        and _titleish(tokens[first - 1][2])
        and not tokens[first - 1][2].endswith(("?", ".", ","))
    ):
        first -= 1
    while (
        last + 1 < len(tokens)
        and _titleish(tokens[last + 1][2])
        and not tokens[last][2].endswith(("?", ".", ","))
    ):
        last += 1
    while first < last and tokens[first][2].lower() in _TITLE_JOINERS - {"the", "a", "an"}:
        first += 1
    start, end = tokens[first][0], tokens[last][1]
    year = re.match(r"\s*\((?:18|19|20)\d\d\)", question[end:])
    if year:
        end += year.end()
    title = question[start:end]
    hangul = HANGUL.search(title, found.end() - start)  # "Run은": the particle is no title
    if hangul:
        title = title[: hangul.start()]
    return title.strip(" ?!.,:;'\"")
