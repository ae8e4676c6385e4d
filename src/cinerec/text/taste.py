"""Turn a free-text taste ("slow-burn sci-fi, no horror", "공포 말고 SF") into genres and terms.

A small, pure, rule-based parser: a synonym lexicon for the MovieLens genres in English and
Korean, plus negation cues. English cues negate what *follows* them ("no horror", "I hate
romance", "anything but musicals"); Korean cues negate what *precedes* them ("공포 말고",
"로맨스 싫어요", "호러는 빼고"). Clauses (split at punctuation and at "but"/"하지만") bound
the reach of a cue. No model is involved, so the result is deterministic and fast, and the
input is truncated to a bounded length before any work: a 10 MB paste costs the same as a
tweet. Text that looks like instructions is treated as words like any other.

Example:
    >>> t = parse_taste("slow-burn sci-fi, no horror")
    >>> t.liked_genres, t.disliked_genres, t.free_terms
    (('Sci-Fi',), ('Horror',), ('slow-burn',))
    >>> parse_taste("공포 말고 SF").disliked_genres
    ('Horror',)
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from cinerec.text.lang import SYLLABLES, is_syllable

MAX_TASTE_CHARS = 2_000
"""Input beyond this many characters is ignored (before any parsing)."""
MAX_FREE_TERMS = 16
TASTE_WEIGHT = 0.35
"""How much one liked genre lifts a rank-normalised candidate score on the page (hand-set; the
newviewer protocol measures it as ``page-genre``)."""
DISLIKE_PENALTY = 10.0
"""What one disliked genre costs in :func:`taste_genre_scores`; outweighs any likes."""

# fmt: off
# MovieLens genre -> synonyms. Latin synonyms match whole words; Hangul ones match anywhere,
# because Korean particles attach to the noun ("호러는", "SF영화").
_GENRE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "Action": (
        "action", "actions", "액션",
    ),
    "Adventure": (
        "adventure", "adventures", "모험",
    ),
    "Animation": (
        "animation", "animations", "animated", "anime", "cartoon", "cartoons", "애니메이션",
        "애니", "만화영화", "만화",
    ),
    "Children": (
        "children", "childrens", "children's", "kids", "kid", "family-friendly", "family movie",
        "family movies", "family film", "family films", "어린이", "아동", "가족영화", "가족",
    ),
    "Comedy": (
        "comedy", "comedies", "funny", "comedic", "코미디", "코메디", "웃긴",
    ),
    "Crime": (
        "crime", "heist", "heists", "gangster", "gangsters", "mafia", "범죄", "갱스터",
    ),
    "Documentary": (
        "documentary", "documentaries", "docu", "docuseries", "다큐멘터리", "다큐",
    ),
    "Drama": (
        "drama", "dramas", "dramatic", "드라마",
    ),
    "Fantasy": (
        "fantasy", "fantasies", "판타지",
    ),
    "Film-Noir": (
        "film-noir", "film noir", "noir", "neo-noir", "느와르", "누아르",
    ),
    "Horror": (
        "horror", "horrors", "scary", "slasher", "slashers", "gore", "zombie", "zombies",
        "공포", "호러", "무서운", "좀비",
    ),
    "IMAX": (
        "imax", "아이맥스",
    ),
    "Musical": (
        "musical", "musicals", "뮤지컬",
    ),
    "Mystery": (
        "mystery", "mysteries", "whodunit", "whodunits", "미스터리", "미스테리", "추리",
    ),
    "Romance": (
        "romance", "romances", "romantic", "로맨스", "멜로", "연애",
    ),
    "Sci-Fi": (
        "sci-fi", "scifi", "sci fi", "science fiction", "science-fiction", "sf", "공상과학",
        "에스에프", "사이파이",
    ),
    "Thriller": (
        "thriller", "thrillers", "suspense", "스릴러",
    ),
    "War": (
        "war", "wartime", "전쟁",
    ),
    "Western": (
        "western", "westerns", "cowboy", "cowboys", "서부극", "서부영화", "웨스턴",
    ),
}
# Synonyms that stand for several genres at once.
_COMBO_SYNONYMS: dict[str, tuple[str, ...]] = {
    "romcom": ("Romance", "Comedy"),
    "romcoms": ("Romance", "Comedy"),
    "rom-com": ("Romance", "Comedy"),
    "rom-coms": ("Romance", "Comedy"),
    "rom com": ("Romance", "Comedy"),
    "romantic comedy": ("Romance", "Comedy"),
    "romantic comedies": ("Romance", "Comedy"),
    "로코": ("Romance", "Comedy"),
    "로맨틱 코미디": ("Romance", "Comedy"),
    "로맨틱코미디": ("Romance", "Comedy"),
}

GENRES: tuple[str, ...] = tuple(_GENRE_SYNONYMS)
"""Every MovieLens genre the lexicon knows."""

# English cues act forwards ("no horror"); Korean cues and a few English tails act backwards.
_NEG_BEFORE = (
    "anything but", "anything except", "everything but", "everything except", "except for",
    "except", "other than", "apart from", "not a fan of", "not into", "not in the mood for",
    "no more", "not too", "not", "no", "never", "without", "nothing", "none", "nor",
    "don't like", "don't love", "don't want", "don't enjoy", "don't need", "dont like",
    "dont want", "do not like", "do not want", "doesn't", "dont", "don't", "can't stand",
    "cant stand", "cannot stand", "hate", "hates", "hated", "dislike", "dislikes", "loathe",
    "avoid", "avoiding", "skip", "exclude", "excluding", "minus", "tired of", "sick of", "less",
    "fewer", "zero", "pass on",
)
_NEG_AFTER = (
    "not for me", "isn't for me", "is not for me", "not my thing", "isn't my thing",
    "no thanks", "no thank you", "is a no", "are a no", "please no", "말고", "빼고", "빼줘",
    "빼주", "빼 주", "빼 줘", "제외", "싫", "별로", "안 좋아", "안좋아", "노노", "못 보", "못보",
    "못 봐", "못봐", "아닌", "아니고", "없는", "없이", "없었으면", "말아", "피해", "피하", "질색",
    "사절", "극혐", "비추", "그만",
)
_POS_BEFORE = (
    "love", "loves", "like", "likes", "enjoy", "want", "prefer", "fan of", "into", "more",
    "craving", "in the mood for", "give me", "yes", "favorite", "favourite", "only",
)
_POS_AFTER = (
    "좋아", "좋음", "좋은", "원해", "보고 싶", "보고싶", "땡겨", "당겨", "최고", "위주",
)
_BOUNDARY_WORDS = (
    "but", "however", "though", "although", "whereas", "instead", "하지만", "그런데", "근데",
    "대신", "그치만", "반면",
)
_STOPWORDS = frozenset(
    """a above all also am an and answer any anything are as assistant at be been by can could
    did do does everything film films flick flicks for from genre genres good great he her his
    i if ignore in instruction instructions is it its just kind kinds like lot lots maybe me
    movie movies much my nice of ok okay on one ones or our output please previous print prior
    prompt quite really recommend recommendation recommendations reply respond see seen she
    should show so some something sort stuff suggest system than that the them then these they
    thing things this those to today tonight too type types user very want wants was watch
    watching we were what which who whom will with would you your 같은 거 것 그냥 그리고 너무
    또 많이 보고 볼래 봐요 싶어 싶어요 아주 영화 영화가 영화는 영화를 완전 요 정말 좀 좋겠다
    좋겠어요 주세요 진짜 추천 추천해 추천해주세요 추천해줘 해주세요 해줘""".split()
)
_HANGUL_PARTICLES = (  # longest first, so that "으로" is tried before "로"
    "으로", "에서", "이랑", "처럼", "까지", "부터", "보다", "하고", "의", "은", "는", "이",
    "가", "을", "를", "로", "와", "과", "랑", "도", "만", "에",
)
# fmt: on

#: A backward cue alone in its clause flips the genres of the clause before it ("horror? no
#: thanks") only when the clause is this short; a longer one is about something else ("목록에
#: 없는 영화 Inception 2도 추천할 것" after "SF." does not dislike SF).
ORPHAN_CUE_WORDS = 3

_MARKUP = re.compile(r"<[^<>]{0,500}>|```|`|\[\[|\]\]|https?://\S+|&[#\w]{1,10};")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u2028-\u202e\ufeff]")
_WORD = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")
_LATIN = re.compile(r"[a-z0-9]")


def _alternation(phrases: Iterable[str], *, swallow_endings: bool = False) -> str:
    """One regex alternative per phrase, longest first; Latin phrases match whole words."""
    parts = []
    for phrase in sorted(set(phrases), key=len, reverse=True):
        body = re.escape(phrase).replace(r"\ ", r"\s+")
        if _LATIN.match(phrase[0]):
            body = r"(?<![a-z0-9])" + body
        if _LATIN.match(phrase[-1]):
            body += r"(?![a-z0-9])"
        elif swallow_endings:
            body += f"[{SYLLABLES}]*"  # a Korean cue owns its verb ending: "싫어요", "좋아하고"
        parts.append(body)
    return "|".join(parts)


_SYNONYM_TO_GENRES: dict[str, tuple[str, ...]] = {
    syn: (genre,) for genre, syns in _GENRE_SYNONYMS.items() for syn in syns
} | _COMBO_SYNONYMS
# Cues come before genres so that at one position "anything but" wins over a bare word;
# the scanner always takes the leftmost match, so "don't like" beats "like" as well.
_TOKENS = re.compile(
    "|".join(
        f"(?P<{group}>{_alternation(phrases, swallow_endings=group.endswith('_after'))})"
        for group, phrases in (
            ("boundary", _BOUNDARY_WORDS),
            ("neg_after", _NEG_AFTER),
            ("neg_before", _NEG_BEFORE),
            ("genre", _SYNONYM_TO_GENRES),
            ("pos_after", _POS_AFTER),
            ("pos_before", _POS_BEFORE),
        )
    )
    + r"|(?P<punct>[,.;:!?\n()\[\]{}|\u3001\u3002\uff0c])"
)


@dataclass(frozen=True, slots=True)
class Taste:
    """What a free-text taste asks for: MovieLens genres liked and disliked, and other words.

    ``free_terms`` are the remaining content words (lower-case, Korean particles stripped),
    useful for text matching; they never contain markup or punctuation other than ``-``/``'``.
    """

    liked_genres: tuple[str, ...] = ()
    disliked_genres: tuple[str, ...] = ()
    free_terms: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when the text said nothing the parser understood."""
        return not (self.liked_genres or self.disliked_genres or self.free_terms)


