"""Claims in generated movie text, found with English and Korean lexicons and patterns.

A :class:`Claim` is one checkable statement: ``genre`` (a movie is of a genre), ``director`` and
``cast`` (a person's role in a movie), ``year`` (a movie's year), ``title`` (a movie is named:
a reason or persona may name only its own movie and the ticked ones), ``against`` (the text
argues against watching its movie), ``pronoun`` (a gendered pronoun or word such as "male"
for the viewer), ``watched`` (a movie cited as one the viewer ticked: "if you liked X"),
``tag`` (a non-taste tag such as IMAX called a genre or taste), ``taste`` (something the
viewer said they like: "your taste for X"), ``ticked_genre`` (in an English persona, a genre
said of the movies the viewer watched: "They watch mostly drama", "several of their movies are
also romance"), ``appositive`` (in an English reason, a person of the card's record called
something that is no role: "Ed Harris, a Princeton University"), ``mood`` (in a persona, a
mood, quality or style of the viewer's taste: "noisier, more intense", "quirky", "잔잔한"; its
value the word's group, :mod:`cinerec.llm.facts.moods`) and ``format`` (prompt formatting
such as ``[Action, Sci-Fi]``). Genre, role and year claims are about the
title mentioned nearest to them in their sentence, else about the text's own movie (``movie``
is None).

Genre words that describe the viewer ("fans of sci-fi", "공포 영화는 피하고") are not claims
about a movie.

Example:
    >>> index = TitleIndex((), trusted=["Inception", "Heat"])
    >>> [(c.kind, c.value, c.movie) for c in extract_claims("Inception is a horror film.", index)]
    [('title', 'Inception', 'Inception'), ('genre', 'Horror', 'Inception')]
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from cinerec.llm.facts.moods import mood_hits
from cinerec.text.lang import SYLLABLES, is_syllable

GENRE_WORDS_EN: dict[str, str] = {
    "action": "Action", "adventure": "Adventure", "adventures": "Adventure",
    "animated": "Animation", "animation": "Animation", "cartoon": "Animation",
    "family film": "Children", "family movie": "Children", "children's": "Children",
    "kids' movie": "Children", "comedy": "Comedy", "comedies": "Comedy", "comedic": "Comedy",
    "crime": "Crime", "documentary": "Documentary", "documentaries": "Documentary",
    "drama": "Drama", "dramas": "Drama", "fantasy": "Fantasy", "fantasies": "Fantasy",
    "film noir": "Film-Noir", "film-noir": "Film-Noir", "noir": "Film-Noir",
    "horror": "Horror", "musical": "Musical", "musicals": "Musical", "mystery": "Mystery",
    "mysteries": "Mystery", "romance": "Romance", "romances": "Romance", "romantic": "Romance",
    "sci-fi": "Sci-Fi", "science fiction": "Sci-Fi", "science-fiction": "Sci-Fi",
    "scifi": "Sci-Fi", "sci fi": "Sci-Fi", "thriller": "Thriller", "thrillers": "Thriller",
    "war film": "War", "war movie": "War", "war epic": "War", "war drama": "War",
    "western": "Western", "westerns": "Western",
}  # fmt: skip
GENRE_WORDS_KO: dict[str, str] = {
    "액션": "Action", "모험": "Adventure", "어드벤처": "Adventure", "애니메이션": "Animation",
    "가족 영화": "Children", "코미디": "Comedy", "코메디": "Comedy", "범죄": "Crime",
    "다큐멘터리": "Documentary", "드라마": "Drama", "판타지": "Fantasy", "필름 누아르": "Film-Noir",
    "누아르": "Film-Noir", "공포": "Horror", "호러": "Horror", "뮤지컬": "Musical",
    "미스터리": "Mystery", "로맨스": "Romance", "로맨틱": "Romance", "멜로": "Romance",
    "SF": "Sci-Fi", "공상과학": "Sci-Fi", "공상 과학": "Sci-Fi", "스릴러": "Thriller",
    "전쟁 영화": "War", "서부극": "Western", "서부 영화": "Western",
}  # fmt: skip
TAGS = ("IMAX", "아이맥스")

# A full stop after an initial or a title ("F. Gary Gray", "Dr. Stone") ends no sentence.
_SENTENCES = re.compile(
    r"(?<=[.!?。！？])(?<!\b[A-Z]\.)(?<!\bDr\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bSt\.)\s+|\n+"
)
_WORD = re.compile(r"[\w'’-]+")
# Latin and Hangul runs apart, so "Matrix는" is the word "Matrix" and a particle.
_TOKEN = re.compile(r"[A-Za-z0-9\u00C0-\u024F]+|[^\W_A-Za-z0-9\u00C0-\u024F]+")
# A person's name in Latin letters: it stops where a Korean particle is glued on ("James
# Cameron의", "Ewan McGregor가"); with ``\w`` the particle became part of the name, which then
# read as "a name in Hangul" that no record can check, so a Korean role claim was never checked.
_NAME_PART = r"[A-Z][A-Za-z0-9\u00C0-\u024F.'’-]+"
_NAME = rf"{_NAME_PART}(?:[ ]{_NAME_PART}){{1,3}}"
_HANGUL_NAME = rf"[{SYLLABLES}]{{2,6}}(?:[ ][{SYLLABLES}]{{2,6}}){{0,2}}"
_ROLE_EN = (
    ("director", re.compile(rf"\b(?i:directed by) ({_NAME})")),
    ("director", re.compile(rf"\b(?i:director|filmmaker) ({_NAME})")),
    ("director", re.compile(rf"({_NAME})['’]s? (?:direction|directing|film|movie)")),
    ("director", re.compile(rf"({_NAME})-directed")),
    ("cast", re.compile(rf"\b(?i:starring|stars|featuring|co-starring) ({_NAME})")),
    ("cast", re.compile(rf"({_NAME}) (?:stars|star|starred|plays|played|leads)\b")),
    ("cast", re.compile(rf"\b(?i:starring|stars|featuring) {_NAME} and ({_NAME})")),
    ("cast", re.compile(rf"\b(?i:actor|actress) ({_NAME})")),
)
# A person's movies listed by title: "Brad Pitt's movies, including Fight Club, Snatch and
# Léon", "movies starring Brad Pitt, such as ...", "Brad Pitt films like ...". Each listed title
# is a "person" claim: the catalog has them as its cast or its director (Qwen 1.5B credited
# Brad Pitt with The Great Escape and Léon in a persona, words_1.5b_v11).
_LIST_CUE = r",?[ ](?:including|such[ ]as|like)[ ]?:?"
_PERSON_LIST_EN = (
    re.compile(rf"({_NAME})['’]s[ ]?(?:movies|films|work){_LIST_CUE}"),
    re.compile(
        rf"\b(?i:movies|films)[ ](?i:starring|with|featuring|by|directed[ ]by)[ ]"
        rf"({_NAME}){_LIST_CUE}"
    ),
    re.compile(rf"({_NAME})[ ](?:movies|films){_LIST_CUE}"),
    # "Ridley Scott's work, who directed several of their favorite movies, including The Matrix"
    # (a persona on the browser test's page)
    re.compile(
        rf"({_NAME})(?:['’]s[ ]?(?:movies|films|work))?,?[ ]who[ ](?:directed|starred[ ]in"
        rf"|acted[ ]in|appeared[ ]in|is[ ]in|was[ ]in|stars[ ]in)[ ][^.;]{{0,80}}?{_LIST_CUE}"
    ),
)
# What may stand between two listed titles: commas, "and"/"or", a year, and capitalised words
# (a listed title the index does not know, the rest of one it knows by its first word: "Léon:
# The Professional"); any other word ends the list ("..., and also Toy Story").
_LIST_GAP_WORDS = frozenset(
    "and or of the a an in on to for with at from vs".split()  # a title's small words
)
_ROLE_KO = (
    ("director", re.compile(rf"({_NAME}|{_HANGUL_NAME}) ?감독")),
    ("director", re.compile(rf"감독(?:은|인|이)? ({_NAME})")),
    ("cast", re.compile(rf"({_NAME})(?:이|가|의|와|과)? ?(?:주연|출연)")),
    ("cast", re.compile(rf"(?:주연|출연)(?:한|하는|의|배우)? ({_NAME})")),
)
_YEAR = re.compile(r"(?<![\d#])((?:18|19|20)\d{2})(?:년)?(?![\d]|s\b|'s|년대)")
# Words before a genre that make it the viewer's taste, not a movie's genre.
_CUE_BEFORE_EN = re.compile(
    r"\b(?:taste|tastes|fan|fans|love|loves|lover|lovers|like|likes|enjoy|enjoys|prefer|"
    r"prefers|preference|preferences|into|avoid|avoids|no|not|hate|dislike|interest|interested|"
    r"passion|appetite|craving|favorite|favourite|your|their|his|her|watches|watching)\b",
    re.I,
)
_CUE_AFTER_EN = re.compile(
    r"^[\s-]*(?:fans?|lovers?|tastes?|preferences?|enthusiasts?|buffs?|viewers?)\b", re.I
)
_STOP_CUE_EN = re.compile(r"\b(?:is|are|was|as|this|it|its|with|which|that)\b", re.I)
_COPULA_KO = re.compile(
    r"^\s*(?:영화|장르|물|작품)?\s*(?:인|이므로|이라|입니다|이에요|예요|이고|이며|로서|으로서|답게)"
)
_CUE_AFTER_KO = re.compile(
    r"^\s*(?:영화|장르|물|작품)?\s*(?:를|을|는|은|도|만|가|이)?\s*"
    r"(?:좋아|싫어|피하|선호|즐겨|즐기|취향|팬|마니아|안 좋|별로)"
)
_CUE_BEFORE_KO = re.compile(
    r"(?:좋아하시는|좋아하는|즐겨 보시는|즐겨 보는|선호하시는|선호하는|취향인|취향의"
    r"|싫어하시는|피하시는)\s*$"
)
_NOUN_AFTER_KO = re.compile(r"^\s*(?:영화|장르|물|작품|스릴러|드라마|코미디|액션|판타지|로맨스)")
# "if you liked X", "X를 좋아하셨다면": X is cited as one the viewer ticked.
_WATCHED_BEFORE = re.compile(
    r"(?:\b(?:if|since|because|as) you(?:'ve| have)? (?:liked|loved|enjoyed|watched|saw|seen)"
    r"|\byou(?:'ve| have)? (?:liked|loved|enjoyed|watched)|보신|좋아하신|즐겨 보신)\s*$",
    re.I,
)
_WATCHED_AFTER = re.compile(
    r"\s*['\"’”」』]?\s*(?:\(\d{4}\))?\s*(?:을|를|이|가)?\s*"
    r"(?:좋아하셨|보셨|재미있게 보셨|즐겨 보셨"
    r"|, which you (?:watched|liked|loved|enjoyed|saw))",
    re.I,
)
_VIEWER_KO = re.compile(r"좋아|싫어|취향|선호|즐겨|시청자|관객|피하|마음에")
_AGAINST = re.compile(
    r"\b(?:won't|will not|wouldn't|would not|may not|might not|unlikely to|not going to|"
    r"probably won't|doesn't|does not|don't)\s+(?:\w+\s+){0,2}?"
    r"(?:enjoy|like|love|appeal|suit|be for|fit|interest|recommend)"
    r"|\bnot (?:a good fit|for you|your (?:kind|type|cup)|recommended)"
    r"|\b(?:avoid|skip) (?:this|it)\b|\bdisappoint"
    r"|좋아하지 않|즐기지 않|맞지 않|안 맞|추천하지 않|싫어하실|피하시는 게|피하세요"
    r"|보지 마|보지 말|보지 않|안 보셔도|볼 필요가? 없|실망",
    re.I,
)
_PRONOUN_EN = {
    "he": "m", "him": "m", "his": "m", "himself": "m",
    "she": "f", "her": "f", "hers": "f", "herself": "f",
}  # fmt: skip
_GENDER_WORDS = {
    "male": "m", "man": "m", "boy": "m", "guy": "m", "female": "f", "woman": "f", "girl": "f",
    "lady": "f",
}  # fmt: skip
_GENDER_KO = re.compile(r"(남성|남자|여성|여자)")
_PRONOUN_KO = re.compile(rf"(?<![{SYLLABLES}])(그녀|그)(?:는|가|의|를|에게|도|은)(?=\s|$|[.,])")
# "your taste for X", "the viewer's love of X", "좋아한다고 하신 X 취향": a claim that the viewer
# said they like X. Qwen 1.5B wrote "Sci-Fi fits your taste for oxygen." (a keyword of the card,
# not of the taste; 2 of the 10 false English texts of the words_1.5b_v11 hand sample).
_TASTE_EN = re.compile(
    r"\b(?:your|the viewer'?s'?|viewers'?)\s+(?:own\s+)?(?:taste|tastes|love|liking|fondness"
    r"|preference|preferences|interest|passion)\s+(?:for|of|in)\s+"
    # what the taste is: up to five words, ending before punctuation or a joining word
    r"((?:(?!(?:and|or|with|which|that|who|in|like|as|because|while|fits?|match(?:es)?"
    r"|aligns?|makes?|is|are|features?|stars?|from|by)\b)[^\s,.;:!?()]+\s*){1,5})",
    re.IGNORECASE,
)
_TASTE_KO = re.compile(r"좋아(?:한다고 하신|하신다고 한|한다고 한|하시는)\s*'?([^'.,]+?)'?\s*취향")
_BRACKETS = re.compile(r"\[[^\[\]\n]{1,80}\]|\{[^{}\n]{1,80}\}|<<<|>>>|^\s*[-*]\s", re.M)
# A sentence saying the catalog lacks a movie: a year written with its title names that movie
# ("카탈로그에 Parasite (2019)에 대한 정보가 없어": the catalog has Parasite of 1982 only).
_CATALOG_LACKS = re.compile(
    r"\b(?:does not|doesn't) have\b|\bcatalog has no\b|\bnot in the catalog\b"
    r"|카탈로그에[^.]{0,80}?없",
    re.I,
)
# A cast list: "starring A, B and C". Each listed name is a cast claim, a one-word name or a
# movie's title too ("Trainspotting is a crime film starring Jonny Lee Miller and Emma": Emma,
# a ticked movie, as its star; words v19 hand sample).
_CAST_CUE = re.compile(r"\b(?i:starring|co-starring|featuring|stars)[ ]")
_CAST_ITEM = re.compile(rf"{_NAME_PART}(?:[ ]{_NAME_PART})*")
_CAST_JOIN = re.compile(r",?[ ](?:and[ ])?|[ ]and[ ]")
# In an English persona, what the viewer watched ("watches", "their movies") against what
# they like ("enjoys", "a preference for"): the nearest cue before a genre word says which.
_WATCH_CUE = re.compile(
    r"\b(?:watch|watches|watched|watching|ticked)\b|\b(?:of )?their (?:movies|films|picks)\b",
    re.I,
)
_LIKE_CUE = re.compile(
    r"\b(?:enjoy|enjoys|enjoyed|like|likes|love|loves|prefer|prefers|preferring|preference"
    r"|fond|taste|tastes|ask|asks|asked|looking|words|describe|describes|interest|interested"
    r"|avoid|avoids|fan|fans|enthusiast|favorite|favourite|favorites|favourites|want|wants)\b",
    re.I,
)
# "Ed Harris, a Princeton University": a person called a thing. A person may be called a role.
_APPOSITIVE = re.compile(rf"({_NAME}), an? ((?:[\w'’-]+ ?){{1,4}})")
ROLE_NOUNS = frozenset(
    "actor actress star co-star costar director filmmaker lead performer writer screenwriter "
    "producer composer comedian cast member".split()
)


@dataclass(frozen=True, slots=True)
class Claim:
    """One checkable statement. ``movie`` is the title it is about (None: the text's own movie
    or, in a persona, the viewer); ``sentence`` its sentence's index; ``span`` the words."""

    kind: str
    value: str
    movie: str | None
    sentence: int
    span: str


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("’", "'").replace("&", "and")
    return " ".join(re.findall(r"[^\W_]+", text))


