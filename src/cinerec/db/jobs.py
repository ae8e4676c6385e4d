"""Job state and published model versions: keyword-only functions, like :mod:`repository`.

Functions never commit (the caller owns the transaction) and return frozen records.

Example::

    with Session.begin() as session:
        job = create_job(session, name="train", args={"name": "als"})
    with Session.begin() as session:
        start_job(session, job_id=job.id, worker="host:123")
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from cinerec.db.tables import JobRow, ModelVersionRow, ModelVersionUserRow, utcnow
from cinerec.errors import NotFoundError

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
CANCELLED = "cancelled"
"""Stopped on request (:func:`request_cancel`): never run, or stopped while running; never
retried."""
STATES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED)
FINAL = (DONE, FAILED, CANCELLED)
"""States a job never leaves (a failed job may still be redelivered by a broker's retry)."""


@dataclass(frozen=True, slots=True)
class JobRecord:
    """One job as stored."""

    id: int
    name: str
    args: dict[str, Any]
    state: str
    attempts: int
    error: str | None
    result: dict[str, Any] | None
    worker: str | None
    created_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None
    cancel_requested_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ModelVersionRecord:
    """One published model version; ``path`` is relative to the artifacts directory."""

    name: str
    version: int
    path: str
    digest: str
    info: dict[str, Any]
    created_at: datetime


def _job(row: JobRow) -> JobRecord:
    return JobRecord(
        id=row.id, name=row.name, args=dict(row.args or {}), state=row.state,
        attempts=row.attempts, error=row.error, result=row.result, worker=row.worker,
        created_at=row.created_at, started_at=row.started_at, heartbeat_at=row.heartbeat_at,
        finished_at=row.finished_at, cancel_requested_at=row.cancel_requested_at,
    )  # fmt: skip


def _version(row: ModelVersionRow) -> ModelVersionRecord:
    return ModelVersionRecord(
        name=row.name, version=row.version, path=row.path, digest=row.digest,
        info=dict(row.info or {}), created_at=row.created_at,
    )  # fmt: skip


def create_job(session: Session, *, name: str, args: dict[str, Any]) -> JobRecord:
    """A new queued job."""
    row = JobRow(name=name, args=dict(args), state=QUEUED, attempts=0, created_at=utcnow())
    session.add(row)
    session.flush()
    return _job(row)


def _row(session: Session, job_id: int, *, lock: bool = False) -> JobRow:
    query = select(JobRow).where(JobRow.id == job_id)
    row = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if row is None:
        raise NotFoundError(f"There is no job {job_id}.")
    return row


def get_job(session: Session, *, job_id: int) -> JobRecord:
    """The job; NotFoundError when there is none."""
    return _job(_row(session, job_id))


def list_jobs(
    session: Session, *, limit: int = 20, name: str | None = None, before: int | None = None
) -> list[JobRecord]:
    """The newest jobs first; with ``before``, only jobs with a smaller id (the next page)."""
    query = select(JobRow).order_by(JobRow.id.desc()).limit(limit)
    if name is not None:
        query = query.where(JobRow.name == name)
    if before is not None:
        query = query.where(JobRow.id < before)
    return [_job(row) for row in session.scalars(query)]


def find_active_job(
    session: Session, *, name: str, args: dict[str, Any], alive_since: datetime
) -> JobRecord | None:
    """A queued job with these ``name`` and ``args``, or a running one whose heartbeat is not
    older than ``alive_since`` (None: nothing of the kind is pending). A running job asked to
    stop does not count."""
    rows = session.scalars(
        select(JobRow).where(
            JobRow.name == name,
            JobRow.state.in_((QUEUED, RUNNING)),
            JobRow.cancel_requested_at.is_(None),
        )
    )
    for row in rows:
        if dict(row.args or {}) != dict(args):
            continue
        beat = row.heartbeat_at
        if row.state == QUEUED or (beat is not None and beat >= alive_since):
            return _job(row)
    return None


def start_job(session: Session, *, job_id: int, worker: str) -> JobRecord | None:
    """Mark the job running (one more attempt); None when it is already done or cancelled.

    A job whose cancel was asked for while it ran (its worker died before it stopped, and the
    broker hands the message to another) is marked cancelled here instead of run again.
    """
    row = _row(session, job_id, lock=True)
    if row.state in (DONE, CANCELLED):
        return None
    if row.cancel_requested_at is not None:
        _cancelled(row, error=row.error)
        session.flush()
        return None
    now = utcnow()
    row.state, row.worker, row.error = RUNNING, worker, None
    row.attempts += 1
    row.started_at = row.heartbeat_at = now
    row.finished_at = None
    session.flush()
    return _job(row)


def heartbeat_job(session: Session, *, job_id: int) -> None:
    """Say the running job's worker is alive."""
    _row(session, job_id).heartbeat_at = utcnow()


def cancel_requested(session: Session, *, job_id: int) -> bool:
    """Whether someone asked the job to stop (read by its worker while the job runs)."""
    query = select(JobRow.cancel_requested_at).where(JobRow.id == job_id)
    return session.scalar(query) is not None


def request_cancel(session: Session, *, job_id: int) -> JobRecord:
    """Ask the job to stop: a queued job is cancelled at once (a worker that receives it later
    skips it); a running one keeps running until its worker reads the request
    (:func:`cancel_requested`) and stops it; a done, failed or cancelled job is left as it is.
    NotFoundError when there is no such job."""
    row = _row(session, job_id, lock=True)
    if row.state in FINAL:
        return _job(row)
    if row.cancel_requested_at is None:
        row.cancel_requested_at = utcnow()
    if row.state == QUEUED:
        _cancelled(row, error=row.error)
    session.flush()
    return _job(row)


def _cancelled(row: JobRow, *, error: str | None) -> None:
    row.state, row.result, row.error = CANCELLED, None, error
    row.finished_at = utcnow()


def cancel_job(session: Session, *, job_id: int, error: str | None = None) -> JobRecord:
    """Mark the job cancelled: its worker stopped it on request (``error``: what it said)."""
    row = _row(session, job_id, lock=True)
    if row.cancel_requested_at is None:
        row.cancel_requested_at = utcnow()
    _cancelled(row, error=error)
    session.flush()
    return _job(row)


def finish_job(
    session: Session, *, job_id: int, result: dict[str, Any] | None = None, error: str | None = None
) -> JobRecord:
    """Mark the job done (with its ``result``) or, with ``error``, failed."""
    row = _row(session, job_id, lock=True)
    row.state = FAILED if error is not None else DONE
    row.result, row.error = result, error
    row.finished_at = utcnow()
    session.flush()
    return _job(row)


def requeue_job(session: Session, *, job_id: int, error: str) -> JobRecord:
    """Put a failed attempt's job back in the queue for another attempt; its ``error`` stays
    visible until the next attempt starts. A job whose cancel was asked for is cancelled
    instead (never retried)."""
    row = _row(session, job_id, lock=True)
    if row.cancel_requested_at is not None:
        _cancelled(row, error=error)
        session.flush()
        return _job(row)
    row.state, row.error, row.result = QUEUED, error, None
    row.finished_at = None
    session.flush()
    return _job(row)


def publish_version(
    session: Session, *, name: str, path: str, digest: str, info: dict[str, Any]
) -> ModelVersionRecord:
    """Record a new version of ``name`` (one more than the newest). Two publishers at once: the
    second one's commit fails on the unique (name, version) constraint and it tries again."""
    newest = session.scalar(
        select(func.max(ModelVersionRow.version)).where(ModelVersionRow.name == name)
    )
    row = ModelVersionRow(
        name=name, version=(newest or 0) + 1, path=path, digest=digest, info=dict(info),
        created_at=utcnow(),
    )  # fmt: skip
    session.add(row)
    session.flush()
    return _version(row)


def latest_version(session: Session, *, name: str) -> ModelVersionRecord | None:
    """The newest published version of ``name``, or None."""
    row = session.scalars(
        select(ModelVersionRow)
        .where(ModelVersionRow.name == name)
        .order_by(ModelVersionRow.version.desc())
        .limit(1)
    ).one_or_none()
    return None if row is None else _version(row)


def list_versions(session: Session, *, name: str | None = None) -> list[ModelVersionRecord]:
    """Published versions, newest first."""
    query = select(ModelVersionRow).order_by(ModelVersionRow.id.desc())
    if name is not None:
        query = query.where(ModelVersionRow.name == name)
    return [_version(row) for row in session.scalars(query)]


def delete_versions(session: Session, *, name: str, versions: list[int]) -> int:
    """Forget these published versions of ``name`` (their files are the caller's to remove);
    how many rows went."""
    if not versions:
        return 0
    rows = list(
        session.scalars(
            select(ModelVersionRow).where(
                ModelVersionRow.name == name, ModelVersionRow.version.in_(versions)
            )
        )
    )
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)


