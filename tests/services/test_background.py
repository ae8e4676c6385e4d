"""background: a worker thread lowers its own priority; serve starts its work as jobs."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cinerec.services.background import lower_thread_priority
from tests.jobs.conftest import MakePlatform, tiny_platforms


@pytest.fixture
def make_platform(tmp_path: Path) -> Iterator[MakePlatform]:
    with tiny_platforms(tmp_path) as make:
        yield make


def test_a_background_thread_can_lower_only_its_own_priority() -> None:
    seen: dict[str, int | bool] = {}

    def work() -> None:
        seen["lowered"] = lower_thread_priority(5)
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    before = os.getpriority(os.PRIO_PROCESS, 0)
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    if not seen["lowered"]:
        pytest.skip("this system does not let a thread change its priority")
    assert seen["nice"] == 5  # an absolute nice value, for this thread only
    assert os.getpriority(os.PRIO_PROCESS, 0) == before  # the process (main thread) is unchanged


def test_with_a_broker_serve_enqueues_and_trains_nothing_itself(
    make_platform: MakePlatform,
) -> None:
    """`cinerec serve` with a broker: the first-start training waits in the queue (no thread
    of the server trains); a worker runs it and the server then serves the new version."""
    import time

    from cinerec.jobs.broker import BrokerRunner
    from cinerec.services import ingest
    from cinerec.services.background import start_server_jobs

    platform = make_platform(recommender="sasrec", broker_url="stub://", model_poll_s=0)
    worker = platform.jobs
    assert isinstance(worker, BrokerRunner)
    running = worker.worker(threads=1)  # a "cinerec worker" on the in-memory queue
    try:
        ingest.ensure_ready(platform, progress=False)
    finally:
        running.stop()
    assert platform.serving_fallback and platform.served_version == ("als", 1)
    started = start_server_jobs(platform)
    assert set(started) == {"train"}
    time.sleep(1.0)
    assert platform.jobs.get(started["train"]).state == "queued"  # nobody here runs it
    assert not [t for t in threading.enumerate() if t.name.startswith("cinerec-job-")]
    running = worker.worker(threads=1)
    try:
        view = platform.jobs.wait(started["train"], timeout_s=300)
    finally:
        running.stop()
    assert view.state == "done", view.job.error
    assert platform.recommender[1].name == "sasrec" and not platform.serving_fallback
    assert platform.served_version == ("sasrec", 1)


def test_without_a_broker_serve_runs_its_jobs_on_threads(make_platform: MakePlatform) -> None:
    from cinerec.services import ingest
    from cinerec.services.background import start_server_jobs

    platform = make_platform(recommender="sasrec", model_poll_s=0)
    ingest.ensure_ready(platform, progress=False)
    started = start_server_jobs(platform)
    assert set(started) == {"train"}
    assert platform.jobs.wait(started["train"], timeout_s=300).state == "done"
    assert platform.served_version == ("sasrec", 1)
