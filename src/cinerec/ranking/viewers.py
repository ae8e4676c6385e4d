"""Simulated new viewers: a few ticked movies, one taste statement, and what they will like.

From one user's ratings, :func:`simulate_viewer` keeps a *statement* subset apart (what the
taste statement is written from), draws up to ``max(ks)`` ticks from the rest, and makes the
remaining movies rated 4.0 or higher the targets. Ticks are drawn without replacement, as
people remember movies (probability proportional to each movie's popularity, ``"popular"``)
or uniformly (``"uniform"``); the first ``k`` ticks of the draw are the viewer with ``k``
ticks, so every ``k`` shares the same targets. A target is never a tick and never in the
statement subset, and the statement never names a target's title.

Example:
    >>> viewer = simulate_viewer(ratings, catalog=movies, popularity=pop, seed=7)  # doctest: +SKIP
    >>> viewer.ticks["popular"][:3], viewer.statements["en"]  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cinerec.data.types import Movie
from cinerec.ranking.statements import (
    LANGUAGES,
    LIKED_RATING,
    TasteFacts,
    taste_facts,
    write_statement,
)

DRAWS = ("popular", "uniform")
MAX_TICKS = 10
STATEMENT_FRACTION = 0.3
MIN_STATEMENT_RATINGS = 5


def user_seed(seed: int, user_id: int, salt: str = "") -> int:
    """A per-user seed that does not depend on the order users are visited in."""
    digest = hashlib.sha256(f"{seed}:{user_id}:{salt}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


@dataclass(frozen=True, slots=True)
class SimulatedViewer:
    """One held-out user as the recommendation page would meet them."""

    user_id: int
    ticks: Mapping[str, tuple[int, ...]]
    """Draw name -> ticked movie ids, in draw order (the first ``k`` are the ``k``-tick view)."""
    statement_items: tuple[int, ...]
    facts: TasteFacts
    statements: Mapping[str, str]
    """Language -> statement."""
    targets: tuple[int, ...]
    target_ratings: tuple[float, ...]


@dataclass(frozen=True)
class StatementContext:
    """Catalog facts a statement is written from (built once per data set)."""

    movies: Mapping[int, Movie]
    genre_shares: Mapping[str, float]
    idf: Mapping[str, float]
    titles: frozenset[str]


def draw_ticks(
    items: Sequence[int],
    popularity: Mapping[int, float],
    *,
    n: int,
    draw: str,
    rng: np.random.Generator,
) -> tuple[int, ...]:
    """``n`` of ``items`` without replacement: ``popular`` weighs each by its popularity
    (plus one, so an unseen movie can still be remembered), ``uniform`` equally."""
    if draw not in DRAWS:
        raise ValueError(f"Unknown draw {draw!r}; choose one of {DRAWS}")
    n = min(n, len(items))
    if n == 0:
        return ()
    if draw == "uniform":
        picked = rng.choice(len(items), size=n, replace=False)
    else:
        weights = np.array([popularity.get(i, 0.0) + 1.0 for i in items], dtype=np.float64)
        picked = rng.choice(len(items), size=n, replace=False, p=weights / weights.sum())
    return tuple(int(items[p]) for p in picked)


def simulate_viewer(
    user_id: int,
    ratings: Sequence[tuple[int, float]],
    *,
    context: StatementContext,
    popularity: Mapping[int, float],
    seed: int,
    max_ticks: int = MAX_TICKS,
    statement_fraction: float = STATEMENT_FRACTION,
    draws: Collection[str] = DRAWS,
) -> SimulatedViewer | None:
    """The simulated new viewer behind one user's ``ratings`` ((movie id, rating) pairs).

    Returns None when the user has too few ratings for a statement subset, ``max_ticks``
    ticks of every draw and at least one target.
    """
    rng = np.random.default_rng(user_seed(seed, user_id))
    rated = [(int(i), float(r)) for i, r in ratings if int(i) in context.movies]
    n_statement = max(MIN_STATEMENT_RATINGS, round(statement_fraction * len(rated)))
    if len(rated) < n_statement + max_ticks + 1:
        return None
    order = rng.permutation(len(rated))
    statement = [rated[k] for k in order[:n_statement]]
    pool = [rated[k] for k in order[n_statement:]]
    pool_ids = [i for i, _ in pool]
    ticks = {
        d: draw_ticks(pool_ids, popularity, n=max_ticks, draw=d, rng=rng) for d in sorted(draws)
    }
    ticked = {i for t in ticks.values() for i in t}
    targets = [(i, r) for i, r in pool if r >= LIKED_RATING and i not in ticked]
    if not targets:
        return None
    facts = taste_facts(
        [(context.movies[i], r) for i, r in statement],
        genre_shares=context.genre_shares,
        idf=context.idf,
        titles=context.titles,
    )
    forbidden = [context.movies[i].title for i, _ in targets]
    statements = {
        lang: write_statement(facts, lang, seed=user_seed(seed, user_id, lang), forbidden=forbidden)
        for lang in LANGUAGES
    }
    return SimulatedViewer(
        user_id=user_id,
        ticks=ticks,
        statement_items=tuple(i for i, _ in statement),
        facts=facts,
        statements=statements,
        targets=tuple(i for i, _ in targets),
        target_ratings=tuple(r for _, r in targets),
    )


def statement_context(catalog: Sequence[Movie]) -> StatementContext:
    """The catalog facts :func:`simulate_viewer` writes statements from."""
    from cinerec.ranking.statements import catalog_genre_shares, keyword_idf

    return StatementContext(
        movies={m.movie_id: m for m in catalog},
        genre_shares=catalog_genre_shares(catalog),
        idf=keyword_idf(catalog),
        titles=frozenset(m.title.casefold() for m in catalog),
    )
