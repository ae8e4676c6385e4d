"""Dramatiq retries on the real brokers: between attempts a job shows ``queued`` with its last
error (as in-process), never ``failed`` for a moment; after its last attempt it is ``failed`` and
Dramatiq sends it no more."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from cinerec.jobs.broker import BrokerRunner, JobFailed
from tests.jobs.conftest import MakePlatform, flaky_tasks


def _watch(runner: BrokerRunner, job_id: int, until: Callable[[], bool], timeout_s: float) -> set:
    """Every (state, has error) the jobs table shows until ``until()``, polled every 20 ms."""
    seen: set[tuple[str, bool]] = set()
    deadline = time.monotonic() + timeout_s
    while not until():
        assert time.monotonic() < deadline, f"job {job_id} still {runner.get(job_id).state}"
        view = runner.get(job_id)
        seen.add((view.state, view.job.error is not None))
        time.sleep(0.02)
    return seen


@pytest.fixture
def make_runner(
    broker_url: tuple[str, str], make_platform: MakePlatform
) -> Callable[[dict[str, Any]], BrokerRunner]:
    url, queue = broker_url
    made: list[tuple[BrokerRunner, Any]] = []

    def make(tasks: dict[str, Any]) -> BrokerRunner:
        platform = make_platform(broker_url=url, job_queue=queue, job_heartbeat_s=2)
        runner = BrokerRunner(platform, tasks, max_retries=2)
        made.append((runner, runner.worker(threads=1)))
        return runner

    yield make
    for runner, worker in made:
        worker.stop(timeout=10_000)
        runner.close()


def test_a_job_waiting_for_its_retry_shows_queued_then_done(make_runner) -> None:
    tasks, runs = flaky_tasks(fails=1)
    runner = make_runner(tasks)
    job_id = runner.enqueue("flaky")
    seen = _watch(runner, job_id, lambda: runner.get(job_id).finished, timeout_s=60)
    view = runner.get(job_id)
    assert view.state == "done" and view.job.result == {"runs": 2} and runs == [1, 2]
    assert ("queued", True) in seen  # the wait for the retry, with the first run's error
    assert not any(state == "failed" for state, _ in seen)


def test_a_job_out_of_attempts_is_failed_and_not_sent_again(make_runner) -> None:
    tasks, runs = flaky_tasks(fails=99)
    runner = make_runner(tasks)
    job_id = runner.enqueue("flaky")
    seen = _watch(runner, job_id, lambda: runner.get(job_id).finished, timeout_s=60)
    assert not any(state == "failed" for state, _ in seen)  # failed only at the end
    view = runner.get(job_id)
    assert view.state == "failed" and view.job.error == "RuntimeError: run 3 fails"
    assert runs == [1, 2, 3] and view.job.attempts == 3


def test_the_actor_tells_dramatiq_not_to_retry_a_failed_job(make_platform: MakePlatform) -> None:
    tasks, runs = flaky_tasks(fails=99)
    runner = BrokerRunner(make_platform(broker_url="stub://"), tasks, max_retries=1)
    job_id = runner.enqueue("flaky")  # the stub broker has no worker: run the actor by hand
    with pytest.raises(RuntimeError, match="run 1 fails"):  # retried by Dramatiq
        runner._perform(job_id)
    assert runner.get(job_id).state == "queued"
    with pytest.raises(JobFailed, match="after its last attempt"):
        runner._perform(job_id)
    assert runner.get(job_id).state == "failed"
    assert JobFailed in runner.actor.options["throws"]


def test_a_job_that_fails_after_its_cancel_was_asked_is_not_retried(
    make_platform: MakePlatform,
) -> None:
    """The task raises (not Cancelled) before its worker read the cancel request: the job ends
    cancelled and the actor tells Dramatiq not to send it again."""
    from cinerec.db import jobs as store
    from cinerec.jobs.inprocess import InProcessRunner

    platform = make_platform(broker_url="stub://")
    runs: list[int] = []

    def asks_then_fails(platform_: object, args: dict[str, Any], *, cancel: object) -> None:
        runs.append(1)
        InProcessRunner(platform, {}).cancel(job_id)  # another process asks, through the table
        raise RuntimeError("disk full")

    runner = BrokerRunner(platform, {"f": asks_then_fails}, max_retries=2)
    job_id = runner.enqueue("f")  # the stub broker has no worker: run the actor by hand
    with pytest.raises(JobFailed, match="was cancelled"):
        runner._perform(job_id)
    view = runner.get(job_id)
    assert view.state == store.CANCELLED and view.job.error == "RuntimeError: disk full"
    assert runs == [1] and view.job.attempts == 1
