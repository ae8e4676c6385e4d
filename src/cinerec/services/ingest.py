"""First-run work: load the data sets into the database and train the default recommender."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from cinerec.data.catalog import catalog_texts, load_catalog
from cinerec.data.movielens import load_ratings
from cinerec.data.paths import resolve_data_dir
from cinerec.db import repository as repo
from cinerec.errors import CinerecError
from cinerec.recommenders.artifacts import META_FILE, ArtifactInfo, train_artifact
from cinerec.recommenders.base import TrainingOptions
from cinerec.services.background import lower_thread_priority
from cinerec.services.platform import FALLBACK_RECOMMENDER, Platform

log = logging.getLogger(__name__)

SLOW_RECOMMENDERS = frozenset({"sasrec", "blend"})
"""Minutes to train on 2 cores: a first start serves the fallback while they train."""
_TRAINING: set[Platform] = set()
_TRAINING_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What an ingest did."""

    data_dir: Path
    movies: int
    ratings: int
    seconds: float


def data_dir_for(platform: Platform, *, download: bool = False) -> Path:
    """The data directory in the documented order, downloading MovieLens when asked."""
    settings = platform.settings
    if download:
        from cinerec.data.download import download_dataset

        download_dataset(settings.dataset, cache_dir=settings.cache_dir)
    return resolve_data_dir(settings.data_dir, cache_dir=settings.cache_dir)


def ingest(platform: Platform, *, download: bool = False, progress: bool = True) -> IngestReport:
    """Migrate the database and load the catalog with popularity counts (idempotent)."""
    start = time.perf_counter()
    steps = tqdm(total=4, desc="ingest", unit="step", disable=not progress)
    with steps:
        steps.set_postfix_str("data directory")
        data_dir = data_dir_for(platform, download=download)
        platform.migrate()
        steps.update()
        steps.set_postfix_str("catalog (MovieLens + TMDB + keywords)")
        catalog = load_catalog(data_dir, platform.settings.dataset)
        steps.update()
        steps.set_postfix_str("ratings")
        ratings = load_ratings(data_dir, platform.settings.dataset)
        popularity = ratings.frame["item_id"].value_counts().to_dict()
        steps.update()
        steps.set_postfix_str(f"{len(catalog):,} movies into the database")
        with platform.session() as session:
            n = repo.upsert_movies(
                session,
                movies=catalog,
                popularity={int(k): int(v) for k, v in popularity.items()},
            )
        steps.update()
    return IngestReport(data_dir, n, len(ratings), time.perf_counter() - start)


def train(
    platform: Platform, *, name: str | None = None, progress: bool = True, threads: int = 2
) -> ArtifactInfo:
    """Train the configured (or named) recommender on all ratings and store the artifact.

    Training the configured recommender also makes the platform serve it at once.
    """
    settings = platform.settings
    name = name or settings.recommender
    data_dir = data_dir_for(platform)
    interactions = load_ratings(data_dir, settings.dataset)
    model, info = train_artifact(
        name,
        interactions,
        platform.artifact_dir(name),
        options=TrainingOptions(seed=settings.seed, threads=threads, progress=progress),
        extra={"dataset": settings.dataset},
        item_texts=lambda: catalog_texts(data_dir, settings.dataset),
    )
    if name == settings.recommender:
        platform.set_recommender(model, info)
    return info


def _trained(platform: Platform, name: str | None = None) -> bool:
    return (platform.artifact_dir(name) / META_FILE).exists()


def ensure_ready(platform: Platform, *, progress: bool = True) -> None:
    """Ingest and train on first run; do nothing when both are already done.

    A recommender in :data:`SLOW_RECOMMENDERS` (minutes to train) is not trained here: the
    quick :data:`~cinerec.services.platform.FALLBACK_RECOMMENDER` is (seconds), so the server
    can serve at once, and :func:`start_background_training` trains the configured one.
    """
    platform.migrate()
    with platform.session() as session:
        empty = repo.count_movies(session) == 0
    if empty:
        log.info("First run: loading the catalog into the database")
        ingest(platform, progress=progress)
    name = platform.settings.recommender
    if _trained(platform):
        return
    if name not in SLOW_RECOMMENDERS:
        log.info("First run: training the %s recommender", name)
        train(platform, progress=progress)
        return
    if not _trained(platform, FALLBACK_RECOMMENDER):
        log.info("First run: training %s to serve while %s trains", FALLBACK_RECOMMENDER, name)
        train(platform, name=FALLBACK_RECOMMENDER, progress=progress)
    platform.recommender  # noqa: B018 - loads the stand-in now, not on the first request


def start_background_training(
    platform: Platform, *, progress: bool = True, threads: int = 1
) -> threading.Thread | None:
    """Train the configured recommender in a daemon thread while a stand-in serves.

    Does nothing (returns None) unless the platform is serving the fallback model, e.g. after
    :func:`ensure_ready` on a first start with a slow recommender; at most one training runs
    per platform. When training ends the new model is swapped in with
    :meth:`Platform.set_recommender`; a failure is logged and the stand-in keeps serving.
    ``threads=1`` leaves a core to the web server and the language model.

    Example (in the web app's lifespan, after ``ensure_ready``):
        >>> start_background_training(platform)  # doctest: +SKIP
    """
    try:
        platform.recommender  # noqa: B018 - resolves which model serves
    except CinerecError:
        return None
    if not platform.serving_fallback:
        return None
    with _TRAINING_LOCK:
        if platform in _TRAINING:
            return None
        _TRAINING.add(platform)
    name = platform.settings.recommender

    def run() -> None:
        lower_thread_priority()  # ALS serves meanwhile; the page's model calls come first
        started = time.perf_counter()
        try:
            info = train(platform, progress=progress, threads=threads)
            log.info("%s trained in the background in %.0f s; now serving %s",
                     name, time.perf_counter() - started, info.version)  # fmt: skip
        except Exception:  # a background job must not crash the server
            log.exception("training %s in the background failed; %s keeps serving",
                          name, FALLBACK_RECOMMENDER)  # fmt: skip
        finally:
            with _TRAINING_LOCK:
                _TRAINING.discard(platform)

    thread = threading.Thread(target=run, name=f"cinerec-train-{name}", daemon=True)
    thread.start()
    return thread
