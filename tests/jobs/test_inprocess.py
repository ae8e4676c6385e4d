"""In-process jobs retry as the Dramatiq actors do: at most MAX_ATTEMPTS runs, backing off
between them, each attempt counted in the jobs table."""

from __future__ import annotations

import time

import pytest

from cinerec.jobs import base
from cinerec.jobs.broker import MAX_RETRIES
from cinerec.jobs.inprocess import InProcessRunner
from tests.jobs.conftest import MakePlatform, Patient, flaky_tasks

QUICK = (0.05, 0.2)  # backoff: first wait, longest wait (seconds)


def test_the_policy_is_the_brokers_one() -> None:
    assert base.MAX_ATTEMPTS == MAX_RETRIES + 1 == 3
    assert [base.backoff_s(n) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert base.backoff_s(20) == base.MAX_BACKOFF_S
    assert InProcessRunner.__init__.__kwdefaults__["max_attempts"] == base.MAX_ATTEMPTS  # type: ignore[index]


def test_a_job_that_fails_once_is_retried_and_done(make_platform: MakePlatform) -> None:
    tasks, seen = flaky_tasks(fails=1)
    runner = InProcessRunner(make_platform(), tasks, backoff=QUICK)
    view = runner.wait(runner.enqueue("flaky"), timeout_s=30, poll_s=0.02)
    assert view.state == "done" and view.job.result == {"runs": 2}
    assert view.job.attempts == 2 and seen == [1, 2]
    assert view.job.error is None  # the retry's success clears the first attempt's error


def test_a_job_that_always_fails_ends_failed_after_max_attempts(
    make_platform: MakePlatform,
) -> None:
    tasks, seen = flaky_tasks(fails=99)
    runner = InProcessRunner(make_platform(), tasks, backoff=QUICK)
    job_id = runner.enqueue("flaky")
    view = runner.wait(job_id, timeout_s=30, poll_s=0.02)
    assert view.state == "failed"
    assert view.job.attempts == base.MAX_ATTEMPTS == len(seen)
    assert view.job.error == f"RuntimeError: run {base.MAX_ATTEMPTS} fails"
    assert view.job.finished_at is not None


def test_between_attempts_the_job_is_queued_with_its_last_error(
    make_platform: MakePlatform,
) -> None:
    tasks, _ = flaky_tasks(fails=1)
    runner = InProcessRunner(make_platform(), tasks, backoff=(5.0, 5.0))
    job_id = runner.enqueue("flaky")
    for _ in range(300):  # until the first attempt has failed
        job = runner.get(job_id).job
        if job.error is not None:
            break
        time.sleep(0.02)
    assert (job.state, job.attempts, job.error) == ("queued", 1, "RuntimeError: run 1 fails")
    assert not runner.get(job_id).finished  # `wait` keeps waiting for the retry
    # a unique enqueue finds the job waiting for its retry, not a second one
    assert runner.enqueue("flaky", unique=True) == job_id


@pytest.mark.parametrize("attempts", [1, 2])
def test_max_attempts_is_the_number_of_runs(make_platform: MakePlatform, attempts: int) -> None:
    tasks, seen = flaky_tasks(fails=99)
    runner = InProcessRunner(make_platform(), tasks, max_attempts=attempts, backoff=QUICK)
    view = runner.wait(runner.enqueue("flaky"), timeout_s=30, poll_s=0.02)
    assert view.state == "failed" and view.job.attempts == attempts == len(seen)


def test_max_attempts_below_one_is_refused(make_platform: MakePlatform) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        InProcessRunner(make_platform(), {}, max_attempts=0)


def test_a_job_waiting_for_its_retry_fails_when_the_platform_closes(
    make_platform: MakePlatform,
) -> None:
    tasks, seen = flaky_tasks(fails=1)
    platform = make_platform()
    runner = InProcessRunner(platform, tasks, backoff=(30.0, 30.0))
    job_id = runner.enqueue("flaky")
    for _ in range(300):  # until the first attempt has failed
        if runner.get(job_id).job.error is not None:
            break
        time.sleep(0.02)
    platform.close()
    view = runner.wait(job_id, timeout_s=5, poll_s=0.02)  # not after the 30 s backoff
    assert view.state == "failed" and view.job.attempts == 1 and seen == [1]
    assert view.job.error == "RuntimeError: run 1 fails (not retried: the process stopped)"
    again = runner.enqueue("flaky", unique=True)  # the next start queues it anew
    assert again != job_id


def test_a_cancelled_job_is_not_retried(make_platform: MakePlatform) -> None:
    """The in-process runner retries a job that raises, but not one that stopped because it was
    cancelled (it raised Cancelled)."""
    patient = Patient()
    runner = InProcessRunner(make_platform(), {"patient": patient}, backoff=QUICK)
    job_id = runner.enqueue("patient")
    assert patient.started.wait(10)
    runner.cancel(job_id)
    view = runner.wait(job_id, timeout_s=10, poll_s=0.02)
    time.sleep(3 * QUICK[1])  # longer than a retry's backoff
    assert runner.get(job_id).state == "cancelled"
    assert view.job.attempts == 1 and patient.runs == 1
