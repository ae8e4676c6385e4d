"""Card feedback: "More like this" and "Not for me", stored per user, undoable, used at once.

A user's choice about a shown movie is stored as ``like`` or ``dislike`` feedback (one standing
choice per movie: a new choice replaces the old one, undo removes it). Every next page of that
user (``More``, and a new first page too) uses the standing choices in the candidate pool
(:func:`cinerec.services.recommend.candidate_pool`):

- a liked movie is folded into the history the recommender scores, as a movie watched and
  rated :data:`LIKED_RATING` (appended last, so sequence models read it as the newest);
- a disliked movie (and one marked ``not_interested``) is never proposed again, and its close
  neighbours are demoted: the :data:`NEIGHBOURS` movies the recommender itself ranks highest
  for a history of that one movie lose up to :data:`DEMOTION` of their score, linearly less
  down that list.

The neighbours come from the recommender that serves the page, through the plain
``recommend`` call every recommender has: for EASE that is the movie's row of item weights,
for ALS and BPR the fold-in of the movie's factors, for SASRec what it predicts after that
movie. It costs one scoring call per disliked movie and needs no catalog embedding index (which
is built in the background and may not be ready). A movie the recommender does not know has no
neighbours (its one-movie history would give only the popularity order).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from cinerec.data.types import Rated
from cinerec.db import repository as repo
from cinerec.errors import ModelError, ValidationError
from cinerec.llm.ranking.rerank import Candidate
from cinerec.recommenders.base import Recommender
from cinerec.services.platform import Platform
from cinerec.services.warm import request_reasons_warm_up

LIKE = "like"
DISLIKE = "dislike"
CHOICES: frozenset[str] = frozenset({LIKE, DISLIKE})
"""The card buttons' kinds: one standing choice per movie."""
HIDDEN = "not_interested"
"""Feedback that only hides a movie (API clients), without demoting its neighbours."""

LIKED_RATING = 5.0
NEIGHBOURS = 30
DEMOTION = 0.5
"""Score a disliked movie's closest neighbour loses; pool scores are rank-normalised to (0, 1]
plus the taste lift, so 0.5 moves it about half the pool down."""

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PageFeedback:
    """A user's standing feedback as the candidate pool uses it (ids in the order given)."""

    liked: tuple[int, ...] = ()
    disliked: tuple[int, ...] = ()
    hidden: frozenset[int] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.liked or self.disliked or self.hidden)

    def fold(
        self, history: Sequence[Rated], exclude: Collection[int]
    ) -> tuple[list[Rated], set[int]]:
        """The history with the liked movies appended, and ``exclude`` with the disliked and
        hidden ones added."""
        seen = {r.movie_id for r in history}
        folded = [*history, *(Rated(m, LIKED_RATING) for m in self.liked if m not in seen)]
        return folded, {*exclude, *self.disliked, *self.hidden}


def page_feedback(session: Session, *, user_id: int) -> PageFeedback:
    """The standing feedback of a user (only theirs), read in the caller's session."""
    latest = repo.latest_feedback(session, user_id=user_id, kinds={*CHOICES, HIDDEN})
    return PageFeedback(
        liked=tuple(m for m, kind in latest.items() if kind == LIKE),
        disliked=tuple(m for m, kind in latest.items() if kind == DISLIKE),
        hidden=frozenset(m for m, kind in latest.items() if kind == HIDDEN),
    )


def give_feedback(
    platform: Platform, *, user_id: int, movie_id: int, kind: str, run_id: int | None = None
) -> int:
    """Store feedback and return its id; ``like``/``dislike`` replace the movie's earlier choice.

    Raises:
        ValidationError: an unknown ``kind``.
        NotFoundError: the movie is not in the catalog or the run is not this user's.
    """
    if kind not in repo.FEEDBACK_KINDS:
        raise ValidationError(
            f"Unknown feedback {kind!r}; use one of {sorted(repo.FEEDBACK_KINDS)}."
        )
    with platform.session() as session:
        if kind in CHOICES:
            repo.remove_feedback(session, user_id=user_id, movie_id=movie_id, kinds=CHOICES)
        feedback_id = repo.add_feedback(
            session, user_id=user_id, movie_id=movie_id, kind=kind, run_id=run_id
        )
    request_reasons_warm_up(platform, user_id=user_id)  # the next page's cards change
    return feedback_id


def undo_feedback(platform: Platform, *, user_id: int, movie_id: int) -> bool:
    """Remove the user's "More like this" / "Not for me" on a movie; False if there was none."""
    with platform.session() as session:
        removed = repo.remove_feedback(session, user_id=user_id, movie_id=movie_id, kinds=CHOICES)
    if removed:
        request_reasons_warm_up(platform, user_id=user_id)
    return removed > 0


def choices(platform: Platform, *, user_id: int) -> dict[int, str]:
    """Movie id -> ``like`` or ``dislike``: the user's standing card choices."""
    with platform.session() as session:
        return session_choices(session, user_id=user_id)


def session_choices(session: Session, *, user_id: int) -> dict[int, str]:
    """:func:`choices`, read in the caller's session."""
    return repo.latest_feedback(session, user_id=user_id, kinds=CHOICES)


def neighbour_penalties(
    model: Recommender, disliked: Sequence[int], *, k: int = NEIGHBOURS
) -> dict[int, float]:
    """Movie id -> how close it is to the disliked movies: ``1 - rank / k`` for each disliked
    movie whose ``k`` nearest neighbours (by the model's scores for a one-movie history) hold it,
    summed over the disliked movies."""
    penalties: dict[int, float] = {}
    for movie_id in disliked:
        near = [s.movie_id for s in model.recommend([Rated(movie_id)], k)]
        if near == [s.movie_id for s in model.recommend([], k, exclude={movie_id})]:
            continue  # unknown to the model: that is the popularity order, not neighbours
        for rank, neighbour in enumerate(near):
            penalties[neighbour] = penalties.get(neighbour, 0.0) + 1.0 - rank / k
    return penalties


def demote(
    platform: Platform,
    candidates: Sequence[Candidate],
    disliked: Sequence[int],
    *,
    k: int = NEIGHBOURS,
    weight: float = DEMOTION,
) -> list[Candidate]:
    """``candidates`` with the disliked movies' neighbours' scores lowered (order unchanged;
    the caller sorts). Without a trained recommender nothing is demoted."""
    if not disliked:
        return list(candidates)
    try:
        model, _ = platform.recommender
    except ModelError as exc:
        log.info("no recommender to find the neighbours of disliked movies: %s", exc)
        return list(candidates)
    penalty = neighbour_penalties(model, disliked, k=k)
    return [
        Candidate(movie=c.movie, score=c.score - weight * penalty.get(c.movie.movie_id, 0.0))
        for c in candidates
    ]
