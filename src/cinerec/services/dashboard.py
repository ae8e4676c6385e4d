"""Everything a returning user sees: profile, watched movies, persona and past recommendations."""

from __future__ import annotations

from dataclasses import dataclass

from cinerec.data.types import Movie
from cinerec.db import repository as repo
from cinerec.db.review_summaries import get_review_summaries
from cinerec.services.feedback import CHOICES
from cinerec.services.platform import Platform
from cinerec.services.recommend import RecommendationPage, current_batch, page_from_run


@dataclass(frozen=True)
class WatchedMovie:
    movie: Movie
    rating: float | None


@dataclass(frozen=True)
class Dashboard:
    user: repo.UserRecord
    watched: list[WatchedMovie]
    persona: repo.PersonaRecord | None
    current: list[RecommendationPage]  # pages since the newest page 1, in page order
    earlier: list[RecommendationPage]  # older runs, newest first
    choices: dict[int, str]  # movie id -> "like" / "dislike" (the cards' feedback)


def load_dashboard(platform: Platform, *, user: repo.UserRecord, max_runs: int = 20) -> Dashboard:
    """One read of everything the main page shows for ``user`` (the request's session user,
    already read: it is not read again)."""
    user_id = user.id
    with platform.session() as session:
        watched = repo.list_watched(session, user_id=user_id)
        persona = repo.latest_persona(session, user_id=user_id)
        runs = repo.list_runs(session, user_id=user_id, limit=max_runs)
        ids = {w.movie_id for w in watched} | {i.movie_id for r in runs for i in r.items}
        movies = repo.get_movies(session, ids=sorted(ids))
        choices = repo.latest_feedback(session, user_id=user_id, kinds=CHOICES)
        reviews = get_review_summaries(
            session, movie_ids=[i.movie_id for r in runs for i in r.items]
        )
    current_runs = current_batch(runs)
    earlier = runs[len(current_runs) :]
    return Dashboard(
        user=user,
        watched=[
            WatchedMovie(movies[w.movie_id], w.rating) for w in watched if w.movie_id in movies
        ],
        persona=persona,
        current=[page_from_run(r, movies, reviews=reviews) for r in reversed(current_runs)],
        earlier=[page_from_run(r, movies, reviews=reviews) for r in earlier],
        choices=choices,
    )