def _variants(title: str, *, short: bool = True) -> set[str]:
    """``Godfather, The`` is also ``The Godfather``; a ``(1995)`` suffix is dropped; with
    ``short`` the part before a colon (``Alien: Resurrection``) is one too."""
    title = re.sub(r"\s*\((?:18|19|20)\d{2}\)\s*$", "", title).strip()
    out = {title}
    match = re.match(r"^(.*), (The|A|An|Les|La|Le|Il|El|Das|Der|Die)$", title)
    if match:
        out.add(f"{match.group(2)} {match.group(1)}")
    if short and ":" in title:
        out.add(title.split(":")[0])
    return {v for v in (_fold(x) for x in out) if v}


def same_title(a: str, b: str) -> bool:
    """``a`` and ``b`` name one movie by its whole title (``Godfather, The`` is ``The
    Godfather``), not only by the part before a colon (``Star Wars: Episode IV - A New Hope`` is
    not ``Star Wars: Episode V - The Empire Strikes Back``)."""
    return bool(_variants(a, short=False) & _variants(b, short=False))


def folded_forms(title: str) -> set[str]:
    """``title`` as a text may write it, folded like :func:`fold_text` ("Godfather, The" is
    also "the godfather"; a "(1995)" suffix is dropped)."""
    return _variants(title, short=False)


