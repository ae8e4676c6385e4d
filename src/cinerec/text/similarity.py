"""How alike two short texts are: token Jaccard and character n-gram cosine.

Used to keep the one-line reviews of a post distinct. Character n-grams matter for Korean,
where particles attach to words ("영화는", "영화가") and whole-word overlap misses repeats.

Example:
    >>> text_similarity("A tense heist in the rain.", "a tense heist in the rain!")
    1.0
    >>> text_similarity("Heat: a tense heist.", "Ronin: a tense heist.", strip=["Heat", "Ronin"])
    1.0
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

from cinerec.text.lang import HANGUL

_TOKEN = re.compile(r"\w+")


def plain_text(text: str, strip: Sequence[str] = ()) -> str:
    """Case-folded words joined by single spaces, without the phrases in ``strip``."""
    text = unicodedata.normalize("NFKC", text).casefold()
    for phrase in strip:
        phrase = unicodedata.normalize("NFKC", phrase).casefold().strip()
        if phrase:
            text = text.replace(phrase, " ")
    return " ".join(_TOKEN.findall(text))


def token_jaccard(a: str, b: str) -> float:
    """Jaccard overlap of the whitespace-separated word sets (0 when both are empty)."""
    x, y = set(a.split()), set(b.split())
    return len(x & y) / len(x | y) if x | y else 0.0


def char_ngram_cosine(a: str, b: str, n: int = 3) -> float:
    """Cosine similarity of character ``n``-gram counts (0 when either is empty)."""

    def grams(text: str) -> Counter[str]:
        padded = f" {text} "
        return Counter(padded[i : i + n] for i in range(max(len(padded) - n + 1, 0)))

    x, y = grams(a), grams(b)
    dot = sum(v * y[k] for k, v in x.items())
    norm = math.sqrt(sum(v * v for v in x.values()) * sum(v * v for v in y.values()))
    return dot / norm if norm else 0.0


def text_similarity(a: str, b: str, *, strip: Sequence[str] = ()) -> float:
    """0..1: the larger of token Jaccard and character n-gram cosine of the two texts, compared
    case-folded, without punctuation and without the phrases in ``strip`` (e.g. titles, so that
    "X is a gripping thriller" and "Y is a gripping thriller" count as the same line).

    n is 3, or 2 when either text has Hangul (a syllable carries about as much as a few Latin
    letters, and trigrams of two Korean paraphrases rarely meet)."""
    x, y = plain_text(a, strip), plain_text(b, strip)
    if not x or not y:
        return 0.0
    n = 2 if HANGUL.search(x) or HANGUL.search(y) else 3
    return round(max(token_jaccard(x, y), char_ngram_cosine(x, y, n)), 4)


def mean_pairwise_similarity(texts: Sequence[str], *, strip: Sequence[str] = ()) -> float:
    """Mean :func:`text_similarity` over all pairs of ``texts`` (0 for fewer than two)."""
    pairs = list(itertools.combinations(texts, 2))
    if not pairs:
        return 0.0
    return round(sum(text_similarity(a, b, strip=strip) for a, b in pairs) / len(pairs), 4)
