"""Prompts of a curated post (see :mod:`cinerec.llm.posts.compose`): the plan and the one-liners.

Small models follow a shown answer far better than a rule, so each call carries one or two
example turns (user facts, assistant JSON) about movies that are never candidates (ids 901-903
are outside every schema's ``enum``); a reply that copies an example line is rejected by the
caller (:data:`EXAMPLE_LINES`). The example turns come first and never change, so llama.cpp
reuses their evaluated prefix from one one-liner call to the next.

Example:
    >>> [m.role for m in review_messages("rain", candidate, language="en")]  # doctest: +SKIP
    ['system', 'user', 'assistant', 'user', 'assistant', 'user']
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from cinerec.data.types import Movie
from cinerec.llm.backends.base import Message
from cinerec.llm.grounding import sanitize_user_text
from cinerec.llm.templates import render
from cinerec.text.lang import GENRES_KO, LANGUAGES

REVIEW_WORDS = {"en": 14, "ko": 10}
PLOT_CHARS = 100
REVIEW_PLOT_CHARS = 260
HIGHLIGHT_CHARS = 90


@dataclass(frozen=True, slots=True)
class PostCandidate:
    """A grounded candidate: the catalog movie, its theme score and review highlights (may be
    empty: then the synopsis alone grounds the one-liner)."""

    movie: Movie
    score: float
    highlights: tuple[str, ...] = ()


_EXAMPLE_MOVIES = (
    Movie(901, "Amélie", 2001, ("Comedy", "Romance"), director="Jean-Pierre Jeunet",
          overview="A shy Paris waitress secretly arranges small joys for the people around her."),
    Movie(902, "Jaws", 1975, ("Horror", "Thriller"), director="Steven Spielberg",
          overview="A police chief, a scientist and a fisherman hunt a great white shark."),
    Movie(903, "Paddington", 2014, ("Comedy", "Children"), director="Paul King",
          overview="A polite bear from Peru looks for a home in London."),
)  # fmt: skip
_EXAMPLE_THEME = {"en": "sunday morning", "ko": "일요일 아침"}
_EXAMPLE_CAPTION = {
    "en": [
        "Slow coffee, soft light, nowhere to be.",
        "Gentle stories that make the world feel kind.",
        "Which one starts your Sunday?",
    ],
    "ko": [
        "느긋한 커피, 부드러운 햇살, 갈 곳 없는 아침.",
        "세상이 다정해 보이는 따뜻한 이야기들.",
        "당신의 일요일은 어떤 영화로 시작할까요?",
    ],
}
# The example answers use only their movie's facts (every English noun is in its plot line; the
# Korean ones are names, genres and plot-free words), and the one-liner grammar bans each English
# noun for a movie whose record lacks it (:mod:`cinerec.llm.concept_words`): the old examples'
# "small boat", "summer" and "music box" were invented, and Qwen 0.5B carried them (and the
# shark, the Paris waitress) into other movies' Korean lines.
_EXAMPLE_REVIEWS = {
    "en": [
        "Small, secret joys from a shy Paris waitress.",
        "One great white shark against a police chief, a scientist and a fisherman.",
    ],
    "ko": [  # in the Korean one-liner's words (cinerec.llm.posts.korean_lines)
        "Jean-Pierre Jeunet 감독의 따뜻한 로맨스 코미디, 잔잔한 여운이 가득한 작품입니다.",
        "긴장감 넘치는 공포 스릴러, Steven Spielberg 감독이 그려낸 고전입니다.",
    ],
}
EXAMPLE_LINES = {lang: [*_EXAMPLE_CAPTION[lang], *_EXAMPLE_REVIEWS[lang]] for lang in LANGUAGES}
"""Lines of the examples, per language: a reply too similar to one of them copied it."""
EXAMPLE_MARKERS = (
    "paris", "music box", "kindness", "waitress", "shark", "boat", "bear", "peru",
    "fisherman", "scientist", "police chief",
    "파리", "웨이트리스", "상어", "삼킨", "친절", "곰", "백상아리", "어부", "과학자", "경찰서장",
)  # fmt: skip
"""Words of the example answers: in a one-liner whose movie's facts lack them, copied."""


