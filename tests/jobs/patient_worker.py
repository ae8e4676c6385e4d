"""``python -m tests.jobs.patient_worker``: ``cinerec worker`` (the same :func:`run_worker`, the
same ``CINEREC_*`` settings) that also knows the test job ``patient``
(:class:`tests.jobs.conftest.Patient`), so a test or a benchmark can cancel a job running in
another process at a moment of its choosing."""

from __future__ import annotations

import logging

from cinerec.config import Settings
from cinerec.jobs.broker import run_worker
from cinerec.jobs.tasks import TASKS
from cinerec.services.platform import Platform
from tests.jobs.conftest import Patient


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    run_worker(Platform(Settings()), tasks={**TASKS, "patient": Patient(most_s=600.0)})


if __name__ == "__main__":
    main()
