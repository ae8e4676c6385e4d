"""The job interface's contract, the same for every runner: in-process threads, Dramatiq on a
StubBroker, and Dramatiq on the real Redis and RabbitMQ (a worker in this process)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cinerec.db import jobs as store
from cinerec.errors import NotFoundError, ValidationError
from cinerec.jobs.base import INTERRUPTED, JobRunner, describe
from cinerec.jobs.inprocess import InProcessRunner
from cinerec.services.platform import Platform
from tests.jobs.conftest import AMQP_URL, REDIS_URL, MakePlatform, _amqp_ok, _cleanup, _redis_ok

RELEASE = threading.Event()


def _add(platform: Platform, args: dict[str, Any]) -> dict[str, Any]:
    return {"sum": args["x"] + args["y"]}


def _boom(platform: Platform, args: dict[str, Any]) -> None:
    raise RuntimeError("out of memory")


def _held(platform: Platform, args: dict[str, Any]) -> dict[str, Any]:
    assert RELEASE.wait(60), "the test never released the job"
    return {"released": True}


TASKS = {"add": _add, "boom": _boom, "held": _held}


@pytest.fixture(params=["inprocess", "stub", "redis", "rabbitmq"])
def runner(request: pytest.FixtureRequest, make_platform: MakePlatform) -> Iterator[JobRunner]:
    RELEASE.clear()
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