def _genres(movie: Movie, language: str) -> str:
    if language == "ko":
        return ", ".join(GENRES_KO.get(g, g) for g in movie.genres[:3])
    return ", ".join(movie.genres[:3])


def _snippet(text: str, limit: int) -> str:
    text = " ".join(text.split()).replace("|", "/")
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "..."


def candidate_line(candidate: PostCandidate, language: str = "en") -> str:
    """``id | Title (year) | genres | plot snippet`` for the plan prompt."""
    m = candidate.movie
    fields = [
        str(m.movie_id),
        m.display_title.replace("|", "/"),
        _genres(m, language) or "-",
        _snippet(m.overview, PLOT_CHARS) or "-",
    ]
    return " | ".join(fields)


def movie_facts(candidate: PostCandidate, language: str = "en") -> str:
    """The facts a one-liner may use: title, genres, director, cast, synopsis, highlights."""
    m = candidate.movie
    fields = [
        m.display_title.replace("|", "/"),
        _genres(m, language) or "-",
        f"director: {m.director}" if m.director else "",
        "cast: " + ", ".join(m.cast[:2]) if m.cast else "",
        "plot: " + (_snippet(m.overview, REVIEW_PLOT_CHARS) or "-"),
        *(f"review: {_snippet(h, HIGHLIGHT_CHARS)}" for h in candidate.highlights[:2]),
    ]
    return " | ".join(f for f in fields if f)


def _plan_user(theme: str, candidates: Sequence[PostCandidate], language: str) -> str:
    return render(
        "post_user",
        theme=sanitize_user_text(theme, 200),
        candidates="\n".join(candidate_line(c, language) for c in candidates),
    )


def post_messages(
    theme: str, candidates: Sequence[PostCandidate], *, n: int, language: str, note: str = ""
) -> list[Message]:
    """The plan call: rules, one example turn, then the theme and candidates; ``note`` says
    what a retry must fix."""
    examples = [PostCandidate(m, 1.0) for m in _EXAMPLE_MOVIES]
    hook, mood, invite = _EXAMPLE_CAPTION[language]
    answer = {"ids": [903, 901], "caption": {"hook": hook, "mood": mood, "invite": invite}}
    user = _plan_user(theme, candidates, language)
    if note:
        user += f"\nYour previous answer was rejected: {note} Follow the rules exactly."
    return [
        Message("system", render("post_system", n=n, language_name=LANGUAGES[language])),
        Message("user", _plan_user(_EXAMPLE_THEME[language], examples, language)),
        Message("assistant", json.dumps(answer, ensure_ascii=False)),
        Message("user", user),
    ]


def _review_user(
    theme: str,
    candidate: PostCandidate,
    language: str,
    avoid: Sequence[str] = (),
    banned: Sequence[str] = (),
) -> str:
    return render(
        "post_review_user",
        theme=sanitize_user_text(theme, 200),
        movie=movie_facts(candidate, language),
        avoid="\n".join(f"- {line}" for line in avoid) or "(none)",
        banned=", ".join(banned) or "(none)",
    )


def review_messages(
    theme: str,
    candidate: PostCandidate,
    *,
    language: str,
    avoid: Sequence[str] = (),
    banned: Sequence[str] = (),
) -> list[Message]:
    """A one-liner call: rules, two example turns, then the movie's facts with the lines and
    words it must not reuse."""
    system = render(
        "post_review_system", language_name=LANGUAGES[language], words=REVIEW_WORDS[language]
    )
    theme_ex = _EXAMPLE_THEME[language]
    first, second = _EXAMPLE_REVIEWS[language]
    amelie, jaws = (PostCandidate(m, 1.0) for m in _EXAMPLE_MOVIES[:2])
    return [
        Message("system", system),
        Message("user", _review_user(theme_ex, amelie, language)),
        Message("assistant", json.dumps({"review": first}, ensure_ascii=False)),
        Message("user", _review_user(theme_ex, jaws, language, avoid=[first])),
        Message("assistant", json.dumps({"review": second}, ensure_ascii=False)),
        Message("user", _review_user(theme, candidate, language, avoid, banned)),
    ]
