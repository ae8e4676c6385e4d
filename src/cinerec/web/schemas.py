"""Output shapes of the JSON API (input shapes live in services, shared with the CLI)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from cinerec.config import Settings
from cinerec.data.types import Movie
from cinerec.services.catalog import ReviewSummary
from cinerec.services.job_state import JobStatus
from cinerec.services.recommend import RecommendationPage
from cinerec.services.reviews import verdict

MAX_ID = 2**31 - 1
"""Ids are the databases' 32-bit integer columns; anything larger cannot name a record."""

DEFAULT_MAX_TASTE = int(Settings.model_fields["max_taste_chars"].default)
STRICT_INPUT = ConfigDict(extra="forbid", strict=True)
"""Input bodies take exactly what their schema says: no unknown fields, no "3" for 3."""

MovieIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="A catalog movie id.")]
RunIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="A recommendation run id.")]
ConversationIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="A conversation id.")]
JobIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="A background job id.")]


def _whole_number(value: object) -> object:
    """JSON Schema counts 90.0 as an integer; so does the API (strict mode still refuses "90")."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WholeNumber = BeforeValidator(_whole_number)
# Constraints first, then the validator that wraps them (the other order loses them from the
# JSON schema).
BoundedId = Annotated[int, Field(ge=1, le=MAX_ID), WholeNumber]
Age = Annotated[int, Field(ge=5, le=120), WholeNumber]


class ErrorOut(BaseModel):
    """The one shape of every error the API returns: a sentence that says what to do."""

    detail: str


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for ``statuses``, all with the :class:`ErrorOut` body."""
    described = {
        400: "The body could not be read (too large or malformed).",
        403: "Refused: no valid CSRF token, or the request came from another origin.",
        404: "No such record for this session.",
        405: "This path does not take that method; the Allow header lists those it takes.",
        422: "The input was missing, malformed or out of range; nothing was changed.",
        429: "Too many requests to the model; the Retry-After header says when to try again.",
        500: "An unexpected error; nothing that was stored was lost.",
        503: "A part the request needs (the model, a trained recommender) is not available.",
    }
    return {s: {"model": ErrorOut, "description": described[s]} for s in statuses}


COMMON_ERRORS = error_responses(403, 404, 422, 500, 503)
MODEL_ERRORS = error_responses(429)


class ProfileIn(BaseModel):
    """``PUT``/``POST /api/profile`` body: a new session's user or the session's new profile."""

    model_config = STRICT_INPUT

    name: str = Field(min_length=1, max_length=60, description="Shown only to this session.")
    age: Age | None = None
    gender: Literal["female", "male", "other", "unspecified"] = "unspecified"
    taste: str = Field(
        default="",
        max_length=DEFAULT_MAX_TASTE,
        description="A sentence or two of taste (a server may be set to take fewer characters).",
    )
    language: Literal["en", "ko"] = "en"


class RestoreIn(BaseModel):
    """``POST /api/session/restore`` body: a recovery code shown when the profile was made."""

    model_config = STRICT_INPUT

    code: str = Field(
        max_length=64,
        pattern=r"^[\s-]*([A-Za-z0-9][\s-]*){25}$",
        description="25 letters and digits; dashes and spaces are ignored.",
    )


class CsrfOut(BaseModel):
    """The CSRF token to send back as ``X-CSRF-Token`` with the ``cinerec_csrf`` cookie."""

    csrf_token: str


class MoviePublic(BaseModel):
    id: int
    title: str
    year: int | None
    genres: list[str]
    director: str | None
    cast: list[str]
    overview: str

    @classmethod
    def of(cls, m: Movie) -> MoviePublic:
        return cls(
            id=m.movie_id,
            title=m.title,
            year=m.year,
            genres=list(m.genres),
            director=m.director,
            cast=list(m.cast[:5]),
            overview=m.overview,
        )


class UserPublic(BaseModel):
    name: str
    age: int | None
    gender: str | None
    taste: str
    language: str
    recovery_code: str | None = Field(
        default=None,
        description="Only in the answer that created the user: the code that brings this "
        "profile back in another browser (POST /api/session/restore). It is stored hashed and "
        "never shown again.",
    )


class WatchedIn(BaseModel):
    model_config = STRICT_INPUT

    movie_id: BoundedId
    rating: float | None = Field(default=None, ge=1, le=5)


class WatchedPublic(BaseModel):
    movie: MoviePublic
    rating: float | None


class PersonaPublic(BaseModel):
    text: str
    model: str
    fallback: bool


