"""First-run work: load the data sets into the database and train the default recommender."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from cinerec.data.catalog import load_catalog
from cinerec.data.movielens import load_ratings
from cinerec.data.paths import resolve_data_dir
from cinerec.db import repository as repo
from cinerec.recommenders.artifacts import ArtifactInfo, train_artifact
from cinerec.recommenders.base import TrainingOptions
from cinerec.services.platform import Platform

log = logging.getLogger(__name__)


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


def train(platform: Platform, *, name: str | None = None, progress: bool = True) -> ArtifactInfo:
    """Train the configured (or named) recommender on all ratings and store the artifact."""
    settings = platform.settings
    name = name or settings.recommender
    interactions = load_ratings(data_dir_for(platform), settings.dataset)
    model, info = train_artifact(
        name,
        interactions,
        platform.artifact_dir(name),
        options=TrainingOptions(seed=settings.seed, progress=progress),
        extra={"dataset": settings.dataset},
    )
    if name == settings.recommender:
        platform.set_recommender(model, info)
    return info


def ensure_ready(platform: Platform, *, progress: bool = True) -> None:
    """Ingest and train on first run; do nothing when both are already done."""
    platform.migrate()
    with platform.session() as session:
        empty = repo.count_movies(session) == 0
    if empty:
        log.info("First run: loading the catalog into the database")
        ingest(platform, progress=progress)
    if not (platform.artifact_dir() / "meta.json").exists():
        log.info("First run: training the %s recommender", platform.settings.recommender)
        train(platform, progress=progress)
