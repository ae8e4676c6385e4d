"""Evidence highlights by masking: the words whose removal lowers a probability the most.

For a text and a scoring function (texts -> probability of the predicted class or aspect),
each distinct word is removed in turn (all its occurrences at once, so a long review costs one
model call per distinct word, batched into a single call) and the drop in probability is its
importance. The top words come back as character spans into the original text, ready to
``<mark>`` in a template.

Example:
    >>> score = lambda texts: np.array([0.9 if "superb" in t else 0.2 for t in texts])
    >>> [h.text for h in mask_highlights("A superb, quiet film.", score, top_k=1)]
    ['superb']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

ScoreFn = Callable[[list[str]], np.ndarray]
"""Maps texts to one probability each (the class or aspect being explained)."""

_WORD = re.compile(r"\w+(?:['’-]\w+)*", re.UNICODE)
MAX_DISTINCT_WORDS = 400
"""Words beyond this many distinct ones (by first occurrence) are not tried, to bound cost."""


@dataclass(frozen=True, slots=True)
class Highlight:
    """A word of the text (first occurrence span) and how much removing it lowers the score."""

    start: int
    end: int
    text: str
    drop: float


def word_spans(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, word)`` for each word-like token of ``text``."""
    return [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]


def _without(text: str, spans: Sequence[tuple[int, int, str]]) -> str:
    parts, last = [], 0
    for start, end, _ in spans:
        parts.append(text[last:start])
        last = end
    parts.append(text[last:])
    return "".join(parts)


def mask_highlights(
    text: str,
    score: ScoreFn,
    *,
    top_k: int = 3,
    min_drop: float = 1e-6,
    stopwords: frozenset[str] = frozenset(),
) -> list[Highlight]:
    """The ``top_k`` words whose removal lowers ``score(text)`` most, largest drop first.

    Args:
        text: the text to explain.
        score: texts -> probability being explained; called once with every masked variant.
        top_k: how many spans to return at most.
        min_drop: words whose removal lowers the score by less are never returned.
        stopwords: lower-cased words never tried.

    Returns:
        Highlights with character offsets of the word's first occurrence in ``text``.
    """
    spans = word_spans(text)
    groups: dict[str, list[tuple[int, int, str]]] = {}
    for span in spans:
        key = span[2].lower()
        if key in stopwords:
            continue
        if key in groups or len(groups) < MAX_DISTINCT_WORDS:
            groups.setdefault(key, []).append(span)
    if not groups or top_k <= 0:
        return []
    keys = list(groups)
    variants = [text] + [_without(text, groups[k]) for k in keys]
    scores = np.asarray(score(variants), dtype=float)
    drops = scores[0] - scores[1:]
    order = np.argsort(-drops, kind="stable")
    out = []
    for i in order[:top_k]:
        if drops[i] < min_drop:
            break
        start, end, word = groups[keys[i]][0]
        out.append(Highlight(start, end, word, float(drops[i])))
    return out


def merge_adjacent(text: str, highlights: Sequence[Highlight], gap: int = 2) -> list[Highlight]:
    """Join highlights separated by at most ``gap`` characters into phrases, in text order."""
    merged: list[Highlight] = []
    for h in sorted(highlights, key=lambda h: h.start):
        if merged and h.start - merged[-1].end <= gap:
            last = merged[-1]
            merged[-1] = Highlight(last.start, h.end, text[last.start : h.end], last.drop + h.drop)
        else:
            merged.append(h)
    return merged


def class_score(predict_proba: Callable[[list[str]], np.ndarray], column: int) -> ScoreFn:
    """A :data:`ScoreFn` taking one column of a ``predict_proba`` (a class or an aspect)."""
    return lambda texts: np.asarray(predict_proba(texts))[:, column]
