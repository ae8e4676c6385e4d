"""The batch jobs: each shards its input, maps a module-level function over the shards on Ray
(:func:`~cinerec.batch.cluster.map_shards`) and stores the result where the in-process code
stores it, so the web reads a batch job's output exactly as it reads its own.

- :func:`review_summaries` — per-movie aspect summaries of the IMDB reviews (the same
  :func:`cinerec.services.reviews.summarize` as ``cinerec reviews summarize``), stored in the
  database.
- :func:`review_scores` — the sentiment model's positive probability for every review, saved
  to ``<home>/batch/review-scores.npz`` with its accuracy on the held-out IMDB test split.
- :func:`catalog_embeddings` — the description vectors of every catalog movie not cached yet,
  written to the embedding cache the web's index reads.
- :func:`evaluation_grid` — one recommender fitted and scored per configuration
  (:func:`cinerec.evaluation.tuning.grid_search` on one configuration per task).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cinerec.batch.cluster import ClusterConfig, map_shards, ray_cluster, split
from cinerec.errors import ConfigError

if TYPE_CHECKING:
    from cinerec.db.review_summaries import ReviewSummary
    from cinerec.evaluation.harness import HarnessOptions
    from cinerec.evaluation.protocols import EvaluationTask
    from cinerec.evaluation.tuning import Trial
    from cinerec.services.platform import Platform
    from cinerec.services.reviews import ReviewBuildConfig

Progress = Callable[[int, int], None]
"""Called in the driver with (shards done, shards) as shards finish."""


@dataclass(frozen=True)
class BatchReport:
    """What a batch job did.

    Attributes:
        job: The job's name.
        items: Inputs read (movies, reviews, texts, configurations).
        outputs: Results stored (summaries, scores, vectors, trials).
        shards: Ray tasks run.
        where: The cluster, in words (:meth:`ClusterConfig.describe`).
        map_seconds: Seconds from the first task submitted to the last result (the Ray part;
            starting a local cluster is not counted, the workers' first imports are).
        seconds: Seconds for the whole job (reading inputs and storing included).
        details: Job-specific figures (e.g. an accuracy).
    """

    job: str
    items: int
    outputs: int
    shards: int
    where: str
    map_seconds: float
    seconds: float
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def items_per_second(self) -> float:
        """Throughput of the Ray part."""
        return self.items / self.map_seconds if self.map_seconds > 0 else 0.0


def _progress(total: int, progress: Progress | None) -> Callable[[int, Any], None] | None:
    if progress is None:
        return None
    done = [0]

    def step(_index: int, _result: Any) -> None:
        done[0] += 1
        progress(done[0], total)

    return step


def _timed_map(
    fn: Callable[..., Any],
    shards: Sequence[Any],
    cluster: ClusterConfig,
    shared: Mapping[str, Any],
    progress: Progress | None,
) -> tuple[list[Any], float]:
    """The map's results and its seconds (starting a local cluster is not counted)."""
    if not shards:
        return [], 0.0
    with ray_cluster(cluster):
        started = time.perf_counter()
        out = map_shards(
            fn, shards, cluster, shared=shared, on_result=_progress(len(shards), progress)
        )
        return out, time.perf_counter() - started


# Review summaries ----------------------------------------------------------------------------


def summarize_shard(
    shard: Sequence[tuple[int, list[str], list[int]]],
    *,
    sentiment: Any,
    aspects: Any,
    config: ReviewBuildConfig,
) -> list[ReviewSummary]:
    """The summaries of one shard of (movie id, texts, labels); movies with too few reviews
    get none (a Ray task)."""
    from cinerec.services.reviews import summarize

    found = (
        summarize(m, texts, labels, sentiment=sentiment, aspects=aspects, config=config)
        for m, texts, labels in shard
    )
    return [s for s in found if s is not None]


def review_summaries(
    platform: Platform,
    *,
    data_dir: Path,
    cluster: ClusterConfig,
    config: ReviewBuildConfig | None = None,
    limit: int | None = None,
    shard_size: int = 20,
    store: bool = True,
    progress: Progress | None = None,
) -> BatchReport:
    """Summarise every catalog movie's reviews on the cluster and store the summaries (the
    Ray version of :func:`cinerec.services.reviews.build_review_summaries`).

    Args:
        store: Replace the stored summaries (False: compute only, e.g. to measure).

    Raises:
        DataError: no catalog, no IMDb ids, or no IMDB archive.
    """
    from cinerec.services.reviews import ReviewBuildConfig, review_work, store_review_summaries

    started = time.perf_counter()
    work = review_work(platform, data_dir=data_dir, limit=limit)
    shards = split(work.groups, shard_size)
    shared = {
        "sentiment": work.sentiment,
        "aspects": work.aspects,
        "config": config or ReviewBuildConfig(),
    }
    results, map_seconds = _timed_map(summarize_shard, shards, cluster, shared, progress)
    summaries = [s for shard in results for s in shard]
    if store:
        store_review_summaries(platform, summaries)
    return BatchReport(
        job="review-summaries",
        items=len(work.groups),
        outputs=len(summaries),
        shards=len(shards),
        where=cluster.describe(),
        map_seconds=map_seconds,
        seconds=time.perf_counter() - started,
        details={
            "reviews": sum(len(t) for _, t, _ in work.groups),
            "trained_first": list(work.trained),
            "stored": store,
        },
    )


# Review scores -------------------------------------------------------------------------------


def score_shard(texts: Sequence[str], *, sentiment: Any) -> np.ndarray:
    """The positive probability of each review of one shard (a Ray task)."""
    return np.asarray(sentiment.predict_proba(list(texts))[:, 1], dtype=np.float32)


def review_scores_path(home: Path) -> Path:
    """Where :func:`review_scores` saves its scores."""
    return home / "batch" / "review-scores.npz"


def review_scores(
    platform: Platform,
    *,
    data_dir: Path,
    cluster: ClusterConfig,
    limit: int | None = None,
    shard_size: int = 2000,
    progress: Progress | None = None,
) -> BatchReport:
    """Score every IMDB review with the sentiment model on the cluster; save review id, split,
    label and positive probability to :func:`review_scores_path`.

    ``details`` has the accuracy on the IMDB test split (the model is trained on the train
    split), with the number of test reviews.

    Args:
        limit: At most this many reviews per (split, polarity) folder (a quick look or a test).
    """
    from cinerec.data.reviews import load_imdb
    from cinerec.services.reviews import _models

    started = time.perf_counter()
    frame = load_imdb(data_dir, limit=limit)
    sentiment, _aspects, trained = _models(data_dir, platform.settings.home)
    shards = split(frame["text"].tolist(), shard_size)
    results, map_seconds = _timed_map(
        score_shard, shards, cluster, {"sentiment": sentiment}, progress
    )
    scores = np.concatenate(results) if results else np.zeros(0, np.float32)
    labels = frame["label"].to_numpy(dtype=np.int8)
    test = (frame["split"].astype(str) == "test").to_numpy(dtype=bool)
    correct = (scores >= 0.5).astype(np.int8) == labels
    path = review_scores_path(platform.settings.home)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        review_id=frame["review_id"].astype(str).to_numpy(dtype=str),
        split=frame["split"].astype(str).to_numpy(dtype=str),
        label=labels,
        p_positive=scores,
    )
    return BatchReport(
        job="review-scores",
        items=len(frame),
        outputs=len(scores),
        shards=len(shards),
        where=cluster.describe(),
        map_seconds=map_seconds,
        seconds=time.perf_counter() - started,
        details={
            "test_accuracy": round(float(correct[test].mean()), 4) if test.any() else None,
            "test_reviews": int(test.sum()),
            "path": str(path),
            "trained_first": list(trained),
        },
    )


