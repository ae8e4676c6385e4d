"""Taste statements a new viewer might type, written from ratings they never tick.

A :class:`TasteFacts` is read off a set of rated movies (the viewer's "statement" subset):
liked and disliked genres (over- and under-represented against the catalog), TMDB keywords
and people shared by several liked movies, the era the liked movies come from and a mood
word for the favourite genre. :func:`write_statement` turns it into one or two sentences in
a person's voice, in English or Korean, from a few templates chosen by a seeded generator.
Nothing here ever writes a movie title: a keyword or name that equals a catalog title is
never used, and :func:`write_statement` drops any part that names one of ``forbidden``.

Example:
    >>> facts = TasteFacts(liked_genres=("Sci-Fi",), disliked_genres=("Horror",))
    >>> write_statement(facts, "en", seed=0)  # doctest: +SKIP
    'I love sci-fi, the more mind-bending the better. No horror, please.'
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cinerec.data.types import Movie
from cinerec.text.lang import GENRES_KO as DISPLAY_GENRES_KO

LIKED_RATING = 4.0
DISLIKED_RATING = 2.5

GENRES_KO: dict[str, str] = {
    **DISPLAY_GENRES_KO,
    # Where the taste parser's word differs from the display name.
    "Children's": "가족", "Film-Noir": "누아르", "IMAX": "아이맥스", "Western": "서부극",
}  # fmt: skip
"""Korean genre names the taste parser (:mod:`cinerec.text.taste`) understands."""

GENRES_EN: dict[str, str] = {
    "Action": "action", "Adventure": "adventure", "Animation": "animation",
    "Children": "family movies", "Children's": "family movies", "Comedy": "comedy",
    "Crime": "crime", "Documentary": "documentaries", "Drama": "drama", "Fantasy": "fantasy",
    "Film-Noir": "film noir", "Horror": "horror", "IMAX": "IMAX", "Musical": "musicals",
    "Mystery": "mystery", "Romance": "romance", "Sci-Fi": "sci-fi", "Thriller": "thrillers",
    "War": "war movies", "Western": "westerns",
}  # fmt: skip

MOODS: dict[str, tuple[str, str]] = {
    "Action": ("fast-paced", "속도감 있는"), "Adventure": ("epic", "웅장한"),
    "Animation": ("charming", "사랑스러운"), "Children": ("feel-good", "따뜻한"),
    "Children's": ("feel-good", "따뜻한"), "Comedy": ("funny", "웃긴"),
    "Crime": ("gritty", "거친"), "Documentary": ("thought-provoking", "생각할 거리가 있는"),
    "Drama": ("moving", "감동적인"), "Fantasy": ("whimsical", "신비로운"),
    "Film-Noir": ("moody", "어두운"), "Horror": ("scary", "무서운"),
    "IMAX": ("spectacular", "화려한"), "Musical": ("joyful", "흥겨운"),
    "Mystery": ("puzzling", "수수께끼 같은"), "Romance": ("romantic", "설레는"),
    "Sci-Fi": ("mind-bending", "머리를 쓰게 하는"), "Thriller": ("tense", "긴장감 넘치는"),
    "War": ("harrowing", "처절한"), "Western": ("rugged", "황량한"),
}  # fmt: skip
"""Genre -> (English, Korean) mood word used for the favourite genre."""

LANGUAGES = ("en", "ko")
_NOT_TASTE = frozenset({"IMAX", "(no genres listed)"})
_NOT_KEYWORDS = frozenset(
    {
        "woman director", "based on novel", "duringcreditsstinger", "aftercreditsstinger",
        "independent film", "sequel", "remake", "biography", "based on comic book",
        "based on true story", "novel", "3d",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class TasteFacts:
    """What a statement says, before it is put into words (all in English, catalog terms)."""

    liked_genres: tuple[str, ...] = ()
    disliked_genres: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    era: int | None = None
    """Decade of most liked movies (1990 for the 1990s), when one dominates."""
    mood: str | None = None
    """The genre whose mood word is used (a key of :data:`MOODS`)."""

    def as_dict(self) -> dict[str, object]:
        """Plain values for the statements file."""
        return {
            "liked_genres": list(self.liked_genres),
            "disliked_genres": list(self.disliked_genres),
            "keywords": list(self.keywords),
            "people": list(self.people),
            "era": self.era,
            "mood": self.mood,
        }


def _shares(movies: Sequence[Movie]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for m in movies:
        counts.update(set(m.genres))
    return counts


def catalog_genre_shares(catalog: Sequence[Movie]) -> dict[str, float]:
    """Share of catalog movies carrying each genre (the base rate for liked/disliked)."""
    counts = _shares(catalog)
    return {g: c / max(len(catalog), 1) for g, c in counts.items() if g != "(no genres listed)"}


def keyword_idf(catalog: Sequence[Movie]) -> dict[str, float]:
    """Inverse document frequency of each TMDB keyword over the catalog."""
    counts: Counter[str] = Counter()
    for m in catalog:
        counts.update(set(m.keywords))
    n = max(len(catalog), 1)
    return {k: math.log(n / c) for k, c in counts.items()}


def taste_facts(
    rated: Sequence[tuple[Movie, float]],
    *,
    genre_shares: Mapping[str, float],
    idf: Mapping[str, float],
    titles: Collection[str],
) -> TasteFacts:
    """Read a viewer's taste off rated movies.

    Args:
        rated: (movie, rating) pairs of the statement subset.
        genre_shares: :func:`catalog_genre_shares`.
        idf: :func:`keyword_idf`.
        titles: lower-cased catalog titles; a keyword or name equal to one is never used.
    """
    liked = [m for m, r in rated if r >= LIKED_RATING]
    disliked = [m for m, r in rated if r <= DISLIKED_RATING]
    everything = [m for m, _ in rated]
    liked_counts, all_counts = _shares(liked), _shares(everything)
    # over-representation among the liked movies against the catalog's base rate
    excess = {
        g: c / max(len(liked), 1) - genre_shares[g]
        for g, c in liked_counts.items()
        if g in genre_shares
        and g not in _NOT_TASTE
        and c >= 2
        and c / max(len(liked), 1) > 1.2 * genre_shares[g]
    }
    liked_genres = tuple(g for g, _ in sorted(excess.items(), key=lambda kv: (-kv[1], kv[0])))[:2]
    dis_counts = _shares(disliked)
    dis = [
        g
        for g, c in sorted(dis_counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if c >= 2
        and g in genre_shares
        and g not in _NOT_TASTE
        and g not in liked_genres
        and liked_counts[g] <= c / 2
    ]
    if not dis and len(everything) >= 8:  # a common genre the viewer never rated
        never = [
            g
            for g, s in genre_shares.items()
            if s >= 0.05 and all_counts[g] == 0 and g not in _NOT_TASTE
        ]
        dis = sorted(never, key=lambda g: (-genre_shares[g], g))[:1]
    disliked_genres = tuple(dis[:1])
    kw_counts: Counter[str] = Counter()
    for m in liked:
        kw_counts.update(set(m.keywords))
    kw_scores = {
        k: c * idf.get(k, 0.0)
        for k, c in kw_counts.items()
        if c >= 2 and k.casefold() not in titles and k not in _NOT_KEYWORDS and len(k) <= 30
    }
    keywords = tuple(k for k, _ in sorted(kw_scores.items(), key=lambda kv: (-kv[1], kv[0])))[:2]
    person_counts: Counter[str] = Counter()
    for m in liked:
        names = {*m.cast[:3], *m.directors}
        person_counts.update(names)
    people = tuple(
        p
        for p, c in sorted(person_counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if c >= 2 and p.casefold() not in titles
    )[:1]
    decades = Counter((m.year // 10) * 10 for m in liked if m.year)
    era = None
    if decades:
        decade, count = decades.most_common(1)[0]
        era = decade if count >= max(3, 0.4 * sum(decades.values())) else None
    top = liked_genres[0] if liked_genres else None
    return TasteFacts(liked_genres, disliked_genres, keywords, people, era, top)


def _join(words: Sequence[str], language: str) -> str:
    if language == "ko":
        return ", ".join(words)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _parts(facts: TasteFacts, language: str, rng: np.random.Generator) -> list[str]:
    ko = language == "ko"
    names = GENRES_KO if ko else GENRES_EN
    liked = [names.get(g, g) for g in facts.liked_genres]
    mood = MOODS[facts.mood][1 if ko else 0] if facts.mood in MOODS else None
    out: list[str] = []
    if liked:
        if ko:
            form = [
                f"저는 {_join(liked, 'ko')} 영화를 좋아해요",
                f"{_join(liked, 'ko')} 장르를 즐겨 봐요",
                f"{_join(liked, 'ko')} 영화라면 다 좋아요",
            ][int(rng.integers(3))]
            out.append(form + (f", 특히 {mood} 분위기요." if mood else "."))
        else:
            form = [
                f"I love {_join(liked, 'en')}",
                f"I'm really into {_join(liked, 'en')}",
                f"Give me {_join(liked, 'en')}",
            ][int(rng.integers(3))]
            out.append(form + (f", the more {mood} the better." if mood else "."))
    if facts.keywords:
        kw = _join(list(facts.keywords), language)
        out.append(f"{kw} 같은 이야기가 좋아요." if ko else f"Stories about {kw} hook me.")
    if facts.people:
        person = facts.people[0]
        out.append(f"{person} 작품은 챙겨 봐요." if ko else f"Anything with {person} is a plus.")
    if facts.era:
        out.append(
            f"{facts.era}년대 영화를 특히 좋아해요."
            if ko
            else f"I have a soft spot for the {facts.era}s."
        )
    if facts.disliked_genres:
        dis = [names.get(g, g) for g in facts.disliked_genres]
        out.append(
            f"{_join(dis, 'ko')} 영화는 빼 주세요." if ko else f"No {_join(dis, 'en')}, please."
        )
    if not out:
        out.append("아무 영화나 괜찮아요." if ko else "I'm open to anything good.")
    return out


def names_title(text: str, titles: Collection[str]) -> str | None:
    """The first of ``titles`` (any case) that ``text`` names as a whole phrase, else None."""
    folded = text.casefold()
    for title in titles:
        t = title.casefold().strip()
        if t and re.search(rf"(?<![\w]){re.escape(t)}(?![\w])", folded):
            return title
    return None


def write_statement(
    facts: TasteFacts, language: str, *, seed: int, forbidden: Collection[str] = ()
) -> str:
    """One or two sentences in ``language`` (``en`` or ``ko``) saying ``facts``.

    A part of the statement that names one of ``forbidden`` (titles, e.g. the viewer's
    targets) is left out.
    """
    rng = np.random.default_rng(seed)
    parts = [p for p in _parts(facts, language, rng) if names_title(p, forbidden) is None]
    return " ".join(parts) if parts else _parts(TasteFacts(), language, rng)[0]
