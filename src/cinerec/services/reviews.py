"""Review intelligence in the platform: per-movie aspect summaries built, stored and served.

IMDB reviews carry the IMDb id of their movie, which the catalog has from MovieLens'
``links.csv``; every catalog movie with at least ``min_reviews`` reviews gets a summary:

* how many reviews and how many of them positive (the reviewers' own verdict: IMDB labels a
  review positive at 7-10 stars, negative at 1-4);
* per aspect (story, acting, directing, visuals, music, pacing, ending, emotion; see
  ``docs/aspect-guideline.md``): how many reviews discuss it (the aspect classifier), how
  positively (the sentiment model on the sentences with the aspect's cues), and one or two
  quoted sentences with the words that carry their sentiment as highlight spans (masking).

Summaries are stored in the database (:mod:`cinerec.db.review_summaries`) and used by the movie
page and the recommendation cards, the reasons prompt (:func:`review_note`), the chat's facts
and retrieval, and the posts' one-liners (:func:`highlight_source`). The build trains the two
review models first when they are missing (``cinerec reviews train imdb|aspects`` does the same
on its own) and runs at server start in the background when the table is empty.

Example::

    report = build_review_summaries(platform, data_dir=data_dir)
    with platform.session() as session:
        summary = get_review_summaries(session, movie_ids=[4226])[4226]
    review_note(summary)  # 'IMDb reviewers (30 reviews, 90% positive): praise the story ...'
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from tqdm import tqdm

from cinerec.data.descriptions import build_description
from cinerec.data.types import Movie
from cinerec.db.movies import chunks, movie_from_row
from cinerec.db.review_summaries import (
    AspectRecord,
    ReviewQuote,
    ReviewSummary,
    count_review_summaries,
    get_review_summaries,
    replace_review_summaries,
)
from cinerec.db.tables import MovieRow
from cinerec.errors import CinerecError, DataError
from cinerec.services.background import lower_thread_priority
from cinerec.services.platform import Platform

if TYPE_CHECKING:  # the review models load scikit-learn: only when a build runs
    from cinerec.llm.backends.cancel import CancelToken
    from cinerec.reviews.aspects.classifier import AspectClassifier
    from cinerec.reviews.sentiment.tfidf import TfidfSentimentModel

log = logging.getLogger(__name__)

SOURCE = "imdb"
PRAISE, CRITICISE = 0.6, 0.4
"""An aspect is praised at >= 60 % positive reviews, criticised at <= 40 %, else mixed."""
NOTE_QUOTE_CHARS = 110


@dataclass(frozen=True, slots=True)
class ReviewBuildConfig:
    """What a summary build reads and keeps.

    Attributes:
        min_reviews: Movies with fewer reviews get no summary.
        max_reviews: Reviews read per movie (IMDB keeps at most 30 per movie and split).
        min_mentions: Reviews that must discuss an aspect before it is summarised.
        n_quotes: Quotes kept per aspect.
        max_aspects: Aspects kept per movie, most discussed first.
    """

    min_reviews: int = 3
    max_reviews: int = 40
    min_mentions: int = 2
    n_quotes: int = 2
    max_aspects: int = 5


@dataclass(frozen=True, slots=True)
class ReviewBuildReport:
    """What a build did: movies summarised, reviews read, models trained first, seconds."""

    movies: int
    reviews: int
    trained: tuple[str, ...]
    seconds: float


def _models(
    data_dir: Path, home: Path
) -> tuple[TfidfSentimentModel, AspectClassifier, tuple[str, ...]]:
    """The sentiment and aspect models, trained first when missing."""
    from cinerec.reviews.aspects.classifier import AspectClassifier
    from cinerec.reviews.sentiment.tfidf import TfidfSentimentModel
    from cinerec.reviews.workflow import ReviewPaths, train_task

    paths = ReviewPaths(home)
    trained = []
    for task in ("imdb", "aspects"):
        if not paths.model(task).exists():
            log.info("training the %s review model (first build)", task)
            train_task(task, data_dir=data_dir, home=home)
            trained.append(task)
    sentiment = TfidfSentimentModel.load(paths.model("imdb"))
    aspects = AspectClassifier.load(paths.model("aspects"))
    return sentiment, aspects, tuple(trained)


def _catalog_by_imdb(platform: Platform) -> dict[int, int]:
    with platform.session() as session:
        rows = session.execute(
            select(MovieRow.id, MovieRow.imdb_id).where(MovieRow.imdb_id.is_not(None))
        )
        out: dict[int, int] = {}
        for movie_id, imdb_id in rows:
            try:
                out[int(str(imdb_id).strip())] = int(movie_id)
            except ValueError:
                continue
        return out


def summarize(
    movie_id: int,
    texts: Sequence[str],
    labels: Sequence[int],
    *,
    sentiment: TfidfSentimentModel,
    aspects: AspectClassifier,
    config: ReviewBuildConfig = ReviewBuildConfig(),
) -> ReviewSummary | None:
    """One movie's summary from its reviews and their positive (1) / negative (0) labels;
    None when it has fewer than ``config.min_reviews`` reviews."""
    from cinerec.reviews.aspects.summary import summarize_movie

    texts = list(texts)[: config.max_reviews]
    labels = list(labels)[: len(texts)]
    if len(texts) < config.min_reviews:
        return None
    found = summarize_movie(
        texts,
        aspect_model=aspects,
        sentiment=sentiment,
        n_quotes=config.n_quotes,
        min_mentions=config.min_mentions,
    )
    records = tuple(
        AspectRecord(
            aspect=s.aspect,
            mentions=s.mentions,
            positive_share=round(s.positive_share, 4),
            quotes=tuple(
                ReviewQuote(
                    q.text, q.p_positive >= 0.5, tuple((h.start, h.end) for h in q.highlights)
                )
                for q in s.quotes
            ),
        )
        for s in found[: config.max_aspects]
    )
    return ReviewSummary(
        movie_id=int(movie_id),
        n_reviews=len(texts),
        positive_share=round(float(np.mean(labels)), 4),
        aspects=records,
    )


def _grouped(frame: pd.DataFrame, by_imdb: Mapping[int, int]) -> Iterator[tuple[int, pd.DataFrame]]:
    frame = frame[frame["imdb_id"].isin(list(by_imdb))]
    for imdb_id, part in frame.groupby("imdb_id", sort=True):
        yield by_imdb[int(imdb_id)], part.sort_values("review_id")


MODEL_NAME = "tfidf-nb-lr+aspect-tfidf-lr"
"""The models a stored summary was built with (the sentiment and the aspect classifier)."""


@dataclass(frozen=True, slots=True)
class ReviewWork:
    """What a summary build summarises: each movie's reviews, and the two models to read them.

    Attributes:
        groups: (movie id, review texts, positive labels) per catalog movie with reviews.
        sentiment: The review sentiment model.
        aspects: The aspect classifier.
        trained: Review models trained first because they were missing.
    """

    groups: list[tuple[int, list[str], list[int]]]
    sentiment: TfidfSentimentModel
    aspects: AspectClassifier
    trained: tuple[str, ...]


def review_work(platform: Platform, *, data_dir: Path, limit: int | None = None) -> ReviewWork:
    """Every catalog movie's IMDB reviews and the review models (trained first when missing).

    Raises:
        DataError: the catalog is empty or has no IMDb ids, or the IMDB archive is missing.
    """
    from cinerec.data.reviews import load_imdb

    by_imdb = _catalog_by_imdb(platform)
    if not by_imdb:
        raise DataError("The catalog has no IMDb ids; run `cinerec ingest` first.")
    frame = load_imdb(data_dir)
    sentiment, aspects, trained = _models(data_dir, platform.settings.home)
    groups = [
        (movie_id, part["text"].tolist(), part["label"].astype(int).tolist())
        for movie_id, part in _grouped(frame, by_imdb)
    ]
    if limit is not None:
        groups = groups[:limit]
    return ReviewWork(groups, sentiment, aspects, trained)


def store_review_summaries(platform: Platform, summaries: Sequence[ReviewSummary]) -> None:
    """Replace the stored summaries with these and add their aspect lines to the descriptions."""
    with platform.session() as session:
        replace_review_summaries(session, summaries=summaries, source=SOURCE, model=MODEL_NAME)
        _describe(session, {s.movie_id: s for s in summaries})


def build_review_summaries(
    platform: Platform,
    *,
    data_dir: Path,
    config: ReviewBuildConfig = ReviewBuildConfig(),
    progress: bool = False,
    limit: int | None = None,
    cancel: CancelToken | None = None,
) -> ReviewBuildReport:
    """Summarise the reviews of every catalog movie that has enough, and store the summaries.

    In this process; ``cinerec batch reviews`` runs the same summaries as a Ray job
    (:mod:`cinerec.batch`).

    Args:
        platform: Its catalog must be ingested (IMDb ids come from it).
        data_dir: Where the IMDB archive is.
        config: Thresholds and sizes.
        progress: Show a progress bar.
        limit: Summarise at most this many movies (a quick look or a test).
        cancel: Checked before each movie; once cancelled, nothing is stored (the summaries
            stored before stay as they were).

    Raises:
        DataError: the catalog is empty or has no IMDb ids, or the IMDB archive is missing.
        Cancelled: ``cancel`` was cancelled.
    """
    start = time.perf_counter()
    work = review_work(platform, data_dir=data_dir, limit=limit)
    summaries: list[ReviewSummary] = []
    for movie_id, texts, labels in tqdm(
        work.groups, desc="review summaries", unit="movie", disable=not progress
    ):
        if cancel is not None:
            cancel.check("The review summaries")
        summary = summarize(
            movie_id, texts, labels, sentiment=work.sentiment, aspects=work.aspects, config=config
        )
        if summary is not None:
            summaries.append(summary)
    store_review_summaries(platform, summaries)
    n_reviews = sum(s.n_reviews for s in summaries)
    return ReviewBuildReport(len(summaries), n_reviews, work.trained, time.perf_counter() - start)


def _describe(session: Session, summaries: Mapping[int, ReviewSummary]) -> None:
    """Add each summary's :func:`aspect_line` to its movie's stored description, so embeddings
    (recomputed for changed descriptions only) and search read what reviewers say."""
    for chunk in chunks(list(summaries)):
        for row in session.scalars(select(MovieRow).where(MovieRow.id.in_(chunk))):
            movie = movie_from_row(row)
            row.description = build_description(movie, reviews=aspect_line(summaries[row.id]))


# Reading -------------------------------------------------------------------------------------


def summaries_for(platform: Platform, movie_ids: Sequence[int]) -> dict[int, ReviewSummary]:
    """Stored summaries of these movies (movies without one are left out)."""
    with platform.session() as session:
        return get_review_summaries(session, movie_ids=movie_ids)


def verdict(share: float) -> str:
    """``praised``, ``criticised`` or ``mixed`` for a positive share."""
    return "praised" if share >= PRAISE else "criticised" if share <= CRITICISE else "mixed"


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:") + "..."


def _verdicts(summary: ReviewSummary, max_aspects: int) -> str:
    """``praise the acting and story; criticise the pacing`` for the first aspects."""
    groups: dict[str, list[str]] = {"praised": [], "criticised": [], "mixed": []}
    for aspect in summary.aspects[:max_aspects]:
        groups[verdict(aspect.positive_share)].append(aspect.aspect)
    words = {"praised": "praise the", "criticised": "criticise the", "mixed": "are mixed on the"}
    return "; ".join(f"{words[k]} {' and '.join(v)}" for k, v in groups.items() if v)


def review_note(summary: ReviewSummary, *, quote: bool = True, max_aspects: int = 3) -> str:
    """One line for a prompt: the reviewers' verdict, their praised / criticised aspects, and
    (``quote``) the first quote of the most discussed aspect.

    Example:
        >>> s = ReviewSummary(1, 20, 0.85, (AspectRecord("acting", 9, 0.9),
        ...     AspectRecord("pacing", 4, 0.25)))
        >>> review_note(s)
        'IMDb reviewers (20 reviews, 85% positive): praise the acting; criticise the pacing'
    """
    verdicts = _verdicts(summary, max_aspects)
    line = f"IMDb reviewers ({summary.n_reviews} reviews, {summary.positive_share:.0%} positive)"
    line += f": {verdicts}" if verdicts else ""
    quotes = [q for a in summary.aspects[:1] for q in a.quotes[:1]]
    if quote and quotes:
        line += f'; one wrote "{_cut(quotes[0].text, NOTE_QUOTE_CHARS)}"'
    return line


def aspect_line(summary: ReviewSummary, *, max_aspects: int = 3) -> str:
    """The verdicts of a summary as one sentence, without numbers (for descriptions and search).

    Example:
        >>> aspect_line(ReviewSummary(1, 20, 0.85, (AspectRecord("acting", 9, 0.9),
        ...     AspectRecord("story", 5, 0.7), AspectRecord("pacing", 4, 0.25))))
        'Reviewers praise the acting and story; criticise the pacing.'
    """
    verdicts = _verdicts(summary, max_aspects)
    return f"Reviewers {verdicts}." if verdicts else ""


def review_notes(platform: Platform) -> Callable[[Sequence[int]], dict[int, str]]:
    """A note source for the chat's facts: movie ids -> :func:`review_note` lines."""

    def notes(movie_ids: Sequence[int]) -> dict[int, str]:
        try:
            found = summaries_for(platform, movie_ids)
        except (CinerecError, SQLAlchemyError) as exc:  # no table yet, or a database hiccup
            log.warning("review notes unavailable: %s", exc)
            return {}
        return {i: review_note(s, quote=False) for i, s in found.items()}

    return notes


