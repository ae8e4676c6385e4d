"""Cancelling across processes: a job running in a `cinerec worker`-style process (a real
Dramatiq worker on the real Redis and RabbitMQ) is cancelled by `cinerec jobs cancel` run in a
third process; the worker reads the request from the jobs table and the job stops, ends
``cancelled`` and is not retried."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cinerec.jobs.broker import BrokerRunner
from tests.jobs.conftest import HEARTBEAT_S, MakePlatform, Patient, Workers


@pytest.fixture
def workers(broker_url: tuple[str, str], make_platform: MakePlatform, tmp_path: Path
            ) -> Iterator[Workers]:  # fmt: skip
    url, queue = broker_url
    platform = make_platform(broker_url=url, job_queue=queue, job_heartbeat_s=HEARTBEAT_S)
    pool = Workers(platform, tmp_path)
    yield pool
    pool.stop_all()
    for log in sorted(tmp_path.glob("worker-*.log")):  # shown when the test fails
        print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")


def test_a_job_in_a_worker_process_is_cancelled_from_the_cli(workers: Workers) -> None:
    web = BrokerRunner(workers.platform, {"patient": Patient()})  # only enqueues and reads
    try:
        worker = workers.start("-m", "tests.jobs.patient_worker")
        job_id = web.enqueue("patient")
        deadline = time.monotonic() + 120
        while web.get(job_id).state != "running":
            assert worker.poll() is None, "the worker exited"
            assert time.monotonic() < deadline, "the worker never started the job"
            time.sleep(0.1)
        time.sleep(1.0)  # it is well into its steps
        line = workers.cli("jobs", "cancel", str(job_id), "--wait", "30")
        assert line.split()[:3] == [str(job_id), "patient", "cancelled"], line
        view = web.get(job_id)
        assert view.state == "cancelled" and view.job.attempts == 1
        assert (view.job.error or "").startswith("Cancelled: The patient job was stopped")
        asked, ended = view.job.cancel_requested_at, view.job.finished_at
        assert asked is not None and ended is not None
        poll_s = min(max(0.5, HEARTBEAT_S / 4), web.cancel_poll_s)
        assert 0 <= (ended - asked).total_seconds() < poll_s + 2.0
        time.sleep(2.5)  # past the first retry's backoff: nothing sends it again
        again = web.get(job_id)
        assert again.state == "cancelled" and again.job.attempts == 1
        assert worker.poll() is None  # the worker goes on serving the queue
    finally:
        web.close()
