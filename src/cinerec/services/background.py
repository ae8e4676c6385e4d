"""Background work that yields the CPU to the requests being served, started as jobs."""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cinerec.services.platform import Platform

log = logging.getLogger(__name__)


def lower_thread_priority(niceness: int = 19) -> bool:
    """Make the calling thread the last to get the CPU (Linux: threads have their own nice
    value); False where the system does not allow it. Background builds (review summaries, a
    slow recommender's training) run for minutes and must not slow the reasons the language
    model is writing meanwhile."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except (AttributeError, OSError):  # not Linux, or not permitted
        return False
    return True


def start_server_jobs(platform: Platform) -> dict[str, int]:
    """What ``cinerec serve`` starts in the background, as jobs; their ids by name.

    * ``train``: the configured recommender, when a stand-in serves (first start).
    * ``review_summaries``: when none are stored and the IMDB reviews are at hand.
    * ``embeddings``: the catalog embedding index (``warm_embeddings``). Without a broker the
      job builds this process's index; with one, a worker fills the shared embedding cache and
      this process builds its own index from that cache once the job is done.

    Without a broker each job runs on a low-priority thread of this process (as before);
    with one, on a ``cinerec worker``.
    """
    from cinerec.services import ingest

    settings = platform.settings
    started: dict[str, int] = {}
    job_id = ingest.start_background_training(platform)
    if job_id is not None:
        started["train"] = job_id
    if settings.review_summaries and _reviews_missing(platform):
        started["review_summaries"] = platform.jobs.enqueue("review_summaries", unique=True)
    if settings.warm_embeddings:
        from cinerec.services import retrieval

        if not retrieval.embeddings_ready(platform):
            job_id = platform.jobs.enqueue("embeddings", unique=True)
            started["embeddings"] = job_id
            if not platform.jobs.in_process:
                threading.Thread(target=_load_embeddings_after, args=(platform, job_id),
                                 name="cinerec-embeddings-wait", daemon=True).start()  # fmt: skip
    return started


def _reviews_missing(platform: Platform) -> bool:
    from sqlalchemy.exc import SQLAlchemyError

    from cinerec.data.paths import resolve_data_dir
    from cinerec.data.reviews import IMDB_ARCHIVE
    from cinerec.db.review_summaries import count_review_summaries
    from cinerec.errors import CinerecError

    try:
        settings = platform.settings
        directory = resolve_data_dir(settings.data_dir, cache_dir=settings.cache_dir)
        with platform.session() as session:
            stored = count_review_summaries(session)
    except (CinerecError, SQLAlchemyError) as exc:  # no data directory; no table yet
        log.info("review summaries not built: %s", exc)
        return False
    return not stored and (directory / IMDB_ARCHIVE).is_file()


def _load_embeddings_after(platform: Platform, job_id: int) -> None:
    """Wait for a worker's embeddings job, then build this process's index from the cache."""
    from cinerec.services import retrieval

    try:
        view = platform.jobs.wait(job_id, timeout_s=6 * 3600, poll_s=5.0)
    except Exception as exc:  # noqa: BLE001 - chat stays BM25-only
        log.warning("embeddings job %d not finished: %s", job_id, exc)
        return
    if view.state == "done":
        retrieval.start_embedding_build(platform)
    else:
        log.warning("embeddings job %d %s: %s", job_id, view.state, view.job.error)
