"""Curated posts for a theme: candidates -> language model -> validated post -> cards.

``make_post(platform, "rainy day", n=5)`` finds movies for the theme by embedding search over
the catalog descriptions (:func:`cinerec.services.similar.taste_query_candidates`: English,
Korean, stated dislikes filtered), blends that fit with a prior so the picks are well known and
well liked (how many ratings a movie has in the database, and its shrunken mean rating from the
MovieLens ratings when those can be read), and asks the model to write the post
(:func:`cinerec.llm.posts.compose.write_post`). Titles are re-read from the database by id before a
post is accepted. A post that fails is reported (:attr:`PostOutcome.failure`), never published
half-formed: :func:`save_post` writes the JSON and one PNG card per movie only for a valid post.
:func:`store_post` keeps a post (or a failed post's report) in the database under its random id;
:func:`stored_post` and :func:`post_card` read it back, also after a restart.

Example:
    >>> outcome = make_post(platform, "비 오는 날", n=5)  # doctest: +SKIP
    >>> outcome.post.caption if outcome.ok else outcome.failure  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import math
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cinerec.data.movielens import load_ratings
from cinerec.data.types import Movie
from cinerec.db import posts as post_db
from cinerec.db import repository as repo
from cinerec.db.movies import chunks
from cinerec.db.tables import MovieRow
from cinerec.embeddings.base import Embedder
from cinerec.errors import CinerecError, NotFoundError, ValidationError
from cinerec.llm.posts.compose import Post, PostCandidate, PostConfig, PostDraft, write_post
from cinerec.services import reviews
from cinerec.services.platform import Platform
from cinerec.services.postcard import CardContent, card_png
from cinerec.services.similar import taste_query_candidates
from cinerec.text.lang import GENRES_KO, detect_language

log = logging.getLogger(__name__)

MAX_THEME_CHARS = 200
THEME_WORD = r"[0-9A-Za-z\u00C0-\u024F\u0370-\u1FFF\u3040-\u9FFF\uAC00-\uD7A3]"
"""A theme needs at least one letter or digit (Latin, Greek, Cyrillic, kana, CJK, Hangul ...)."""
MAX_POST_MOVIES = 10
POSTER_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")

HighlightSource = Callable[[Movie], Sequence[str]]
"""Review highlights of a movie (short quotes), best first; empty when there are none."""


@dataclass(frozen=True, slots=True)
class ThemeConfig:
    """How theme candidates are chosen.

    ``pool`` embedding matches are re-scored as ``(1 - prior_weight) * fit + prior_weight *
    prior`` (both min-max scaled within the pool); movies with at least ``min_ratings`` ratings
    and a synopsis come first (well known, and something to ground a review on), the rest only
    fill up; the best ``shown`` go to the model.
    """

    pool: int = 500
    prior_weight: float = 0.3
    min_ratings: int = 20
    shown: int = 12
    rating_shrinkage: float = 20.0


@dataclass(frozen=True)
class PostOutcome:
    """One request's result: a valid post, or a failure report with what was tried."""

    post_id: str
    theme: str
    language: str
    post: Post | None
    movies: dict[int, Movie]
    draft: PostDraft
    candidate_ids: tuple[int, ...]

    @property
    def ok(self) -> bool:
        """True when there is a publishable post."""
        return self.post is not None

    @property
    def failure(self) -> dict[str, Any] | None:
        """Why there is no post (None when there is one)."""
        if self.post is not None:
            return None
        return {
            "post_id": self.post_id,
            "theme": self.theme,
            "problems": list(self.draft.problems),
            "attempts": self.draft.attempts,
            "model": self.draft.model,
            "candidates": [
                {"id": i, "title": self.movies[i].title}
                for i in self.candidate_ids
                if i in self.movies
            ],
        }

    def stats(self) -> dict[str, Any]:
        """How the post was made: model, calls, rewrites, similarity, seconds."""
        d = self.draft
        return {
            "model": d.model,
            "attempts": d.attempts,
            "review_calls": d.review_calls,
            "rewritten": d.rewritten,
            "synopsis_reviews": d.synopsis_reviews,
            "template_lines": d.template_lines,
            "similarity_before": d.similarity_before,
            "similarity_after": d.similarity_after,
            "seconds": round(d.elapsed_s, 2),
        }


