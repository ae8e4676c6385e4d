"""Jobs on daemon threads of this process (no broker configured: ``make run``, tests)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

from cinerec.db import jobs as store
from cinerec.jobs.base import MAX_ATTEMPTS, MAX_BACKOFF_S, MIN_BACKOFF_S, JobRunner, Task, backoff_s
from cinerec.services.background import lower_thread_priority

if TYPE_CHECKING:
    from cinerec.services.platform import Platform

log = logging.getLogger(__name__)


class InProcessRunner(JobRunner):
    """Runs each job on its own low-priority daemon thread, as soon as it is enqueued.

    A job that raises is retried on the same thread with the brokers' policy: at most
    ``max_attempts`` runs (:data:`~cinerec.jobs.base.MAX_ATTEMPTS`), waiting
    :func:`~cinerec.jobs.base.backoff_s` between them; meanwhile it shows ``queued`` with the
    last error, and after the last attempt ``failed`` (also when the platform closes during the
    wait: no thread would be left to retry it). The server goes on either way (as the
    background threads of ``cinerec serve`` always did). A process that exits takes its running
    jobs with it; their state then shows ``interrupted``.
    """

    in_process = True

    def __init__(
        self,
        platform: Platform,
        tasks: Mapping[str, Task] | None = None,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        backoff: tuple[float, float] = (MIN_BACKOFF_S, MAX_BACKOFF_S),
    ) -> None:
        super().__init__(platform, tasks, max_attempts=max_attempts)
        self.backoff = backoff

    def _dispatch(self, job_id: int) -> None:
        threading.Thread(
            target=self._work, args=(job_id,), name=f"cinerec-job-{job_id}", daemon=True
        ).start()

    def _work(self, job_id: int) -> None:
        lower_thread_priority()  # the pages' model calls come first on a small machine
        while True:
            try:
                self.run(job_id, retry=True)
                return
            except Exception:  # noqa: BLE001 - stored on the job; the server keeps serving
                job = self.get(job_id).job
                if job.state != store.QUEUED:
                    log.exception("job %d failed after %d attempt(s)", job_id, job.attempts)
                    return
            wait = backoff_s(job.attempts, first_s=self.backoff[0], most_s=self.backoff[1])
            log.info("job %d is retried in %.1f s (attempt %d of %d)", job_id, wait,
                     job.attempts + 1, self.max_attempts)  # fmt: skip
            if self.platform.state.closing.wait(wait):
                # No thread will be left to retry it: failed, so the next start queues it anew
                # (a queued job would look pending to a unique enqueue forever).
                error = f"{job.error} (not retried: the process stopped)"
                with self.platform.session() as session:
                    store.finish_job(session, job_id=job_id, error=error)
                return