def fold_text(text: str) -> str:
    """``text`` case-folded, its words joined by single spaces, punctuation dropped."""
    return _fold(text)


_JOINERS = frozenset("a an and at by for from in of on or the to vs with".split())


class TitleIndex:
    """Finds movie titles in text, written capitalised. ``trusted`` titles (the card and the
    ticked movies) count as one word too, anywhere; the other titles (the whole catalog, where
    "Henry", "Earth" and "Judd Apatow: The Return" are titles) only with two or more words,
    each capitalised but for joining words (``The Crew`` yes, ``the crew of`` no)."""

    def __init__(self, titles: Iterable[str], *, trusted: Iterable[str] = ()) -> None:
        self._by_key: dict[str, str] = {}
        trusted = list(trusted)
        self._trusted = {k for t in trusted for k in _variants(t)}
        for title in trusted:
            for key in _variants(title):
                self._by_key.setdefault(key, title)
        for title in titles:
            for key in _variants(title, short=False):
                if key.count(" ") >= 1:
                    self._by_key.setdefault(key, title)
        self._longest = max((k.count(" ") + 1 for k in self._by_key), default=1)

    def __contains__(self, title: str) -> bool:
        return any(k in self._by_key for k in _variants(title))

    def canonical(self, title: str) -> str | None:
        """The indexed title that ``title`` names, if any."""
        return next((self._by_key[k] for k in _variants(title) if k in self._by_key), None)

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """``(start, end, title)`` of each title in ``text``, longest match first, no overlaps."""
        words = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
        found: list[tuple[int, int, str]] = []
        i = 0
        while i < len(words):
            hit = None
            for n in range(min(self._longest, len(words) - i), 0, -1):
                start, end = words[i][0], words[i + n - 1][1]
                key = _fold(text[start:end])
                if key not in self._by_key:
                    continue
                first = words[i][2]
                if n == 1 and (not first[:1].isupper() or len(first) < 3):
                    continue
                if not first[:1].isupper() and not first[:1].isdigit() and not _is_hangul(first):
                    continue
                if key not in self._trusted and not all(
                    w[:1].isupper() or w[:1].isdigit() or w.casefold() in _JOINERS
                    for _, _, w in words[i : i + n]
                ):
                    continue
                hit = (start, end, self._by_key[key], n)
                break
            if hit is None:
                i += 1
                continue
            found.append(hit[:3])
            i += hit[3]
        return found