class QuotePublic(BaseModel):
    text: str
    positive: bool
    highlights: list[tuple[int, int]]  # character offsets of the words carrying the sentiment


class AspectPublic(BaseModel):
    aspect: str
    verdict: str  # praised, mixed or criticised
    mentions: int
    positive_share: float
    quotes: list[QuotePublic]


class ReviewsPublic(BaseModel):
    movie_id: int
    n_reviews: int
    positive_share: float
    source: str
    aspects: list[AspectPublic]

    @classmethod
    def of(cls, s: ReviewSummary) -> ReviewsPublic:
        return cls(
            movie_id=s.movie_id,
            n_reviews=s.n_reviews,
            positive_share=s.positive_share,
            source=s.source,
            aspects=[
                AspectPublic(
                    aspect=a.aspect,
                    verdict=verdict(a.positive_share),
                    mentions=a.mentions,
                    positive_share=a.positive_share,
                    quotes=[
                        QuotePublic(text=q.text, positive=q.positive, highlights=list(q.spans))
                        for q in a.quotes
                    ],
                )
                for a in s.aspects
            ],
        )


class CardPublic(BaseModel):
    rank: int
    movie: MoviePublic
    fit_score: float | None
    reason: str | None
    where_to_watch: str
    reviews: ReviewsPublic | None = None


class RecommendationsIn(BaseModel):
    model_config = STRICT_INPUT

    more: bool = False
    stream_reasons: bool = False  # return the ranked list at once; reasons stream via SSE


class RecommendationPagePublic(BaseModel):
    run_id: int | None
    page: int
    fallback: bool
    reasons_unavailable: bool
    reasons_pending: bool = False
    persona: str | None
    retriever: str
    llm_model: str
    timings: dict[str, float]
    items: list[CardPublic]

    @classmethod
    def of(cls, p: RecommendationPage) -> RecommendationPagePublic:
        from cinerec.web.links import where_to_watch

        return cls(
            run_id=p.run_id,
            page=p.page,
            fallback=p.fallback,
            reasons_unavailable=p.fallback,
            reasons_pending=p.reasons_pending,
            persona=p.persona,
            retriever=p.retriever,
            llm_model=p.llm_model,
            timings=p.timings,
            items=[
                CardPublic(
                    rank=c.rank,
                    movie=MoviePublic.of(c.movie),
                    fit_score=c.fit_score,
                    reason=c.reason,
                    where_to_watch=where_to_watch(c.movie),
                    reviews=None if c.reviews is None else ReviewsPublic.of(c.reviews),
                )
                for c in p.cards
            ],
        )


class FeedbackIn(BaseModel):
    model_config = STRICT_INPUT

    movie_id: BoundedId
    kind: Literal["like", "dislike", "watched", "not_interested"]
    run_id: BoundedId | None = None


class FeedbackOut(BaseModel):
    id: int


class FeedbackPublic(BaseModel):
    """A standing card choice: ``like`` ("More like this") or ``dislike`` ("Not for me")."""

    movie_id: int
    kind: Literal["like", "dislike"]


class JobPublic(BaseModel):
    """A background job (ingest, training, review summaries, embeddings, evaluation).

    Its arguments, result, error message and worker are not shown here (this API needs no
    session); ``cinerec jobs show`` has them.
    """

    id: int
    name: str
    state: Literal[
        "queued", "running", "done", "failed", "cancelled", "interrupted", "cancelling"
    ] = Field(
        description="interrupted: running, but its worker stopped sending heartbeats "
        "(it will be retried by another worker, or stays so when none is left to); "
        "cancelling: running, asked to stop (it stops at its next step, then shows cancelled; "
        "a cancelled job is never retried)."
    )
    attempts: int = Field(ge=0, description="How many times the job was started.")
    error_type: str | None = Field(
        description="The exception type of the last failed attempt (a queued job with one "
        "waits for its retry); null when none failed."
    )
    created_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None
    cancel_requested_at: datetime | None = Field(
        description="When someone asked the job to stop; null when nobody did."
    )

    @classmethod
    def of(cls, j: JobStatus) -> JobPublic:
        return cls(
            id=j.id, name=j.name, state=j.state, attempts=j.attempts,  # type: ignore[arg-type]
            error_type=j.error_type, created_at=j.created_at, started_at=j.started_at,
            heartbeat_at=j.heartbeat_at, finished_at=j.finished_at,
            cancel_requested_at=j.cancel_requested_at,
        )  # fmt: skip
