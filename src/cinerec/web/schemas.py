"""Output shapes of the JSON API (input shapes live in services, shared with the CLI)."""

from __future__ import annotations

from pydantic import BaseModel

from cinerec.data.types import Movie
from cinerec.db.review_summaries import ReviewSummary
from cinerec.services.recommend import RecommendationPage
from cinerec.services.reviews import verdict


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


class WatchedIn(BaseModel):
    movie_id: int
    rating: float | None = None


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
    movie_id: int
    kind: str
    run_id: int | None = None
