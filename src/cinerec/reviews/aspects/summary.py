"""Per-movie aspect summaries: how often each aspect comes up, how positively, with quotes.

For every review of a movie, the aspect classifier says which aspects it discusses; the
sentiment model scores each aspect's evidence sentences (those with a guideline cue) and the
highest-scoring (or lowest, for a negative verdict) sentence becomes a quote, with the words
that drive its sentiment as highlight spans (offsets into the quote).

Example (with any two models ``aspects`` and ``sentiment``)::

    summaries = summarize_movie(texts, aspect_model=aspects, sentiment=sentiment)
    summaries[0].aspect, summaries[0].positive_share, summaries[0].quotes[0].text
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cinerec.reviews.aspects.classifier import AspectClassifier
from cinerec.reviews.aspects.weak_labels import MOVIE_LEXICON, AspectLexicon, sentences
from cinerec.reviews.highlights import Highlight, class_score, mask_highlights
from cinerec.reviews.sentiment.tfidf import TfidfSentimentModel

MAX_QUOTE_CHARS = 240


@dataclass(frozen=True, slots=True)
class Quote:
    """A sentence from a review with the spans that carry its sentiment."""

    text: str
    review_index: int
    p_positive: float
    highlights: tuple[Highlight, ...]


@dataclass(frozen=True, slots=True)
class AspectSummary:
    """One aspect of one movie across its reviews."""

    aspect: str
    mentions: int
    positive_share: float
    quotes: tuple[Quote, ...]


def summarize_movie(
    reviews: Sequence[str],
    *,
    aspect_model: AspectClassifier,
    sentiment: TfidfSentimentModel,
    lexicon: AspectLexicon = MOVIE_LEXICON,
    n_quotes: int = 2,
    min_mentions: int = 1,
) -> list[AspectSummary]:
    """Aspect summaries of a movie's reviews, most-mentioned aspect first.

    ``sentiment`` must be binary with class 1 = positive. Quotes agree with the majority
    verdict of the aspect (the most positive sentences when most are positive).
    """
    if not reviews:
        return []
    present = aspect_model.predict(list(reviews))
    pos_col = list(sentiment.classes_).index(1)
    score = class_score(sentiment.predict_proba, pos_col)
    out = []
    for k, aspect in enumerate(aspect_model.aspects):
        if aspect not in lexicon.patterns:
            continue
        pattern = lexicon.patterns[aspect]
        evidence: list[tuple[int, str]] = []
        for i in map(int, np.flatnonzero(present[:, k])):
            for s in sentences(reviews[i]):
                text = s.text.strip()
                if pattern.search(text) and len(text) <= MAX_QUOTE_CHARS:
                    evidence.append((i, text))
        if len({i for i, _ in evidence}) < min_mentions:
            continue
        p = score([t for _, t in evidence])
        by_review: dict[int, list[float]] = {}
        for (i, _), pi in zip(evidence, p, strict=True):
            by_review.setdefault(i, []).append(float(pi))
        verdicts = [np.mean(v) >= 0.5 for v in by_review.values()]
        positive_share = float(np.mean(verdicts))
        order = np.argsort(-p if positive_share >= 0.5 else p, kind="stable")
        quotes, used = [], set()
        for j in order:
            i, text = evidence[j]
            if i in used:
                continue
            used.add(i)
            target = score if positive_share >= 0.5 else (lambda t: 1.0 - score(t))
            spans = tuple(mask_highlights(text, target, top_k=2))
            quotes.append(Quote(text, i, float(p[j]), spans))
            if len(quotes) == n_quotes:
                break
        out.append(AspectSummary(aspect, len(by_review), positive_share, tuple(quotes)))
    return sorted(out, key=lambda s: (-s.mentions, s.aspect))
