"""Descriptions that fit an embedder's sequence length.

:func:`cinerec.data.descriptions.build_description` cuts by characters; a model cuts by tokens,
silently, at the end. :func:`fit_description` shrinks the character budget until the text fits
``max_seq_tokens``, so what is dropped is chosen by the description builder's rules (the end
of the overview first, at a sentence boundary; then keywords, cast, director, genres) instead
of mid-sentence by the tokenizer.
"""

from __future__ import annotations

from dataclasses import dataclass

from cinerec.data.descriptions import build_description
from cinerec.data.types import Movie
from cinerec.embeddings.base import Embedder

_MIN_CHARS = 40


@dataclass(frozen=True, slots=True)
class FittedText:
    """A description, its token count, and whether it was shortened to fit."""

    text: str
    tokens: int
    shortened: bool


def fit_description(movie: Movie, embedder: Embedder, *, max_chars: int = 1200) -> FittedText:
    """The longest description of ``movie`` (at most ``max_chars``) that the model reads whole.

    Backends that read any length (``max_seq_tokens`` None) get the plain description.
    """
    text = build_description(movie, max_chars=max_chars)
    limit = embedder.max_seq_tokens
    if limit is None:
        return FittedText(text, embedder.count_tokens(text), False)
    tokens = embedder.count_tokens(text)
    if tokens <= limit:
        return FittedText(text, tokens, False)
    low, high = _MIN_CHARS, len(text) - 1  # binary search on the character budget
    best = build_description(movie, max_chars=low)
    while low <= high:
        middle = (low + high) // 2
        candidate = build_description(movie, max_chars=middle)
        if embedder.count_tokens(candidate) <= limit:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    return FittedText(best, embedder.count_tokens(best), True)