def _is_hangul(word: str) -> bool:
    return bool(word) and is_syllable(word[0])


def _sentence_initial(text: str, start: int) -> bool:
    head = text[:start].rstrip(" \"'“‘")
    return not head or head[-1] in ".!?。\n"


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (split after ``.!?`` and at line breaks)."""
    return [s.strip() for s in _SENTENCES.split(text) if s.strip()]


def _nearest(pos: int, mentions: list[tuple[int, int, str]]) -> str | None:
    if not mentions:
        return None
    best = min(mentions, key=lambda m: min(abs(pos - m[0]), abs(pos - m[1])))
    return best[2]


def _genre_hits(sentence: str, language: str) -> list[tuple[int, int, str]]:
    words = {**GENRE_WORDS_EN, **(GENRE_WORDS_KO if language == "ko" else {})}
    pattern = "|".join(
        (rf"(?<![\w-]){re.escape(w)}(?![\w-])" if w.isascii() else re.escape(w))
        for w in sorted(words, key=len, reverse=True)
    )
    hits = []
    for m in re.finditer(pattern, sentence, re.I):
        key = m.group().casefold()
        genre = words.get(key) or words.get(m.group())
        if genre is None:
            genre = next(g for w, g in words.items() if w.casefold() == key)
        hits.append((m.start(), m.end(), genre))
    return hits


def _about_viewer_en(sentence: str, start: int, end: int) -> bool:
    if _CUE_AFTER_EN.search(sentence[end:]):
        return True
    before = sentence[:start]
    words = list(_WORD.finditer(before))[-8:]
    for w in reversed(words):
        if _STOP_CUE_EN.fullmatch(w.group()):
            return False
        if _CUE_BEFORE_EN.fullmatch(w.group()):
            return True
    return False


def _genre_claim_ko(sentence: str, start: int, end: int, word: str) -> bool | None:
    """True: a claim about a movie; False: the viewer's taste; None: no claim."""
    after = sentence[end:]
    if _COPULA_KO.search(after):
        return True
    if _CUE_AFTER_KO.search(after) or _CUE_BEFORE_KO.search(sentence[:start]):
        return False
    if word.isascii():  # "SF" or an English genre word inside Korean
        return bool(_NOUN_AFTER_KO.search(after)) or None
    return True if _NOUN_AFTER_KO.search(after) else None


