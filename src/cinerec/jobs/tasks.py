"""What each job does: ``name -> task(platform, args, cancel=token) -> JSON result``.

Arguments and results are plain JSON (they live in the ``jobs`` table). Services are imported
inside each task, so the worker and the web import only what they run. ``cancel`` is set when
the job is cancelled: the review summaries stop before the next movie, the embeddings before
the next batch, training before the next epoch (SASRec, BERT4Rec and the hybrid model; the
others train in one library call); ingest and evaluation only check it before they start.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from cinerec.errors import ValidationError

if TYPE_CHECKING:
    from cinerec.jobs.base import Task
    from cinerec.llm.backends.cancel import CancelToken
    from cinerec.services.platform import Platform


def _only(args: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise ValidationError(f"Unknown job arguments {unknown}; allowed: {sorted(allowed)}.")


def ingest_task(
    platform: Platform, args: dict[str, Any], /, *, cancel: CancelToken
) -> dict[str, Any]:
    """Load the catalog into the database (``download``: fetch MovieLens first)."""
    from cinerec.services import ingest

    _only(args, {"download"})
    cancel.check("The ingest job")
    report = ingest.ingest(platform, download=bool(args.get("download")), progress=False)
    return {"movies": report.movies, "ratings": report.ratings, "seconds": report.seconds}


def train_task(
    platform: Platform, args: dict[str, Any], /, *, cancel: CancelToken
) -> dict[str, Any]:
    """Train a recommender (``name``; default: the configured one, ``config``, ``threads``)
    and publish it as a new version."""
    from cinerec.services import ingest

    _only(args, {"name", "config", "threads"})
    cancel.check("The training job")
    info, version = ingest.train_version(
        platform, name=args.get("name"), progress=False, threads=int(args.get("threads", 1)),
        config=args.get("config"), cancel=cancel,
    )  # fmt: skip
    return {"name": info.name, "artifact": info.version, "version": version.version,
            "path": version.path, "digest": version.digest,
            "train_seconds": info.train_seconds}  # fmt: skip


def review_summaries_task(
    platform: Platform, args: dict[str, Any], /, *, cancel: CancelToken
) -> dict[str, Any]:
    """Summarise the IMDB reviews per movie into the database (``limit``: at most so many)."""
    from cinerec.data.paths import resolve_data_dir
    from cinerec.services.reviews import build_review_summaries

    _only(args, {"limit"})
    settings = platform.settings
    directory = resolve_data_dir(settings.data_dir, cache_dir=settings.cache_dir)
    report = build_review_summaries(
        platform, data_dir=directory, limit=args.get("limit"), cancel=cancel
    )
    return {"movies": report.movies, "reviews": report.reviews, "seconds": report.seconds}


def embeddings_task(
    platform: Platform, args: dict[str, Any], /, *, cancel: CancelToken
) -> dict[str, Any]:
    """Build the chat retriever and the catalog embedding index. The vectors land in the
    embedding cache on disk, so a web process that builds its index afterwards only loads
    them; in-process, this platform's index is ready at once."""
    from cinerec.services import retrieval, similar

    _only(args, set())
    cancel.check("The embeddings job")
    retrieval.catalog_retriever(platform)
    index = similar.catalog_index(platform, cancel=cancel)
    return {"movies": len(index.ids), "embedder": index.embedder.name}


def evaluate_task(
    platform: Platform, args: dict[str, Any], /, *, cancel: CancelToken
) -> dict[str, Any]:
    """Run an offline evaluation (``protocol``, ``models``, ``out_dir`` …) and keep its lines."""
    from cinerec.evaluation.commands import evaluate_command

    allowed = {"protocol", "models", "out_dir", "dataset", "configs", "seed", "threads",
               "max_users", "resamples"}  # fmt: skip
    _only(args, allowed)
    cancel.check("The evaluation job")
    kwargs = dict(args)
    kwargs["out_dir"] = Path(kwargs.get("out_dir") or platform.settings.home / "runs" / "eval")
    kwargs.setdefault("protocol", "loo")
    kwargs.setdefault("models", "popularity,als")
    kwargs.setdefault("data_dir", platform.settings.data_dir)
    lines = evaluate_command(**kwargs)
    return {"out_dir": str(kwargs["out_dir"]), "lines": lines}


TASKS: dict[str, Task] = {
    "ingest": ingest_task,
    "train": train_task,
    "review_summaries": review_summaries_task,
    "embeddings": embeddings_task,
    "evaluate": evaluate_task,
}
"""Every job ``cinerec worker`` runs, by name."""
