"""Faults: a `cinerec worker` killed (SIGKILL) mid-training leaves the served model unchanged
and the job's state visible; a retry on a new worker completes and publishes a new version.

Real processes, a real broker (Redis and RabbitMQ), a real SASRec training."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cinerec.db.jobs import list_versions
from cinerec.services import ingest
from cinerec.services.platform import Platform
from tests.jobs.conftest import MakePlatform

REPO = Path(__file__).resolve().parents[2]
QUICK = {"max_len": 8, "hidden": 16, "layers": 1, "heads": 1, "epochs": 1}
SLOW = {**QUICK, "epochs": 3000}  # about 40 s of fitting on a quiet 2-core machine
HEARTBEAT_S = 2.0


def _env(platform: Platform) -> dict[str, str]:
    s = platform.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("CINEREC_")}
    env.update(
        PYTHONPATH=os.pathsep.join([str(REPO / "src"), str(REPO)]),
        CINEREC_HOME=str(s.home), CINEREC_DATA_DIR=str(s.data_dir),
        CINEREC_BROKER_URL=s.broker_url or "", CINEREC_JOB_QUEUE=s.job_queue,
        CINEREC_JOB_HEARTBEAT_S=str(HEARTBEAT_S), CINEREC_LLM_BACKEND="none",
        CINEREC_RECOMMENDER=s.recommender,
    )  # fmt: skip
    return env


class Workers:
    """`cinerec worker` subprocesses, logs under the test's directory; all ended at the end."""

    def __init__(self, platform: Platform, logs: Path) -> None:
        self.platform, self.logs, self.procs = platform, logs, []  # type: list[subprocess.Popen[bytes]]

    def start(self) -> subprocess.Popen[bytes]:
        log = (self.logs / f"worker-{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "cinerec.cli", "-v", "worker"],
            cwd=REPO, env=_env(self.platform), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.procs.append(proc)
        return proc

    def cli(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "cinerec.cli", *args], cwd=REPO, env=_env(self.platform),
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        return out.stdout

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()


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