def _person_lists(
    sentence: str, mentions: list[tuple[int, int, str]], index: int
) -> list[tuple[Claim, tuple[int, int]]]:
    """The "person" claims of a person's movies listed by title (``_PERSON_LIST_EN``): one per
    title that follows the cue, joined to it only by commas, "and", "or" or a year; each with
    the span of the cue's name.

    >>> titles = TitleIndex((), trusted=["Fight Club", "Snatch", "Toy Story"])
    >>> text = "Brad Pitt's movies, including Fight Club and Snatch, and also Toy Story."
    >>> [(c.value, c.movie) for c, _ in _person_lists(text, titles.find(text), 0)]
    [('Brad Pitt', 'Fight Club'), ('Brad Pitt', 'Snatch')]
    """
    out: list[tuple[Claim, tuple[int, int]]] = []
    for pattern in _PERSON_LIST_EN:
        for m in pattern.finditer(sentence):
            name = m.group(1).rstrip(".'’-")
            if any(ms <= m.start(1) < me for ms, me, _ in mentions):
                continue  # a title's words ("Ocean's Eleven movies")
            if any(ls <= m.start(1) < le for _, (ls, le) in out):
                continue
            pos = m.end()
            for s, e, title in sorted(mentions):
                if s < pos:
                    continue
                if not all(
                    w[0].isupper() or w[0].isdigit() or w in _LIST_GAP_WORDS
                    for w in re.findall(r"[^\W_]+", sentence[pos:s])
                ):
                    break
                span = sentence[m.start() : e]
                out.append((Claim("person", name, title, index, span), m.span(1)))
                pos = e
    return out


