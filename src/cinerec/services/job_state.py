"""Job state as the HTTP API shows it: the ``jobs`` table, and a cancel request.

The API needs no session, so it shows what a job is doing, not what it carries: its name,
state, attempts and times, and the exception type of a failed attempt. Arguments, results,
error messages and the worker's host stay with ``cinerec jobs show`` (they may name paths and
machines). Cancelling goes through the platform's job runner (:meth:`JobRunner.cancel`), so a
job running in a ``cinerec worker`` process stops too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cinerec.db import jobs as store
from cinerec.jobs.base import JobView, describe
from cinerec.services.platform import Platform

MAX_PAGE = 100
"""The most jobs one page lists."""


@dataclass(frozen=True, slots=True)
class JobStatus:
    """One job as the API shows it; ``state`` is queued, running, done, failed, cancelled,
    interrupted (running, but its worker stopped beating) or cancelling (running, asked to
    stop)."""

    id: int
    name: str
    state: str
    attempts: int
    error_type: str | None
    created_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None
    cancel_requested_at: datetime | None


def _error_type(error: str | None) -> str | None:
    """``"RuntimeError: out of memory"`` -> ``"RuntimeError"`` (the stored error's first part)."""
    if not error:
        return None
    head = error.split(":", 1)[0].strip()
    return head if head.replace(".", "").replace("_", "").isalnum() else "Error"


def _status(platform: Platform, job: store.JobRecord) -> JobStatus:
    return _shown(describe(job, heartbeat_s=platform.settings.job_heartbeat_s))


def _shown(view: JobView) -> JobStatus:
    job = view.job
    return JobStatus(
        id=job.id, name=job.name, state=view.state, attempts=job.attempts,
        error_type=_error_type(job.error), created_at=job.created_at, started_at=job.started_at,
        heartbeat_at=job.heartbeat_at, finished_at=job.finished_at,
        cancel_requested_at=job.cancel_requested_at,
    )  # fmt: skip


def recent_jobs(
    platform: Platform, *, limit: int = 20, before: int | None = None
) -> list[JobStatus]:
    """The newest jobs first, at most ``limit`` (capped at :data:`MAX_PAGE`); ``before``: only
    jobs with a smaller id (pass the last id of a page for the next one)."""
    limit = max(1, min(limit, MAX_PAGE))
    with platform.session() as session:
        jobs = store.list_jobs(session, limit=limit, before=before)
    return [_status(platform, job) for job in jobs]


def job_status(platform: Platform, job_id: int) -> JobStatus:
    """One job; NotFoundError when there is none."""
    with platform.session() as session:
        job = store.get_job(session, job_id=job_id)
    return _status(platform, job)


def cancel_job(platform: Platform, job_id: int) -> JobStatus:
    """Ask the job to stop (:meth:`~cinerec.jobs.base.JobRunner.cancel`); the job now:
    cancelled when it was queued, cancelling while it runs, unchanged when it had finished.
    NotFoundError when there is none."""
    return _shown(platform.jobs.cancel(job_id))