def record_version_use(session: Session, *, process: str, name: str, version: int) -> None:
    """Say ``process`` serves (or is about to load) this version of ``name``, now; its other
    versions stay recorded until :func:`forget_version_use`."""
    row = session.get(ModelVersionUserRow, (process, name, version))
    if row is None:
        session.add(ModelVersionUserRow(process=process, name=name, version=version,
                                        heartbeat_at=utcnow()))  # fmt: skip
    else:
        row.heartbeat_at = utcnow()
    session.flush()


def heartbeat_version_use(session: Session, *, process: str) -> int:
    """Say ``process`` still serves what it recorded; how many rows it has."""
    query = update(ModelVersionUserRow).where(ModelVersionUserRow.process == process)
    return session.execute(query.values(heartbeat_at=utcnow())).rowcount  # type: ignore[attr-defined]


def forget_version_use(
    session: Session, *, process: str, keep: tuple[str, int] | None = None
) -> None:
    """Forget the versions ``process`` recorded, except ``keep`` (name, version): it stopped
    serving them (a newer one is loaded, or it shuts down)."""
    query = delete(ModelVersionUserRow).where(ModelVersionUserRow.process == process)
    if keep is not None:
        name, version = keep
        query = query.where(
            (ModelVersionUserRow.name != name) | (ModelVersionUserRow.version != version)
        )
    session.execute(query)


def versions_in_use(session: Session, *, name: str, alive_since: datetime) -> set[int]:
    """Versions of ``name`` that some process with a heartbeat not older than ``alive_since``
    serves."""
    query = select(ModelVersionUserRow.version).where(
        ModelVersionUserRow.name == name, ModelVersionUserRow.heartbeat_at >= alive_since
    )
    return set(session.scalars(query))


def forget_stale_version_use(session: Session, *, before: datetime) -> int:
    """Drop the records whose heartbeat is older than ``before`` (their processes died or
    stalled; they pin nothing); how many went."""
    query = delete(ModelVersionUserRow).where(ModelVersionUserRow.heartbeat_at < before)
    return session.execute(query).rowcount  # type: ignore[attr-defined]
