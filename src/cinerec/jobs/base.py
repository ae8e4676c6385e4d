"""The job interface: enqueue by name, state in the database, one way to run a job.

A runner only decides *where* a job runs (:meth:`JobRunner._dispatch`); :meth:`JobRunner.run`
is the same everywhere: mark the job running (one more attempt), keep its heartbeat fresh,
call the task, store its result or its error.

Cancelling works across processes: :meth:`JobRunner.cancel` stores the request in the job's row
(a queued job is cancelled at once and never runs); the thread that keeps a running job's
heartbeat reads the row every ``job_cancel_poll_s`` and cancels the :class:`CancelToken` the
task got as ``cancel=``. The task checks it between units of work (a batch, a movie, an epoch)
and stops; the job ends ``cancelled`` and is never retried.

One retry policy for every runner: a job that raises runs at most :data:`MAX_ATTEMPTS` times,
waiting :func:`backoff_s` between attempts (Dramatiq's ``Retries`` on a broker, the runner's
own thread in-process).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from cinerec.db import jobs as store
from cinerec.errors import CinerecError, ValidationError
from cinerec.llm.backends.cancel import CancelToken

if TYPE_CHECKING:
    from cinerec.services.platform import Platform

log = logging.getLogger(__name__)


class Task(Protocol):
    """A job's work: gets the platform and the job's JSON arguments, returns a JSON result.

    ``cancel`` is set when someone cancels the job: a long task checks it between units of work
    (``cancel.check("The … job")`` raises :class:`~cinerec.llm.backends.cancel.Cancelled`) and
    passes it on to the model calls it makes.
    """

    def __call__(
        self, platform: Platform, args: dict[str, Any], /, *, cancel: CancelToken
    ) -> dict[str, Any] | None: ...


MAX_ATTEMPTS = 3
"""A job that raises runs at most this many times, then stays failed."""
MIN_BACKOFF_S, MAX_BACKOFF_S = 1.0, 60.0
"""The wait before a retry: the first after one failure, doubling with each further one, never
more than the second (Dramatiq's ``min_backoff`` and ``max_backoff``; Dramatiq adds jitter)."""

INTERRUPTED = "interrupted"
"""Shown (never stored) for a running job whose heartbeat is older than ``job_heartbeat_s``."""
CANCELLING = "cancelling"
"""Shown (never stored) for a running job asked to stop that has not stopped yet."""
CANCEL_REASON = "the job was cancelled"
""":attr:`CancelToken.reason` of a cancelled job's token."""


class JobError(CinerecError):
    """A job failed, or did not finish in time."""


@dataclass(frozen=True, slots=True)
class JobView:
    """A job as people see it: the stored record plus the state shown (``interrupted``)."""

    job: store.JobRecord
    state: str

    @property
    def finished(self) -> bool:
        return self.state in store.FINAL


def describe(job: store.JobRecord, *, heartbeat_s: float, now: datetime | None = None) -> JobView:
    """The shown state: ``interrupted`` for a running job whose worker stopped beating,
    ``cancelling`` for a running one asked to stop."""
    if job.state != store.RUNNING:
        return JobView(job, job.state)
    now = now or datetime.now(UTC)
    stale = job.heartbeat_at is None or now - job.heartbeat_at > timedelta(seconds=heartbeat_s)
    if stale:
        return JobView(job, INTERRUPTED)
    return JobView(job, CANCELLING if job.cancel_requested_at is not None else job.state)


def backoff_s(attempts: int, *, first_s: float = MIN_BACKOFF_S,
              most_s: float = MAX_BACKOFF_S) -> float:  # fmt: skip
    """The wait before the next attempt of a job that has failed ``attempts`` times."""
    return float(min(most_s, first_s * 2 ** max(0, attempts - 1)))


def worker_name() -> str:
    """``host:pid`` of this process (stored with the job it runs)."""
    return f"{socket.gethostname()}:{os.getpid()}"


class JobRunner:
    """Enqueue, inspect and run jobs; subclasses say where a job runs."""

    in_process: bool = False

    def __init__(
        self,
        platform: Platform,
        tasks: Mapping[str, Task] | None = None,
        *,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        from cinerec.jobs.tasks import TASKS

        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.platform = platform
        self.tasks: dict[str, Task] = dict(TASKS if tasks is None else tasks)
        self.heartbeat_s = platform.settings.job_heartbeat_s
        self.cancel_poll_s = platform.settings.job_cancel_poll_s
        self.max_attempts = max_attempts
        self._running: dict[int, CancelToken] = {}  # jobs running in this process
        self._running_lock = threading.Lock()

    # Enqueue and inspect ---------------------------------------------------------------------
    def enqueue(
        self, name: str, args: Mapping[str, Any] | None = None, *, unique: bool = False
    ) -> int:
        """Queue job ``name`` with JSON ``args``; its id. With ``unique``, a queued or live
        running job of the same name and args is returned instead of a second one."""
        if name not in self.tasks:
            known = ", ".join(sorted(self.tasks))
            raise ValidationError(f"There is no job named {name!r} (known: {known}).")
        try:
            payload = json.loads(json.dumps(dict(args or {})))
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"Job arguments must be JSON ({exc}).") from None
        with self.platform.session() as session:
            if unique:
                alive = datetime.now(UTC) - timedelta(seconds=self.heartbeat_s)
                found = store.find_active_job(session, name=name, args=payload, alive_since=alive)
                if found is not None:
                    return found.id
            job = store.create_job(session, name=name, args=payload)
        self._dispatch(job.id)
        return job.id

    def get(self, job_id: int) -> JobView:
        """The job now; NotFoundError when there is none."""
        with self.platform.session() as session:
            return describe(store.get_job(session, job_id=job_id), heartbeat_s=self.heartbeat_s)

    def list(self, *, limit: int = 20) -> list[JobView]:
        """The newest jobs first."""
        with self.platform.session() as session:
            jobs = store.list_jobs(session, limit=limit)
        return [describe(job, heartbeat_s=self.heartbeat_s) for job in jobs]

    def wait(self, job_id: int, *, timeout_s: float, poll_s: float = 0.2) -> JobView:
        """Block until the job is done, failed or cancelled (JobError after ``timeout_s``)."""
        deadline = time.monotonic() + timeout_s
        while True:
            view = self.get(job_id)
            if view.finished:
                return view
            if time.monotonic() >= deadline:
                raise JobError(f"Job {job_id} ({view.job.name}) is still {view.state} after "
                               f"{timeout_s:.0f} s.")  # fmt: skip
            time.sleep(poll_s)

    def cancel(self, job_id: int) -> JobView:
        """Ask the job to stop; the job as it is now (NotFoundError when there is none).

        A queued job is ``cancelled`` at once (a worker that receives it skips it). A running
        job shows ``cancelling`` until its worker, in whichever process, reads the request
        (within ``job_cancel_poll_s``; at once when it runs in this process) and the task stops
        at its next check; then it is ``cancelled``. A finished job is left as it is.
        """
        with self.platform.session() as session:
            job = store.request_cancel(session, job_id=job_id)
        with self._running_lock:
            token = self._running.get(job_id)
        if token is not None:
            token.cancel(CANCEL_REASON)
        log.info("job %d (%s): cancel requested while %s", job_id, job.name, job.state)
        return describe(job, heartbeat_s=self.heartbeat_s)

    # Run ---------------------------------------------------------------------------------------
    def run(self, job_id: int, *, retry: bool = False) -> store.JobRecord | None:
        """Run the job here and now; None when it was already done (a redelivered message).

        The task's exception is stored as the job's error and raised again (so a broker can
        retry it). With ``retry`` (a runner that retries itself), a failed attempt short of
        ``max_attempts`` leaves the job queued, its error shown, instead of failed. A task that
        stops (raises) after its job was cancelled leaves the job ``cancelled``; nothing is
        raised, so nothing retries it. A cancelled job is skipped (None), as a done one.
        """
        with self.platform.session() as session:
            job = store.start_job(session, job_id=job_id, worker=worker_name())
        if job is None:
            log.info("job %d is already done or cancelled; skipped", job_id)
            return None
        log.info("job %d (%s, attempt %d) started", job.id, job.name, job.attempts)
        stop, token = threading.Event(), CancelToken()
        with self._running_lock:
            self._running[job_id] = token
        beat = threading.Thread(
            target=self._beat, args=(job_id, stop, token), name=f"cinerec-job-{job_id}-beat",
            daemon=True,
        )  # fmt: skip
        beat.start()
        try:
            result = self.tasks[job.name](self.platform, job.args, cancel=token)
        except BaseException as exc:
            stop.set()
            error = f"{type(exc).__name__}: {exc}"[:4000]
            if token.cancelled and isinstance(exc, Exception):
                with self.platform.session() as session:
                    stopped = store.cancel_job(session, job_id=job_id, error=error)
                log.info("job %d (%s) cancelled: %s", job_id, job.name, error)
                return stopped
            again = retry and isinstance(exc, Exception) and job.attempts < self.max_attempts
            with self.platform.session() as session:
                if again:
                    store.requeue_job(session, job_id=job_id, error=error)
                else:
                    store.finish_job(session, job_id=job_id, error=error)
            log.warning("job %d (%s, attempt %d of %d) failed: %s", job_id, job.name,
                        job.attempts, self.max_attempts, error)  # fmt: skip
            raise
        finally:
            stop.set()
            beat.join()
            with self._running_lock:
                self._running.pop(job_id, None)
        with self.platform.session() as session:
            done = store.finish_job(session, job_id=job_id, result=dict(result or {}))
        log.info("job %d (%s) done", job_id, job.name)
        return done

    def _beat(self, job_id: int, stop: threading.Event, token: CancelToken) -> None:
        """Keep the job's heartbeat fresh and cancel ``token`` once the row asks for it."""
        every = max(0.5, self.heartbeat_s / 4)
        due = time.monotonic() + every
        while not stop.wait(min(every, self.cancel_poll_s)):
            try:
                with self.platform.session() as session:
                    if time.monotonic() >= due:
                        store.heartbeat_job(session, job_id=job_id)
                        due = time.monotonic() + every
                    if not token.cancelled and store.cancel_requested(session, job_id=job_id):
                        log.info("job %d: cancel requested; stopping it", job_id)
                        token.cancel(CANCEL_REASON)
            except Exception as exc:  # noqa: BLE001 - a missed beat must not stop the job
                log.warning("job %d heartbeat not stored: %s", job_id, exc)

    def _dispatch(self, job_id: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        """Release connections (a broker's)."""