def _check_request(theme: str, n: int, language: str | None) -> tuple[str, str]:
    theme = " ".join(theme.split())
    if not re.search(THEME_WORD, theme):
        raise ValidationError("Give a theme for the post, e.g. 'rainy day' or '비 오는 날'.")
    if len(theme) > MAX_THEME_CHARS:
        raise ValidationError(f"The theme is too long; keep it under {MAX_THEME_CHARS} characters.")
    if not 1 <= n <= MAX_POST_MOVIES:
        raise ValidationError(f"A post has 1 to {MAX_POST_MOVIES} movies; {n} was asked for.")
    if language not in (None, "", "en", "ko"):
        raise ValidationError(f"Language {language!r} is not supported; use en or ko.")
    return theme, language or detect_language(theme)


# Prior ----------------------------------------------------------------------------------------


def mean_ratings(platform: Platform, shrinkage: float = 20.0) -> dict[int, float]:
    """Each movie's mean rating shrunk towards the global mean (``shrinkage`` pseudo-ratings),
    from the platform's MovieLens ratings; empty when they cannot be read (loaded once, kept in
    ``platform.state.rating_prior``)."""
    prior = platform.state.rating_prior
    with prior.lock:
        if prior.means is not None:
            return prior.means
        from cinerec.services.ingest import data_dir_for

        try:
            frame = load_ratings(data_dir_for(platform), platform.settings.dataset).frame
        except (CinerecError, OSError) as exc:
            log.warning("no quality prior for posts (%s); using popularity only", exc)
            means: dict[int, float] = {}
        else:
            overall = float(frame["rating"].mean())
            grouped = frame.groupby("item_id")["rating"].agg(["sum", "count"])
            shrunk = (grouped["sum"] + shrinkage * overall) / (grouped["count"] + shrinkage)
            means = {int(k): float(v) for k, v in shrunk.items()}
        prior.means = means
        return means


