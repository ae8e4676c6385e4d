"""Immutable records the repository returns (and :class:`RunItem`, which it also accepts).

Rows never leave ``cinerec.db``; movies cross out as :class:`cinerec.data.types.Movie` and
watched entries as :class:`cinerec.data.types.Rated`. Timestamps are aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

#: Feedback kinds :func:`cinerec.db.repository.add_feedback` accepts.
FEEDBACK_KINDS: frozenset[str] = frozenset({"like", "dislike", "watched", "not_interested"})


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user's profile (the session token hash stays inside the database layer).

    ``changed_at`` is the last time the profile or the watched list changed (to tell whether a
    persona written earlier is stale).
    """

    id: int
    name: str
    age: int | None
    gender: str | None
    taste: str
    language: str
    created_at: datetime
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class PersonaRecord:
    """A stored taste persona; ``fallback`` is True when no language model wrote it."""

    id: int
    user_id: int
    text: str
    model: str
    fallback: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RunItem:
    """One recommended movie of a run, in rank order.

    ``base_score`` comes from the candidate recommender; ``fit_score`` (0..1) and ``reason``
    from the language model, None when it was unavailable.
    """

    movie_id: int
    base_score: float
    fit_score: float | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A stored recommendation run with its items (``items[0]`` is rank 1)."""

    id: int
    user_id: int
    created_at: datetime
    page: int
    retriever: str
    retriever_version: str
    llm_model: str
    fallback: bool
    error: str | None
    timings: dict[str, float]
    items: tuple[RunItem, ...] = field(default=())
    reasons_pending: bool = False
    """The ranked list is stored and its reasons are still to be written."""