def quotes_of(summary: ReviewSummary | None, n: int = 2) -> tuple[str, ...]:
    """The first quote of each of the ``n`` most discussed aspects (none without a summary)."""
    if summary is None:
        return ()
    return tuple(q.text for a in summary.aspects for q in a.quotes[:1])[:n]


def highlight_source(
    platform: Platform, movie_ids: Sequence[int]
) -> Callable[[Movie], Sequence[str]]:
    """A highlight source for posts (a movie -> its review quotes), read once for these ids."""
    stored = summaries_for(platform, movie_ids)

    def highlights(movie: Movie) -> Sequence[str]:
        return quotes_of(stored.get(movie.movie_id))

    return highlights


# Background build ----------------------------------------------------------------------------


def start_review_build(platform: Platform, *, data_dir: Path | None = None) -> bool:
    """Build the review summaries on a daemon thread when none are stored and the IMDB reviews
    are at hand (call it at server start). False when there is nothing to do."""
    from cinerec.data.paths import resolve_data_dir
    from cinerec.data.reviews import IMDB_ARCHIVE

    try:
        directory = data_dir or resolve_data_dir(
            platform.settings.data_dir, cache_dir=platform.settings.cache_dir
        )
        with platform.session() as session:
            stored = count_review_summaries(session)
    except (CinerecError, SQLAlchemyError) as exc:  # no data directory; no table yet
        log.info("review summaries not built: %s", exc)
        return False
    if stored or not (directory / IMDB_ARCHIVE).is_file():
        return False
    if not platform.state.review_build.start():
        return False

    def build() -> None:
        lower_thread_priority()  # the pages' model calls come first on a small machine
        try:
            report = build_review_summaries(platform, data_dir=directory)
            log.info("review summaries: %d movies from %d reviews in %.0f s",
                     report.movies, report.reviews, report.seconds)  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - cards simply show no review summary
            log.warning("review summaries not built: %s", exc)
        finally:
            platform.state.review_build.finish()

    threading.Thread(target=build, name="cinerec-reviews", daemon=True).start()
    return True