def _normalize(text: str, max_chars: int) -> str:
    text = text[: max_chars * 2]  # bound the work before any regex runs
    text = unicodedata.normalize("NFKC", html.unescape(text))
    if len(text) > max_chars:
        head, _, _ = text[: max_chars + 1].rpartition(" ")
        text = head or text[:max_chars]  # do not leave a cut-off word behind
    text = _CONTROL.sub(" ", text)
    text = _MARKUP.sub(" ", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return text.casefold()


def _strip_particle(word: str) -> str:
    if not is_syllable(word[-1]):
        return word
    for particle in _HANGUL_PARTICLES:
        if word.endswith(particle) and len(word) > len(particle) + 1:
            return word[: -len(particle)]
    return word


def _free_terms(text: str) -> tuple[str, ...]:
    terms: dict[str, None] = {}
    for match in _WORD.finditer(text):
        word = _strip_particle(match.group())
        if len(word) < 2 or word.isdigit() or word in _STOPWORDS or len(word) > 40:
            continue
        terms.setdefault(word)
        if len(terms) >= MAX_FREE_TERMS:
            break
    return tuple(terms)


def parse_taste(text: str, *, max_chars: int = MAX_TASTE_CHARS) -> Taste:
    """Parse a free-text taste in English or Korean into liked/disliked genres and free terms.

    Args:
        text: What the user typed; any length, markup and instructions are harmless (only the
            first ``max_chars`` characters are read, tags and URLs are dropped).
        max_chars: Upper bound on the characters considered.

    Returns:
        A :class:`Taste`. A genre both liked and disliked counts as disliked: an explicit
        exclusion ("romcoms, but no romance") is the stronger signal.

    Example:
        >>> parse_taste("I hate romance").disliked_genres
        ('Romance',)
        >>> parse_taste("느린 전개의 SF, 호러는 빼고").liked_genres
        ('Sci-Fi',)
    """
    clean = _normalize(text, max_chars)
    liked: dict[str, None] = {}
    disliked: dict[str, None] = {}
    leftover: list[str] = []

    pending: list[str] = []  # genres seen with no cue yet; a following Korean cue may flip them
    negate_next = False  # an English cue is waiting for its genre
    cue_unused = False  # that cue has not reached a genre yet (for "horror, not" tails)
    clause_has_genre = False
    orphan_cue = False  # a backward cue with nothing before it: "horror? no thanks"
    previous_liked: list[str] = []  # what the last clause liked, when it had genres
    clause_words = 0  # content words of this clause outside cues and genres

    def close_clause() -> None:
        nonlocal pending, negate_next, cue_unused, clause_has_genre, orphan_cue, previous_liked
        nonlocal clause_words
        if orphan_cue and not clause_has_genre and clause_words <= ORPHAN_CUE_WORDS:
            for genre in previous_liked:
                liked.pop(genre, None)
                disliked.setdefault(genre)
            previous_liked = []
        elif not clause_has_genre and clause_words > ORPHAN_CUE_WORDS:
            # a sentence of its own in between: a later short cue is not about the genres
            # before it
            previous_liked = []
        target = disliked if (negate_next and cue_unused) else liked
        for genre in pending:
            target.setdefault(genre)
        if clause_has_genre:
            previous_liked = pending if target is liked else []
        pending, negate_next, cue_unused = [], False, False
        clause_has_genre = orphan_cue = False
        clause_words = 0

    position = 0
    for match in _TOKENS.finditer(clean):
        leftover.append(clean[position : match.start()])
        clause_words += len(_WORD.findall(leftover[-1]))
        position = match.end()
        kind = match.lastgroup
        if kind in ("boundary", "punct"):
            close_clause()
        elif kind == "neg_after":
            orphan_cue = orphan_cue or not clause_has_genre
            for genre in pending:
                disliked.setdefault(genre)
            pending, negate_next, cue_unused = [], False, False
        elif kind == "neg_before":
            negate_next, cue_unused = True, True
        elif kind == "pos_after":
            for genre in pending:
                liked.setdefault(genre)
            pending, negate_next, cue_unused = [], False, False
        elif kind == "pos_before":
            close_clause()
        elif kind == "genre":
            clause_has_genre = True
            genres = _SYNONYM_TO_GENRES[re.sub(r"\s+", " ", match.group())]
            if negate_next:
                cue_unused = False
                for genre in genres:
                    disliked.setdefault(genre)
            else:
                pending.extend(genres)
    close_clause()
    leftover.append(clean[position:])

    return Taste(
        liked_genres=tuple(g for g in liked if g not in disliked),
        disliked_genres=tuple(disliked),
        free_terms=_free_terms(" ".join(leftover)),
    )


def taste_genre_scores(taste: Taste, genres: tuple[str, ...]) -> float:
    """How well a movie's genres fit a taste: +1 per liked genre, -DISLIKE_PENALTY per disliked.

    Any negative score means the movie has a disliked genre; services filter those out or
    push them to the bottom.

    Example:
        >>> t = parse_taste("sci-fi, no horror")
        >>> taste_genre_scores(t, ("Sci-Fi", "Thriller")), taste_genre_scores(t, ("Horror",))
        (1.0, -10.0)
    """
    liked = sum(1.0 for g in genres if g in taste.liked_genres)
    disliked = sum(1.0 for g in genres if g in taste.disliked_genres)
    return liked - DISLIKE_PENALTY * disliked
