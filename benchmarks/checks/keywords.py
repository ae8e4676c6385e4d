"""A card's own catalog keyword is the card's fact, not a claim that names another movie.

The words benchmark recognises every catalog title in a text, so "The movie is about San
Francisco" (the card's keyword ``san francisco``) read as a claim naming the 1936 film *San
Francisco*, a movie the viewer did not tick: two of the four false reasons of
``benchmarks/results/words_0.5b_v3.md`` were that. :func:`own_keyword` tells the benchmark to
leave such a phrase out of the title claims. It only drops a title reading; a phrase cited as
watched ("like San Francisco, which you watched") is still checked against the ticked movies,
and every other title is read as before. Own patterns and normalisation: it imports nothing from
``cinerec``.

Example:
    >>> own_keyword("San Francisco", ["vampire", "san francisco"])
    True
    >>> own_keyword("The Ring", ["island"]), own_keyword("Francisco", ["san francisco"])
    (False, False)
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_EDGES = re.compile(r"^[\s'\"“”‘’«»()\[\].,!?]+|[\s'\"“”‘’«»()\[\].,!?]+$")


def _fold(text: str) -> str:
    text = _EDGES.sub("", unicodedata.normalize("NFKC", text))
    return " ".join(text.casefold().replace("-", " ").split())


def own_keyword(phrase: str, keywords: Iterable[str]) -> bool:
    """Whether ``phrase`` (the words a title reading matched) is one of the card's
    ``keywords``, whole, ignoring case, hyphens, quotes and the punctuation at its edges."""
    folded = _fold(phrase)
    return bool(folded) and folded in {_fold(k) for k in keywords}