def _cast_list(sentence: str, mentions: list[tuple[int, int, str]], index: int) -> list[Claim]:
    """The cast claims of a list after "starring" ("starring A, B and C"): every listed name,
    a one-word name or a movie's title too, said of the movie named nearest before the cue
    (else the text's own movie). The list ends at the first word not capitalised.

    >>> titles = TitleIndex((), trusted=["Trainspotting", "Emma"])
    >>> text = "Trainspotting stars Jonny Lee Miller and Emma, which you have watched."
    >>> [(c.value, c.movie) for c in _cast_list(text, titles.find(text), 0)]
    [('Jonny Lee Miller', 'Trainspotting'), ('Emma', 'Trainspotting')]
    """
    out: list[Claim] = []
    for cue in _CAST_CUE.finditer(sentence):
        pos, items = cue.end(), []
        while (item := _CAST_ITEM.match(sentence, pos)) is not None:
            items.append(item)
            join = _CAST_JOIN.match(sentence, item.end())
            if join is None or not _CAST_ITEM.match(sentence, join.end()):
                break
            pos = join.end()
        listed = [(m.start(), m.end()) for m in items]
        before = [x for x in mentions if x[1] <= cue.start()]
        movie = before[-1][2] if before else None
        for start, end in listed:
            name = sentence[start:end].rstrip(".'’-")
            span = sentence[cue.start() : end]
            out.append(Claim("cast", name, movie, index, span))
    return out