# Catalog embeddings --------------------------------------------------------------------------


def embed_shard(texts: Sequence[str], *, embedder_name: str) -> np.ndarray:
    """Description vectors of one shard (a Ray task; each worker builds its own embedder)."""
    from cinerec.embeddings.registry import build_embedder

    return build_embedder(embedder_name).embed_passages(list(texts)).astype(np.float32)


def catalog_embeddings(
    platform: Platform,
    *,
    cluster: ClusterConfig,
    embedder: str | None = None,
    shard_size: int = 256,
    progress: Progress | None = None,
) -> BatchReport:
    """Embed the descriptions of every catalog movie that the embedding cache lacks, on the
    cluster, and add them to the cache; the web's catalog index then embeds nothing.

    Raises:
        DataError: the catalog is empty.
    """
    from cinerec.embeddings.cache import EmbeddingCache
    from cinerec.embeddings.registry import build_embedder
    from cinerec.errors import DataError
    from cinerec.services.similar import _catalog_rows, embedder_name, embedding_cache_dir

    started = time.perf_counter()
    name = embedder or embedder_name(platform.settings)
    rows = _catalog_rows(platform)
    if not rows:
        raise DataError("The catalog is empty; run `cinerec ingest` first")
    model = build_embedder(name)
    cache = EmbeddingCache(embedding_cache_dir(platform.settings))
    todo = cache.missing(model, [text for _, text, _ in rows])
    shards = split(todo, shard_size)
    results, map_seconds = _timed_map(
        embed_shard, shards, cluster, {"embedder_name": name}, progress
    )
    stored = cache.add(model, todo, np.vstack(results)) if results else 0
    return BatchReport(
        job="catalog-embeddings",
        items=len(rows),
        outputs=stored,
        shards=len(shards),
        where=cluster.describe(),
        map_seconds=map_seconds,
        seconds=time.perf_counter() - started,
        details={"embedder": model.name, "already_cached": len(rows) - len(todo)},
    )


