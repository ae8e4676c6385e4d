"""Jobs on daemon threads of this process (no broker configured: ``make run``, tests)."""

from __future__ import annotations

import logging
import threading

from cinerec.jobs.base import JobRunner
from cinerec.services.background import lower_thread_priority

log = logging.getLogger(__name__)


class InProcessRunner(JobRunner):
    """Runs each job on its own low-priority daemon thread, as soon as it is enqueued.

    Nothing retries here: a failure is stored on the job and logged, and the server goes on
    (as the background threads of ``cinerec serve`` always did). A process that exits takes
    its running jobs with it; their state then shows ``interrupted``.
    """

    in_process = True

    def _dispatch(self, job_id: int) -> None:
        def work() -> None:
            lower_thread_priority()  # the pages' model calls come first on a small machine
            try:
                self.run(job_id)
            except Exception:  # noqa: BLE001 - stored on the job; the server keeps serving
                log.exception("job %d failed", job_id)

        threading.Thread(target=work, name=f"cinerec-job-{job_id}", daemon=True).start()
