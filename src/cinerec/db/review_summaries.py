"""Per-movie review summaries: keyword-only functions, like :mod:`cinerec.db.repository`.

A summary says how many reviews a movie has, how many are positive, and per aspect (story,
acting, ...) how often reviewers discuss it, how positively, and one or two quoted sentences
with the words that carry their sentiment as character spans. Functions never commit (the caller
owns the transaction) and return frozen records.

Example::

    with Session.begin() as session:
        replace_review_summaries(session, summaries=[summary], source="imdb", model="tfidf")
        get_review_summaries(session, movie_ids=[4226])[4226].aspects[0].quotes[0].text
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from cinerec.db.movies import chunks
from cinerec.db.tables import MovieRow, ReviewSummaryRow, utcnow
from cinerec.errors import NotFoundError, ValidationError

MAX_SOURCE = 64
MAX_MODEL = 255


@dataclass(frozen=True, slots=True)
class ReviewQuote:
    """A quoted review sentence; ``spans`` are ``(start, end)`` offsets of its key words."""

    text: str
    positive: bool
    spans: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class AspectRecord:
    """One aspect of a movie across its reviews; ``positive_share`` is in 0..1."""

    aspect: str
    mentions: int
    positive_share: float
    quotes: tuple[ReviewQuote, ...] = ()


@dataclass(frozen=True, slots=True)
class ReviewSummary:
    """What reviewers say about one movie, most-discussed aspect first."""

    movie_id: int
    n_reviews: int
    positive_share: float
    aspects: tuple[AspectRecord, ...]
    source: str = ""
    model: str = ""
    updated_at: datetime | None = None


def _check(summary: ReviewSummary) -> None:
    if summary.n_reviews < 1:
        raise ValidationError(f"Movie {summary.movie_id}: a summary needs at least one review.")
    shares = [summary.positive_share, *(a.positive_share for a in summary.aspects)]
    if any(not 0.0 <= s <= 1.0 for s in shares):
        raise ValidationError(f"Movie {summary.movie_id}: positive shares must lie in 0..1.")
    for aspect in summary.aspects:
        for quote in aspect.quotes:
            if any(not 0 <= a < b <= len(quote.text) for a, b in quote.spans):
                raise ValidationError(
                    f"Movie {summary.movie_id}: a {aspect.aspect} quote has a span outside it."
                )


def _aspects_json(aspects: Sequence[AspectRecord]) -> list[dict[str, Any]]:
    return [
        {
            "aspect": a.aspect,
            "mentions": int(a.mentions),
            "positive_share": float(a.positive_share),
            "quotes": [
                {"text": q.text, "positive": bool(q.positive), "spans": [list(s) for s in q.spans]}
                for q in a.quotes
            ],
        }
        for a in aspects
    ]


def _record(row: ReviewSummaryRow) -> ReviewSummary:
    aspects = tuple(
        AspectRecord(
            aspect=str(a["aspect"]),
            mentions=int(a["mentions"]),
            positive_share=float(a["positive_share"]),
            quotes=tuple(
                ReviewQuote(
                    str(q["text"]),
                    bool(q["positive"]),
                    tuple((int(s[0]), int(s[1])) for s in q.get("spans", ())),
                )
                for q in a.get("quotes", ())
            ),
        )
        for a in row.aspects or ()
    )
    return ReviewSummary(
        movie_id=row.movie_id,
        n_reviews=row.n_reviews,
        positive_share=row.positive_share,
        aspects=aspects,
        source=row.source,
        model=row.model,
        updated_at=row.updated_at,
    )


def replace_review_summaries(
    session: Session, *, summaries: Iterable[ReviewSummary], source: str, model: str
) -> int:
    """Store summaries, replacing any earlier summary of the same movies; returns how many.

    Everything is checked before anything is written, so a bad summary loses nothing.

    Raises:
        NotFoundError: a movie is not in the catalog.
        ValidationError: a share outside 0..1, a summary without reviews, or a span that does
            not lie inside its quote.
    """
    by_id = {int(s.movie_id): s for s in summaries}
    for summary in by_id.values():
        _check(summary)
    ids = list(by_id)
    known: set[int] = set()
    for chunk in chunks(ids):
        known.update(session.scalars(select(MovieRow.id).where(MovieRow.id.in_(chunk))))
    missing = sorted(set(ids) - known)
    if missing:
        raise NotFoundError(f"Movies {missing[:10]} are not in the catalog.")
    for chunk in chunks(ids):
        session.execute(delete(ReviewSummaryRow).where(ReviewSummaryRow.movie_id.in_(chunk)))
    now = utcnow()
    session.add_all(
        ReviewSummaryRow(
            movie_id=movie_id,
            n_reviews=int(s.n_reviews),
            positive_share=float(s.positive_share),
            aspects=_aspects_json(s.aspects),
            source=source[:MAX_SOURCE],
            model=model[:MAX_MODEL],
            updated_at=now,
        )
        for movie_id, s in by_id.items()
    )
    session.flush()
    return len(by_id)


def get_review_summaries(session: Session, *, movie_ids: Sequence[int]) -> dict[int, ReviewSummary]:
    """Stored summaries by movie id; movies without one are left out."""
    wanted = list(dict.fromkeys(int(i) for i in movie_ids))
    found: dict[int, ReviewSummary] = {}
    for chunk in chunks(wanted):
        stmt = select(ReviewSummaryRow).where(ReviewSummaryRow.movie_id.in_(chunk))
        for row in session.scalars(stmt):
            found[row.movie_id] = _record(row)
    return {i: found[i] for i in wanted if i in found}


def count_review_summaries(session: Session) -> int:
    """How many movies have a stored summary."""
    return int(session.scalar(select(func.count()).select_from(ReviewSummaryRow)) or 0)


def all_review_summaries(session: Session) -> dict[int, ReviewSummary]:
    """Every stored summary by movie id (a few thousand rows: the catalog's reviewed movies)."""
    stmt = select(ReviewSummaryRow).order_by(ReviewSummaryRow.movie_id)
    return {row.movie_id: _record(row) for row in session.scalars(stmt)}