# Evaluation grids ----------------------------------------------------------------------------


def trial_shard(
    config: Mapping[str, Any],
    *,
    task: EvaluationTask,
    name: str,
    metric: str,
    options: HarnessOptions | None,
) -> Trial:
    """Fit and score one configuration on the task's validation cases (a Ray task)."""
    from cinerec.evaluation.tuning import grid_search

    _best, trials = grid_search(task, name, [config], metric=metric, options=options)
    return trials[0]


def evaluation_grid(
    task: EvaluationTask,
    name: str,
    grid: Sequence[Mapping[str, Any]],
    *,
    cluster: ClusterConfig,
    metric: str = "ndcg@10",
    options: HarnessOptions | None = None,
    progress: Progress | None = None,
) -> tuple[Trial, list[Trial], BatchReport]:
    """:func:`~cinerec.evaluation.tuning.grid_search` with one Ray task per configuration.

    Returns:
        The best trial (ties go to the earlier one), every trial in grid order, the report.

    Raises:
        ConfigError: the grid is empty or the task has no validation cases.
    """
    if not grid:
        raise ConfigError("The grid is empty; give at least one configuration")
    if not task.validation:
        raise ConfigError(f"Protocol {task.protocol!r} has no validation cases to tune on")
    started = time.perf_counter()
    shared = {"task": task, "name": name, "metric": metric, "options": options}
    trials, map_seconds = _timed_map(trial_shard, list(grid), cluster, shared, progress)
    best = max(trials, key=lambda t: t.score)
    report = BatchReport(
        job="evaluation-grid",
        items=len(grid),
        outputs=len(trials),
        shards=len(grid),
        where=cluster.describe(),
        map_seconds=map_seconds,
        seconds=time.perf_counter() - started,
        details={"model": name, "metric": metric, "best": dict(best.config)},
    )
    return best, trials, report
