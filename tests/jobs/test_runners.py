"""The job interface's contract, the same for every runner: in-process threads, Dramatiq on a
StubBroker, and Dramatiq on the real Redis and RabbitMQ (a worker in this process)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cinerec.db import jobs as store
from cinerec.errors import NotFoundError, ValidationError
from cinerec.jobs.base import CANCELLING, INTERRUPTED, JobRunner, describe
from cinerec.jobs.inprocess import InProcessRunner
from cinerec.llm.backends.cancel import CancelToken
from cinerec.services.platform import Platform
from tests.jobs.conftest import (
    AMQP_URL,
    REDIS_URL,
    MakePlatform,
    Patient,
    _amqp_ok,
    _cleanup,
    _redis_ok,
)

RELEASE = threading.Event()


def _add(platform: Platform, args: dict[str, Any], *, cancel: CancelToken) -> dict[str, Any]:
    return {"sum": args["x"] + args["y"]}


def _boom(platform: Platform, args: dict[str, Any], *, cancel: CancelToken) -> None:
    raise RuntimeError("out of memory")


def _held(platform: Platform, args: dict[str, Any], *, cancel: CancelToken) -> dict[str, Any]:
    assert RELEASE.wait(60), "the test never released the job"
    return {"released": True}


PATIENT = Patient()
TASKS = {"add": _add, "boom": _boom, "held": _held, "patient": PATIENT}


@pytest.fixture(params=["inprocess", "stub", "redis", "rabbitmq"])
def runner(request: pytest.FixtureRequest, make_platform: MakePlatform) -> Iterator[JobRunner]:
    RELEASE.clear()
    PATIENT.reset()
    kind = request.param
    if kind == "inprocess":  # one attempt, as the brokers below (tests/jobs/test_inprocess.py
        yield InProcessRunner(make_platform(), TASKS, max_attempts=1)  # retries)
        return
    from tests.conftest import _required_under_ci

    url, queue = "stub://", "cinerec-test"
    if kind in ("redis", "rabbitmq"):
        import uuid

        url = REDIS_URL if kind == "redis" else AMQP_URL
        problem = _redis_ok(url) if kind == "redis" else _amqp_ok(url)
        if problem:
            _required_under_ci(f"no {kind} at {url}: {problem}")
        queue = f"cinerec-test-{uuid.uuid4().hex[:10]}"
    from cinerec.jobs.broker import BrokerRunner

    platform = make_platform(broker_url=url, job_queue=queue, job_heartbeat_s=2)
    broker_runner = BrokerRunner(platform, TASKS, max_retries=0)
    worker = broker_runner.worker(threads=2)
    try:
        yield broker_runner
    finally:
        RELEASE.set()
        worker.stop(timeout=10_000)
        broker_runner.close()
        if kind in ("redis", "rabbitmq"):
            _cleanup(url, queue)


def test_a_job_runs_once_and_keeps_its_result(runner: JobRunner) -> None:
    job_id = runner.enqueue("add", {"x": 2, "y": 3})
    view = runner.wait(job_id, timeout_s=30)
    assert view.state == "done"
    assert view.job.result == {"sum": 5}
    assert view.job.attempts == 1 and view.job.error is None
    assert view.job.started_at and view.job.finished_at
    assert view.job.started_at <= view.job.finished_at
    assert view.job.worker and ":" in view.job.worker
    assert runner.list(limit=5)[0].job.id == job_id


def test_a_failing_job_is_failed_with_its_error(runner: JobRunner) -> None:
    view = runner.wait(runner.enqueue("boom"), timeout_s=30)
    assert view.state == "failed"
    assert view.job.error == "RuntimeError: out of memory"
    assert view.job.result is None


def test_a_unique_job_is_not_queued_twice_while_pending(runner: JobRunner) -> None:
    first = runner.enqueue("held", {"k": 1}, unique=True)
    assert runner.enqueue("held", {"k": 1}, unique=True) == first
    other = runner.enqueue("held", {"k": 2}, unique=True)  # other args: another job
    assert other != first
    RELEASE.set()
    assert runner.wait(first, timeout_s=30).state == "done"
    assert runner.wait(other, timeout_s=30).state == "done"
    again = runner.enqueue("held", {"k": 1}, unique=True)  # the first is done: a new one
    assert again not in (first, other)
    assert runner.wait(again, timeout_s=30).job.result == {"released": True}


def test_bad_jobs_are_refused_and_nothing_is_stored(runner: JobRunner) -> None:
    with pytest.raises(ValidationError, match="no job named 'nope'"):
        runner.enqueue("nope")
    with pytest.raises(ValidationError, match="JSON"):
        runner.enqueue("add", {"x": object()})
    assert runner.list() == []
    with pytest.raises(NotFoundError):
        runner.get(12345)


def test_a_redelivered_done_job_is_not_run_again(runner: JobRunner) -> None:
    job_id = runner.enqueue("add", {"x": 1, "y": 1})
    assert runner.wait(job_id, timeout_s=30).state == "done"
    assert runner.run(job_id) is None  # as if the broker delivered the message again
    assert runner.get(job_id).job.attempts == 1


def test_a_running_job_without_heartbeat_shows_interrupted() -> None:
    now = datetime.now(UTC)
    job = store.JobRecord(
        id=1, name="train", args={}, state="running", attempts=1, error=None, result=None,
        worker="h:1", created_at=now, started_at=now, heartbeat_at=now - timedelta(seconds=90),
        finished_at=None,
    )  # fmt: skip
    assert describe(job, heartbeat_s=60, now=now).state == INTERRUPTED
    assert describe(job, heartbeat_s=120, now=now).state == "running"
    assert not describe(job, heartbeat_s=60, now=now).finished


def _until_running(runner: JobRunner, job_id: int) -> None:
    assert PATIENT.started.wait(30), "the job never started"
    deadline = time.monotonic() + 10
    while runner.get(job_id).state != "running":
        assert time.monotonic() < deadline, runner.get(job_id).state
        time.sleep(0.02)


@pytest.mark.parametrize("asked_by", ["this runner", "another process"])
def test_a_running_job_is_cancelled_and_stops_soon(runner: JobRunner, asked_by: str) -> None:
    """Cancelled by the runner that runs it (its token at once), or through the jobs table only
    (a web process asks, the worker's heartbeat thread reads it within job_cancel_poll_s)."""
    job_id = runner.enqueue("patient")
    _until_running(runner, job_id)
    web = runner if asked_by == "this runner" else InProcessRunner(runner.platform, TASKS)
    asked = time.monotonic()
    view = web.cancel(job_id)
    assert view.state in (CANCELLING, "cancelled") and view.job.cancel_requested_at
    done = runner.wait(job_id, timeout_s=15, poll_s=0.02)
    took = time.monotonic() - asked
    assert done.state == "cancelled" and done.finished
    assert done.job.attempts == 1 and PATIENT.runs == 1  # never retried
    assert (done.job.error or "").startswith("Cancelled: The patient job was stopped")
    assert done.job.result is None
    assert PATIENT.stopped_at is not None
    limit = 1.0 if asked_by == "this runner" else runner.cancel_poll_s + 2.0
    assert PATIENT.stopped_at - asked < limit and took < limit + 1.0
    assert "cancelled" in {v.state for v in runner.list(limit=5)}


def test_a_cancelled_queued_job_is_skipped_by_its_worker(runner: JobRunner) -> None:
    with runner.platform.session() as session:  # queued, not yet sent to any worker
        job_id = store.create_job(session, name="patient", args={}).id
    assert runner.cancel(job_id).state == "cancelled"
    assert runner.run(job_id) is None  # as a worker receiving its message would
    runner._dispatch(job_id)  # and through the runner's own queue
    time.sleep(0.5)
    view = runner.get(job_id)
    assert view.state == "cancelled" and view.job.attempts == 0 and PATIENT.runs == 0
    assert runner.cancel(job_id).state == "cancelled"  # again: nothing changes


def test_a_finished_job_is_not_cancelled(runner: JobRunner) -> None:
    job_id = runner.enqueue("add", {"x": 1, "y": 2})
    assert runner.wait(job_id, timeout_s=30).state == "done"
    view = runner.cancel(job_id)
    assert view.state == "done" and view.job.result == {"sum": 3}
    assert view.job.cancel_requested_at is None
    with pytest.raises(NotFoundError):
        runner.cancel(job_id + 1000)


def test_a_running_job_asked_to_stop_shows_cancelling() -> None:
    now = datetime.now(UTC)
    job = store.JobRecord(
        id=1, name="train", args={}, state="running", attempts=1, error=None, result=None,
        worker="h:1", created_at=now, started_at=now, heartbeat_at=now, finished_at=None,
        cancel_requested_at=now,
    )  # fmt: skip
    assert describe(job, heartbeat_s=60, now=now).state == CANCELLING
    assert not describe(job, heartbeat_s=60, now=now).finished
    late = now + timedelta(seconds=90)  # its worker died before it stopped
    assert describe(job, heartbeat_s=60, now=late).state == INTERRUPTED
