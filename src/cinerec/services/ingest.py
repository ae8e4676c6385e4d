"""First-run work: load the data sets into the database and train the default recommender.

Training publishes a new model version (:mod:`cinerec.services.versions`); web processes
load it on their next request. On a server, the slow parts run as jobs (:mod:`cinerec.jobs`):
on a ``cinerec worker`` when a broker is configured, else on a thread of the server.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from cinerec.data.catalog import catalog_texts, load_catalog
from cinerec.data.movielens import load_ratings
from cinerec.data.paths import resolve_data_dir
from cinerec.db import repository as repo
from cinerec.db.jobs import ModelVersionRecord
from cinerec.errors import CinerecError
from cinerec.llm.backends.cancel import CancelToken
from cinerec.recommenders.artifacts import META_FILE, ArtifactInfo, train_artifact
from cinerec.recommenders.base import TrainingOptions
from cinerec.services import versions
from cinerec.services.platform import FALLBACK_RECOMMENDER, Platform

log = logging.getLogger(__name__)

SLOW_RECOMMENDERS = frozenset({"sasrec", "blend"})
"""Minutes to train on 2 cores: a first start serves the fallback while they train."""
FIRST_RUN_WAIT_S = 4 * 3600.0
"""How long ``cinerec serve`` waits for a worker to do the first ingest and training."""


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


def train_version(
    platform: Platform,
    *,
    name: str | None = None,
    progress: bool = True,
    threads: int = 2,
    config: Mapping[str, object] | None = None,
    cancel: CancelToken | None = None,
) -> tuple[ArtifactInfo, ModelVersionRecord]:
    """Train the configured (or named) recommender on all ratings and publish it as a new
    version; its metadata and the version row. ``cancel``: a model with epochs checks it before
    each one and stops (Cancelled; nothing is published).

    Training the configured recommender also makes this platform serve it at once (other
    processes load it on their next request).
    """
    settings = platform.settings
    name = name or settings.recommender
    data_dir = data_dir_for(platform)
    interactions = load_ratings(data_dir, settings.dataset)
    (model, info), version = versions.publish(
        platform,
        name,
        lambda directory: train_artifact(
            name,
            interactions,
            directory,
            config=None if config is None else dict(config),
            options=TrainingOptions(
                seed=settings.seed, threads=threads, progress=progress, cancel=cancel
            ),
            extra={"dataset": settings.dataset},
            item_texts=lambda: catalog_texts(data_dir, settings.dataset),
        ),
    )
    if name == settings.recommender:
        platform.set_recommender(model, info, version=version.version)
    return info, version


def train(
    platform: Platform, *, name: str | None = None, progress: bool = True, threads: int = 2
) -> ArtifactInfo:
    """:func:`train_version` without the version row."""
    return train_version(platform, name=name, progress=progress, threads=threads)[0]


def _trained(platform: Platform, name: str | None = None) -> bool:
    name = name or platform.settings.recommender
    if versions.newest(platform, name) is not None:
        return True
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
        _now(platform, "ingest", {}, lambda: ingest(platform, progress=progress))
    name = platform.settings.recommender
    if _trained(platform):
        return
    if name not in SLOW_RECOMMENDERS:
        log.info("First run: training the %s recommender", name)
        _now(platform, "train", {"name": name}, lambda: train(platform, progress=progress))
        return
    if not _trained(platform, FALLBACK_RECOMMENDER):
        log.info("First run: training %s to serve while %s trains", FALLBACK_RECOMMENDER, name)
        _now(platform, "train", {"name": FALLBACK_RECOMMENDER},
             lambda: train(platform, name=FALLBACK_RECOMMENDER, progress=progress))  # fmt: skip
    platform.recommender  # noqa: B018 - loads the stand-in now, not on the first request


def _now(platform: Platform, job: str, args: dict[str, object], here: Callable[[], object]) -> None:
    """Do first-run work before serving: here (with its progress bar) without a broker, else
    as a job on a worker, waited for."""
    runner = platform.jobs
    if runner.in_process:
        here()
        return
    job_id = runner.enqueue(job, args, unique=True)
    log.warning("waiting for a cinerec worker to run job %d (%s %s)", job_id, job, args)
    view = runner.wait(job_id, timeout_s=FIRST_RUN_WAIT_S, poll_s=1.0)
    if view.state != "done":
        raise CinerecError(f"First-run job {job_id} ({job}) failed: {view.job.error}")


def start_background_training(platform: Platform, *, threads: int = 1) -> int | None:
    """Enqueue the training of the configured recommender while a stand-in serves; the job id.

    Does nothing (returns None) unless the platform is serving the fallback model, e.g. after
    :func:`ensure_ready` on a first start with a slow recommender; a queued or running
    training of the same model is not enqueued twice (its id is returned). The job publishes
    a new version that every web process swaps in; a failure is stored on the job and the
    stand-in keeps serving. ``threads=1`` leaves a core to the web server and the language
    model.

    Example (in the web app's lifespan, after ``ensure_ready``):
        >>> job_id = start_background_training(platform)  # doctest: +SKIP
        >>> platform.jobs.wait(job_id, timeout_s=3600).state  # doctest: +SKIP
        'done'
    """
    try:
        platform.recommender  # noqa: B018 - resolves which model serves
    except CinerecError:
        return None
    if not platform.serving_fallback:
        return None
    name = platform.settings.recommender
    job_id = platform.jobs.enqueue("train", {"name": name, "threads": threads}, unique=True)
    log.info("training %s as job %d; %s serves meanwhile", name, job_id, FALLBACK_RECOMMENDER)
    return job_id