def _ticked_genre(sentence: str, start: int) -> bool:
    """Whether the genre word at ``start`` of an English persona's sentence is said of the
    movies the viewer watched: the nearest cue before it is a watching one ("watches mostly
    drama", "several of their movies are also romance"), not a liking one ("enjoys", "a
    preference for", "enjoys watching").

    >>> s = "They watch mostly drama, with a preference for crime."
    >>> _ticked_genre(s, s.index("drama")), _ticked_genre(s, s.index("crime"))
    (True, False)
    >>> s = "This viewer enjoys watching comedy."
    >>> _ticked_genre(s, s.index("comedy"))
    False
    """
    before = sentence[:start]
    watch = [m for m in _WATCH_CUE.finditer(before)]
    like = [m for m in _LIKE_CUE.finditer(before)]
    if not watch:
        return False
    last_watch = watch[-1]
    if like and like[-1].start() > last_watch.start():
        return False
    # "enjoys watching": the watching is what they like
    return not (
        like and re.fullmatch(r"\s*(?:to\s+)?", before[like[-1].end() : last_watch.start()])
    )


_WHICH_ARE = re.compile(
    r",\s*which\s+(?:(?:are|is|were|was)\s+(?:both\s+|all\s+)?|they\s+(?:\w+\s+){1,3}?as\s+)"
)


def _named_before(sentence: str, start: int, mentions: list[tuple[int, int, str]]) -> list[str]:
    """The titles a genre word at ``start`` is said of in a persona: those listed right before
    ", which are (both)" or ", which they ... as" when the genre word follows it closely
    ("Ridley Scott's Blade Runner and Alien, which are both action and sci-fi films": Alien is
    no action film; the browser test's English page).

    >>> titles = TitleIndex((), trusted=["Blade Runner", "Alien"])
    >>> s = "They enjoy Blade Runner and Alien, which are both action films."
    >>> _named_before(s, s.index("action"), titles.find(s))
    ['Blade Runner', 'Alien']

    Also ", which they enjoy watching as" (the browser test's English page, later):

    >>> s = "They like Blade Runner and Alien, which they enjoy watching as thriller movies."
    >>> _named_before(s, s.index("thriller"), titles.find(s))
    ['Blade Runner', 'Alien']
    """
    cues = [m for m in _WHICH_ARE.finditer(sentence[:start]) if start - m.end() <= 30]
    if not cues:
        return []
    cue = cues[-1]
    named: list[str] = []
    pos = cue.start()
    for s, e, title in sorted(mentions, reverse=True):
        if e > pos:
            continue
        if not re.fullmatch(r"\s*(?:,\s*(?:and\s+)?|\s+and\s+)?\s*", sentence[e:pos]):
            break
        named.insert(0, title)
        pos = s
    return named


def _appositives(sentence: str, mentions: list[tuple[int, int, str]], index: int) -> list[Claim]:
    """A person named with what they are ("Ed Harris, a Princeton University", "Jennifer
    Aniston, a Christianity fantasy star"): the checker judges the words after "a" (a role
    noun, not a thing of the movie's record) and whether the name is a person of the record
    (``movie``: the title nearest to the name).

    >>> [c.span for c in _appositives("Ed Harris, a Princeton University fits.", [], 0)]
    ['Ed Harris, a Princeton University fits']
    """
    out = []
    for m in _APPOSITIVE.finditer(sentence):
        if any(ms <= m.start(1) < me for ms, me, _ in mentions):
            continue  # a title ("Blade Runner, a Sci-Fi film")
        name = m.group(1)
        out.append(Claim("appositive", name, _nearest(m.start(1), mentions), index, m.group()))
    return out


