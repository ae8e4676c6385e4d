"""Weak aspect labels from the cue words of ``docs/aspect-guideline.md``.

A sentence containing a cue of an aspect is evidence for it; a review's weak aspects are the
union over its sentences. English (Latin-script) cues match whole words, case-insensitively;
Hangul cues match inside words, because Korean particles attach to nouns.

Example:
    >>> labels = weak_label("The acting was wooden. 결말이 허무했다.", MOVIE_LEXICON)
    >>> sorted(labels)
    ['acting', 'ending']
    >>> labels["acting"][0].text
    'acting'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from cinerec.text.lang import HANGUL

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


@dataclass(frozen=True, slots=True)
class Span:
    """A character span ``text[start:end]`` of a review."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class AspectLexicon:
    """Aspects and their cue words (any language mixed)."""

    name: str
    cues: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def aspects(self) -> tuple[str, ...]:
        """Aspect names in a fixed order (the column order of label matrices)."""
        return tuple(self.cues)

    @cached_property
    def patterns(self) -> dict[str, re.Pattern[str]]:
        """One compiled regex per aspect, longest cues first."""
        out = {}
        for aspect, cues in self.cues.items():
            parts = []
            for cue in sorted(cues, key=len, reverse=True):
                body = re.escape(cue.lower()).replace(r"\ ", r"\s+")
                parts.append(body if HANGUL.search(cue) else rf"\b{body}\b")
            out[aspect] = re.compile("|".join(parts), re.IGNORECASE)
        return out


# fmt: off
MOVIE_LEXICON = AspectLexicon("movies", {
    "story": (
        "story", "plot", "script", "screenplay", "writing", "written", "writer", "dialogue",
        "dialog", "storyline", "narrative", "characters", "character", "premise", "twist",
        "스토리", "줄거리", "각본", "시나리오", "내용", "전개", "반전", "설정", "개연성", "대사",
    ),
    "acting": (
        "acting", "actor", "actors", "actress", "actresses", "performance", "performances",
        "cast", "portrayal", "portrayed", "played", "role", "roles", "chemistry",
        "연기", "배우", "열연", "캐스팅", "주연", "조연", "연기력",
    ),
    "directing": (
        "director", "directed", "directing", "direction", "filmmaker", "filmmaking", "helmed",
        "감독", "연출", "편집",
    ),
    "visuals": (
        "cinematography", "visuals", "visual", "effects", "cgi", "camera", "shot", "shots",
        "photography", "scenery", "sets", "costumes", "look", "looks", "beautiful shots",
        "영상", "영상미", "화면", "색감", "촬영", "그래픽", "cg", "미장센", "비주얼",
    ),
    "music": (
        "music", "score", "soundtrack", "song", "songs", "sound", "composer", "musical",
        "음악", "ost", "노래", "사운드", "배경음악", "음향",
    ),
    "pacing": (
        "pace", "pacing", "slow", "boring", "dragged", "drags", "drag", "long", "lengthy",
        "tedious", "fast-paced", "runtime", "dull",
        "지루", "늘어지", "길다", "러닝타임", "템포", "속도감", "질질",
    ),
    "ending": (
        "ending", "end", "finale", "conclusion", "climax", "ended", "last scene",
        "결말", "엔딩", "마지막", "끝부분", "마무리",
    ),
    "emotion": (
        "moving", "touching", "cried", "cry", "tears", "emotional", "heartbreaking", "scary",
        "funny", "hilarious", "laughed", "sad", "heartwarming", "creepy",
        "감동", "눈물", "울었", "슬프", "무섭", "웃기", "재미", "소름", "여운", "찡",
    ),
})
"""The eight movie aspects of the guideline, English and Korean cues."""

RESTAURANT_LEXICON = AspectLexicon("restaurants", {
    "food": (
        "food", "dish", "dishes", "menu", "taste", "tasty", "delicious", "flavor", "pizza",
        "sushi", "fish", "meal", "chicken", "dessert", "fresh", "cooked", "portions", "wine",
    ),
    "service": (
        "service", "staff", "waiter", "waiters", "waitress", "server", "servers", "manager",
        "host", "hostess", "rude", "attentive", "friendly", "served", "bartender",
    ),
    "price": (
        "price", "prices", "priced", "expensive", "cheap", "overpriced", "value", "cost",
        "bill", "affordable", "worth", "$",
    ),
    "ambience": (
        "ambience", "ambiance", "atmosphere", "decor", "music", "place", "room", "cozy",
        "romantic", "noisy", "loud", "seating", "setting", "space", "crowded",
    ),
})
"""A small restaurant lexicon, used to measure the weak labeller against SemEval-2014 gold."""
# fmt: on


def sentences(text: str) -> list[Span]:
    """Sentence spans (split at ``. ! ?`` and line breaks), blank ones dropped."""
    return [
        Span(m.start(), m.end(), m.group()) for m in _SENTENCE.finditer(text) if m.group().strip()
    ]


def weak_label(text: str, lexicon: AspectLexicon) -> dict[str, list[Span]]:
    """Aspects whose cues occur in ``text``, each with the cue spans found (in text order)."""
    found: dict[str, list[Span]] = {}
    for aspect, pattern in lexicon.patterns.items():
        spans = [Span(m.start(), m.end(), m.group()) for m in pattern.finditer(text)]
        if spans:
            found[aspect] = spans
    return found


def weak_label_matrix(texts: Sequence[str], lexicon: AspectLexicon) -> np.ndarray:
    """0/1 matrix ``(len(texts), n_aspects)`` of weak aspect labels, columns in lexicon order."""
    out = np.zeros((len(texts), len(lexicon.aspects)), dtype=np.int8)
    for i, text in enumerate(texts):
        for aspect in weak_label(text, lexicon):
            out[i, lexicon.aspects.index(aspect)] = 1
    return out


def evidence_text(text: str, aspect: str, lexicon: AspectLexicon) -> str:
    """The sentences of ``text`` that carry a cue of ``aspect``, joined (empty when none)."""
    pattern = lexicon.patterns[aspect]
    return " ".join(s.text.strip() for s in sentences(text) if pattern.search(s.text))


def weak_polarity(
    text: str,
    aspects: Sequence[str],
    lexicon: AspectLexicon,
    sentiment: Callable[[list[str]], np.ndarray],
) -> dict[str, float]:
    """P(positive) of each aspect: ``sentiment`` applied to the aspect's evidence sentences.

    Args:
        sentiment: maps texts to P(positive), e.g. a sentiment model's ``predict_proba[:, 1]``.
    """
    evidence = {a: evidence_text(text, a, lexicon) for a in aspects}
    present = [a for a in aspects if evidence[a]]
    if not present:
        return {}
    scores = sentiment([evidence[a] for a in present])
    return {a: float(s) for a, s in zip(present, scores, strict=True)}