def _popularity(platform: Platform, ids: Sequence[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    with platform.session() as session:
        for chunk in chunks(list(ids)):
            rows = session.execute(
                select(MovieRow.id, MovieRow.popularity).where(MovieRow.id.in_(chunk))
            )
            found.update({int(i): int(p or 0) for i, p in rows})
    return found


def _minmax(values: Mapping[int, float]) -> dict[int, float]:
    if not values:
        return {}
    low, high = min(values.values()), max(values.values())
    span = high - low
    return {k: (v - low) / span if span > 0 else 0.5 for k, v in values.items()}


def theme_candidates(
    platform: Platform,
    theme: str,
    *,
    config: ThemeConfig | None = None,
    embedder: Embedder | None = None,
    highlights: HighlightSource | None = None,
) -> list[PostCandidate]:
    """The best ``config.shown`` movies for a theme, blending fit with a popularity/quality prior.

    Raises:
        DataError: the catalog is empty or cannot be read.
    """
    config = config or ThemeConfig()
    hits = taste_query_candidates(platform, theme, n=config.pool, embedder=embedder)
    if not hits:
        return []
    ids = [h.movie_id for h in hits]
    with platform.session() as session:
        movies = repo.get_movies(session, ids=ids)
    popularity = _popularity(platform, ids)
    ratings = mean_ratings(platform, config.rating_shrinkage)
    fit = _minmax({h.movie_id: h.score for h in hits if h.movie_id in movies})
    known = _minmax({i: math.log1p(popularity.get(i, 0)) for i in fit})
    liked = _minmax({i: ratings[i] for i in fit if i in ratings})
    scored: list[tuple[float, int]] = []
    for movie_id, f in fit.items():
        prior = 0.5 * known[movie_id] + 0.5 * liked.get(movie_id, 0.0) if liked else known[movie_id]
        scored.append(((1 - config.prior_weight) * f + config.prior_weight * prior, movie_id))
    scored.sort(key=lambda pair: (-pair[0], pair[1]))

    def keep(movie_id: int) -> bool:
        movie = movies[movie_id]
        return popularity.get(movie_id, 0) >= config.min_ratings and bool(movie.overview.strip())

    scored = [pair for pair in scored if keep(pair[1])] + [
        pair for pair in scored if not keep(pair[1])
    ]
    shown = scored[: config.shown]
    source = highlights or reviews.highlight_source(platform, [i for _, i in shown])
    return [PostCandidate(movies[i], round(s, 4), tuple(source(movies[i]))[:3]) for s, i in shown]


# The flow -------------------------------------------------------------------------------------


def make_post(
    platform: Platform,
    theme: str,
    *,
    n: int = 5,
    language: str | None = None,
    config: PostConfig | None = None,
    theme_config: ThemeConfig | None = None,
    embedder: Embedder | None = None,
    highlights: HighlightSource | None = None,
) -> PostOutcome:
    """Write a post of ``n`` movies for ``theme`` with the platform's language model.

    Args:
        platform: Database, settings and the language model.
        theme: Free text in English or Korean ("rainy day", "비 오는 날").
        n: Movies in the post (1-10).
        language: ``en`` or ``ko`` for the caption and one-liners; None: the theme's language.
        config: Retry and distinctness policy (default: timeouts from the settings).
        theme_config: How candidates are chosen.
        embedder: Overrides the configured embedder (tests pass a fake).
        highlights: Review highlights per movie (default: the stored review summaries' quotes);
            a movie without any is grounded on its synopsis alone.

    Returns:
        A :class:`PostOutcome`; ``ok`` is False when the model could not make a valid post.

    Raises:
        ValidationError: an empty or over-long theme, ``n`` out of range, unknown language.
        DataError: the catalog is empty.
    """
    theme, language = _check_request(theme, n, language)
    candidates = theme_candidates(
        platform, theme, config=theme_config, embedder=embedder, highlights=highlights
    )
    config = config or PostConfig(timeout_s=platform.settings.llm_timeout_s)
    draft = write_post(platform.llm, theme, candidates, n=n, language=language, config=config)
    movies = {c.movie.movie_id: c.movie for c in candidates}
    candidate_ids = tuple(movies)
    post = draft.post
    if post is not None:
        with platform.session() as session:
            catalog = repo.get_movies(session, ids=[m.id for m in post.movies])
        wrong = [m.id for m in post.movies if m.id not in catalog or catalog[m.id].title != m.title]
        if wrong:  # cannot happen unless the catalog changed mid-request: never publish it
            problems = (*draft.problems, f"titles of {wrong} are not the catalog's")
            draft = PostDraft(None, problems, draft.model, attempts=draft.attempts)
            post = None
        else:
            movies.update(catalog)
    return PostOutcome(
        post_id=secrets.token_hex(6),
        theme=theme,
        language=language,
        post=post,
        movies=movies,
        draft=draft,
        candidate_ids=candidate_ids,
    )


# Cards and files -----------------------------------------------------------------------------


def find_poster(poster_dir: Path | None, movie: Movie) -> Path | None:
    """``<poster_dir>/<movie id>.jpg`` (or .jpeg/.png/.webp) when it exists."""
    if poster_dir is None:
        return None
    for suffix in POSTER_SUFFIXES:
        path = poster_dir / f"{movie.movie_id}{suffix}"
        if path.is_file():
            return path
    return None


def card_contents(outcome: PostOutcome) -> list[CardContent]:
    """One card's texts per movie of a valid post (genres in the post's language)."""
    if outcome.post is None:
        return []
    cards = []
    for item in outcome.post.movies:
        movie = outcome.movies[item.id]
        genres = [g for g in movie.genres if g in GENRES_KO][:3]
        if outcome.language == "ko":
            genres = [GENRES_KO[g] for g in genres]
        cards.append(CardContent(item.title, movie.year, tuple(genres), item.one_line_review))
    return cards


def render_cards(outcome: PostOutcome, *, poster_dir: Path | None = None) -> list[bytes]:
    """PNG bytes of every card of a valid post, in post order (none for a failed one)."""
    if outcome.post is None:
        return []
    contents = card_contents(outcome)
    posters = [find_poster(poster_dir, outcome.movies[m.id]) for m in outcome.post.movies]
    return [
        card_png(content, poster=poster, index=(k, len(contents)))
        for k, (content, poster) in enumerate(zip(contents, posters, strict=True), 1)
    ]


def save_post(outcome: PostOutcome, out_dir: Path, *, poster_dir: Path | None = None) -> list[Path]:
    """Write ``<post_id>.json`` and ``<post_id>-<k>.png`` cards; for a failed post only
    ``<post_id>.failure.json``. Returns the written paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if outcome.post is None:
        path = out_dir / f"{outcome.post_id}.failure.json"
        path.write_text(json.dumps(outcome.failure, ensure_ascii=False, indent=2) + "\n", "utf-8")
        return [path]
    written = [out_dir / f"{outcome.post_id}.json"]
    written[0].write_text(
        json.dumps(outcome.post.model_dump(), ensure_ascii=False, indent=2) + "\n", "utf-8"
    )
    for k, png in enumerate(render_cards(outcome, poster_dir=poster_dir), 1):
        path = out_dir / f"{outcome.post_id}-{k}.png"
        path.write_bytes(png)
        written.append(path)
    return written


# Stored posts --------------------------------------------------------------------------------

_DRAFT_FIELDS = (
    "model",
    "attempts",
    "review_calls",
    "rewritten",
    "synopsis_reviews",
    "template_lines",
    "similarity_before",
    "similarity_after",
    "elapsed_s",
)
"""What a stored post keeps of its :class:`PostDraft`, besides ``problems`` and ``notes`` (the
raw model replies and repairs are for measuring the model and are not kept)."""


def store_post(platform: Platform, outcome: PostOutcome, *, user_id: int | None = None) -> None:
    """Keep a post (or a failed post's report) in the database under ``outcome.post_id``.

    Raises:
        NotFoundError: ``user_id`` is given and does not exist.
    """
    draft = outcome.draft
    record: dict[str, Any] = {name: getattr(draft, name) for name in _DRAFT_FIELDS}
    record["problems"] = list(draft.problems)
    record["notes"] = list(draft.notes)
    with platform.session() as session:
        post_db.save_post(
            session,
            post_id=outcome.post_id,
            user_id=user_id,
            theme=outcome.theme,
            language=outcome.language,
            post=outcome.post.model_dump() if outcome.post is not None else None,
            draft=record,
            candidate_ids=outcome.candidate_ids,
        )


def stored_post(platform: Platform, post_id: str) -> PostOutcome:
    """A post stored by :func:`store_post`, with its movies re-read from the catalog.

    Raises:
        NotFoundError: there is no such post.
    """
    with platform.session() as session:
        record = post_db.get_post(session, post_id=post_id)
        if record is None:
            raise NotFoundError("There is no such post; write it again.")
        post = Post.model_validate(record.post) if record.post is not None else None
        ids = [*record.candidate_ids, *(m.id for m in post.movies)] if post else []
        ids = ids or list(record.candidate_ids)
        movies = repo.get_movies(session, ids=list(dict.fromkeys(ids)))
    if post is not None and any(m.id not in movies for m in post.movies):
        raise NotFoundError("A movie of this post left the catalog; write the post again.")
    saved = record.draft
    draft = PostDraft(
        post,
        tuple(str(p) for p in saved.get("problems", ())),
        str(saved.get("model", "")),
        **{name: saved[name] for name in _DRAFT_FIELDS[1:] if name in saved},
        notes=tuple(str(n) for n in saved.get("notes", ())),
    )
    return PostOutcome(
        post_id=record.id,
        theme=record.theme,
        language=record.language,
        post=post,
        movies=movies,
        draft=draft,
        candidate_ids=tuple(i for i in record.candidate_ids if i in movies),
    )


def post_card(platform: Platform, post_id: str, k: int) -> bytes:
    """Card ``k`` (1-based) of a stored post as PNG bytes, rendered once per post and kept in
    ``platform.state.post_cards`` (the newest posts' cards).

    Raises:
        NotFoundError: no such post, or it has no card ``k``.
    """
    cache = platform.state.post_cards
    cards = cache.get(post_id)
    if cards is None:
        cards = render_cards(stored_post(platform, post_id))
        cache.put(post_id, cards)
    if not 1 <= k <= len(cards):
        raise NotFoundError(f"This post has no card {k}.")
    return cards[k - 1]