def extract_claims(
    text: str, titles: TitleIndex, *, language: str = "en", persona: bool = False
) -> list[Claim]:
    """The claims of ``text``; ``titles`` are the movies it may mention (its own, the ticked
    ones, and for the benchmark the whole catalog). ``persona``: the text describes a viewer, so
    genre words are taste claims about the viewer and roles/years are not expected."""
    claims: list[Claim] = []
    for i, sentence in enumerate(split_sentences(text)):
        mentions = titles.find(sentence)
        claims.extend(Claim("title", t, t, i, sentence[s:e]) for s, e, t in mentions)
        for s, e, t in mentions:
            if _WATCHED_BEFORE.search(sentence[:s]) or _WATCHED_AFTER.match(sentence[e:]):
                claims.append(Claim("watched", t, t, i, sentence[s:e]))
        viewer_words = bool(_VIEWER_KO.search(sentence))
        for s, e, genre in _genre_hits(sentence, language):
            if any(ms <= s < me for ms, me, _ in mentions):
                continue  # a genre word inside a title ("Horror Express")
            word = sentence[s:e]
            if persona:
                named = _named_before(sentence, s, mentions) if language == "en" else []
                if named:  # "Blade Runner and Alien, which are both action films"
                    claims.extend(Claim("genre", genre, t, i, word) for t in named)
                    continue
                watched = language == "en" and _ticked_genre(sentence, s)
                claims.append(Claim("ticked_genre" if watched else "genre", genre, None, i, word))
                continue
            if language == "ko":
                about = _genre_claim_ko(sentence, s, e, word)
                if about is None and not viewer_words:
                    about = True  # a sentence about no viewer is about its movie
            else:
                about = not _about_viewer_en(sentence, s, e)
            if about:
                claims.append(Claim("genre", genre, _nearest(s, mentions), i, word))
        listed = _person_lists(sentence, mentions, i)
        claims.extend(claim for claim, _ in listed)
        if language == "en":
            claims.extend(_cast_list(sentence, mentions, i))
            if not persona:
                claims.extend(_appositives(sentence, mentions, i))
        roles = _ROLE_KO + _ROLE_EN if language == "ko" else _ROLE_EN
        for role, pattern in roles:
            for m in pattern.finditer(sentence):
                name = m.group(1).rstrip(".'’-")
                if any(ms <= m.start(1) < me for ms, me, _ in mentions):
                    continue
                if any(ls <= m.start(1) < le for _, (ls, le) in listed):
                    continue  # "Brad Pitt's movies, including ..." is the listed claims'
                if persona:  # "films featuring X, ..., including T": X is in their movies
                    before = [x for x in mentions if x[1] <= m.start()]
                    about = before[-1][2] if before else None
                else:
                    about = _nearest(m.start(1), mentions)
                claims.append(Claim(role, name, about, i, m.group()))
        lacks = _CATALOG_LACKS.search(sentence)
        for m in _YEAR.finditer(sentence):
            if any(ms <= m.start() < me for ms, me, _ in mentions):
                continue  # a year inside a title ("2001: A Space Odyssey (1968)")
            if lacks:
                continue  # "the catalog does not have Parasite (2019)": a movie it lacks
            if not persona:
                # a year belongs to a title written just before it ("Heat (1995)", "Heat는
                # 1995년"), else to the text's own movie
                near = [x for x in mentions if 0 <= m.start() - x[1] <= 6]
                about = near[-1][2] if near else None
                claims.append(Claim("year", m.group(1), about, i, m.group()))
        if not persona:  # a persona restates the taste with genre claims, checked as such
            for m in (_TASTE_KO if language == "ko" else _TASTE_EN).finditer(sentence):
                claims.append(Claim("taste", m.group(1).strip(), None, i, m.group()))
        against = None if persona else _AGAINST.search(sentence)
        if against:
            claims.append(Claim("against", "", None, i, against.group()))
        for tag in TAGS:
            if tag.casefold() in sentence.casefold():
                claims.append(Claim("tag", tag, None, i, tag))
        for m in _BRACKETS.finditer(sentence):
            claims.append(Claim("format", m.group(), None, i, m.group()))
        if not persona:
            continue  # in a reason "his" is a character's; a persona's pronouns are the viewer's
        for s, e, group, word in mood_hits(sentence, language):
            if not any(ms < e and s < me for ms, me, _ in mentions):  # not a title's word
                claims.append(Claim("mood", group, None, i, word))
        for m in _WORD.finditer(sentence):
            if any(ms <= m.start() < me for ms, me, _ in mentions):
                continue  # "Man" in "Man on the Moon" is a title's word
            sex = _PRONOUN_EN.get(m.group().casefold())
            if sex:
                claims.append(Claim("pronoun", sex, None, i, m.group()))
            sex = _GENDER_WORDS.get(m.group().casefold())
            if sex:
                claims.append(Claim("pronoun", sex, None, i, m.group()))
        for m in _GENDER_KO.finditer(sentence):
            sex = "m" if m.group(1) in ("남성", "남자") else "f"
            claims.append(Claim("pronoun", sex, None, i, m.group()))
        for m in _PRONOUN_KO.finditer(sentence):
            sex = "f" if m.group(1) == "그녀" else "m"
            claims.append(Claim("pronoun", sex, None, i, m.group()))
    return _dedupe(claims)


def _dedupe(claims: list[Claim]) -> list[Claim]:
    seen: set[tuple[str, str, str | None, int]] = set()
    out = []
    for c in claims:
        key = (c.kind, c.value.casefold(), c.movie, c.sentence)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out
