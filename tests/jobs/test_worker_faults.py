"""Faults: a `cinerec worker` killed (SIGKILL) mid-training leaves the served model unchanged
and the job's state visible; a retry on a new worker completes and publishes a new version.

Real processes, a real broker (Redis and RabbitMQ), a real SASRec training."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cinerec.db.jobs import list_versions
from cinerec.services import ingest
from tests.jobs.conftest import HEARTBEAT_S, MakePlatform, Workers

QUICK = {"max_len": 8, "hidden": 16, "layers": 1, "heads": 1, "epochs": 1}
SLOW = {**QUICK, "epochs": 3000}  # about 40 s of fitting on a quiet 2-core machine


@pytest.fixture
def workers(broker_url: tuple[str, str], make_platform: MakePlatform, tmp_path: Path
            ) -> Iterator[Workers]:  # fmt: skip
    url, queue = broker_url
    platform = make_platform(broker_url=url, job_queue=queue, job_heartbeat_s=HEARTBEAT_S,
                             recommender="sasrec", model_poll_s=0)  # fmt: skip
    pool = Workers(platform, tmp_path)
    yield pool
    pool.stop_all()
    for log in sorted(tmp_path.glob("worker-*.log")):  # shown when the test fails
        print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")


def _until(predicate, timeout_s: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout_s:.0f} s waiting for {what}"
        time.sleep(0.2)


@pytest.mark.slow
def test_a_killed_worker_leaves_the_served_model_and_a_retry_publishes(workers: Workers) -> None:
    web = workers.platform  # stands for a web process: it serves the newest published version
    ingest.train_version(web, name="sasrec", config=QUICK, progress=False, threads=1)
    assert web.recommender[1].name == "sasrec"
    assert web.served_version == ("sasrec", 1)
    served_model = web.recommender[0]

    first = workers.start()
    job_id = web.jobs.enqueue("train", {"name": "sasrec", "config": SLOW, "threads": 1})
    _until(lambda: web.jobs.get(job_id).state == "running", 120, "the worker to start the job")
    # Kill soon after the job starts: loading the ratings and torch plus fitting SLOW takes tens
    # of seconds on a busy machine but can be under 12 s on a quiet one, and a kill at any point
    # of a running job must leave the served model alone.
    time.sleep(4.0)
    assert web.jobs.get(job_id).state == "running", "training ended before the kill"
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    killed = time.monotonic()

    # The served model is unchanged, nothing new is published, the state is visible.
    with web.session() as session:
        assert [v.version for v in list_versions(session, name="sasrec")] == [1]
    assert web.recommender[0] is served_model and web.served_version == ("sasrec", 1)
    view = web.jobs.get(job_id)
    assert view.job.state == "running" and view.job.attempts == 1
    _until(lambda: web.jobs.get(job_id).state == "interrupted", 30, "the job to show interrupted")
    line = next(x for x in workers.cli("jobs").splitlines() if x.split()[0] == str(job_id))
    assert "interrupted" in line and "attempts=1" in line
    with web.session() as session:
        (v1,) = list_versions(session, name="sasrec")
    root = web.settings.artifacts_dir / "versions" / "sasrec"
    assert [p.name for p in root.iterdir() if not p.name.startswith(".")] == [Path(v1.path).name]

    # A new worker gets the unacknowledged message again and finishes the job.
    workers.start()
    _until(lambda: web.jobs.get(job_id).job.attempts == 2, 180, "the retry to start")
    restarted = time.monotonic()
    _until(lambda: web.jobs.get(job_id).state in ("done", "failed"), 420, "the retry to finish")
    print(f"retry started {restarted - killed:.1f} s after the kill, "
          f"done {time.monotonic() - restarted:.1f} s later")  # fmt: skip
    done = web.jobs.get(job_id)
    assert done.state == "done", done.job.error
    assert done.job.attempts == 2
    assert done.job.result and done.job.result["version"] == 2
    model, info = web.recommender  # model_poll_s=0: the web process looks at once
    assert web.served_version == ("sasrec", 2) and model is not served_model
    assert info.config["epochs"] == SLOW["epochs"]
    assert len(model.recommend([], n=3)) == 3
    with web.session() as session:
        versions = list_versions(session, name="sasrec")
    assert [v.version for v in versions] == [2, 1]
    published = web.settings.artifacts_dir / versions[0].path
    assert (published / "meta.json").is_file() and len(versions[0].digest) == 64
