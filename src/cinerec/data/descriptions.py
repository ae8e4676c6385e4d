"""One readable text per movie, used for embeddings, search and language-model prompts."""

from __future__ import annotations

import re

from cinerec.data.types import Movie

_SENTENCE_END = re.compile(r"[.!?][\"')\]]*(?=\s)")
_ELLIPSIS = "…"
_MIN_FRAGMENT = 24  # shorter cut-off overviews ("A…") say nothing


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?" else f"{text}."


def _header_parts(movie: Movie, keywords: tuple[str, ...], reviews: str = "") -> list[str]:
    parts = [_sentence(movie.display_title)]
    if movie.genres:
        parts.append(_sentence("Genres: " + ", ".join(movie.genres)))
    if movie.director:
        parts.append(_sentence(f"Directed by {movie.director}"))
    if movie.cast:
        parts.append(_sentence("Starring " + ", ".join(movie.cast)))
    if keywords:
        parts.append(_sentence("Keywords: " + ", ".join(keywords)))
    if reviews:
        parts.append(_sentence(" ".join(reviews.split())))
    return parts


def _cut_overview(overview: str, budget: int) -> str:
    """The longest prefix of ``overview`` ending at a sentence end that fits ``budget``
    characters; when not even the first sentence fits, whole words and an ellipsis."""
    if len(overview) <= budget:
        return overview
    ends = [m.end() for m in _SENTENCE_END.finditer(overview) if m.end() <= budget]
    if ends:
        return overview[: ends[-1]]
    if budget < _MIN_FRAGMENT:
        return ""
    head = overview[: budget - len(_ELLIPSIS)]
    if not overview[len(head)].isspace() and " " in head:
        head = head.rsplit(" ", 1)[0]  # drop the partial last word
    return head.rstrip(" ,;:-") + _ELLIPSIS


def build_description(
    movie: Movie, *, max_chars: int = 1200, max_keywords: int = 20, reviews: str = ""
) -> str:
    """A single text describing ``movie``, at most ``max_chars`` characters.

    Order: ``Title (Year). Genres: a, b. Directed by X. Starring A, B. Keywords: k1, k2.
    Reviews. Overview``; empty fields are left out, and only the first ``max_keywords`` keywords
    are used. ``reviews`` is a sentence about what reviewers say (the aspect summary, e.g.
    "Reviewers praise the acting; criticise the pacing"), when the movie has one.

    What is cut, in this order, when the text is longer than ``max_chars``:

    1. the overview, which comes last, is cut after the last whole sentence that fits; if not
       even its first sentence fits, after the last whole word that fits, ending with "…"; when
       fewer than 24 characters are left for it, it is dropped;
    2. only when the fields before the overview alone exceed ``max_chars``: the reviews sentence
       is dropped, then keywords from the end of the list one at a time, then the starring,
       director and genres parts whole, in that order;
    3. as a last resort (a title longer than ``max_chars``), the title is cut hard.

    Example:
        >>> build_description(Movie(1, "Heat", 1995, ("Crime",), overview="A heist. A chase."),
        ...                   max_chars=40)
        'Heat (1995). Genres: Crime. A heist.'
    """
    keywords = movie.keywords[:max_keywords]
    parts = _header_parts(movie, keywords, reviews)
    if reviews and len(" ".join(parts)) > max_chars:
        parts = _header_parts(movie, keywords)
    while len(" ".join(parts)) > max_chars and keywords:
        keywords = keywords[:-1]
        parts = _header_parts(movie, keywords)
    while len(" ".join(parts)) > max_chars and len(parts) > 1:
        parts.pop()
    header = " ".join(parts)
    if len(header) > max_chars:
        return header[:max_chars].rstrip()
    overview = " ".join(movie.overview.split())
    if not overview:
        return header
    budget = max_chars - len(header) - 1  # one space between header and overview
    overview = _cut_overview(overview, budget) if budget > 0 else ""
    return f"{header} {overview}" if overview else header
