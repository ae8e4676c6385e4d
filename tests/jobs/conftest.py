"""Brokers for the job tests: the real Redis and RabbitMQ (skipped where absent, except
under CI), each test on its own queue / key namespace."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cinerec.config import Settings
from cinerec.data.types import Movie
from cinerec.db import repository as repo
from cinerec.llm.backends.cancel import CancelToken
from cinerec.services.platform import Platform
from tests.conftest import _required_under_ci

REDIS_URL = os.environ.get("CINEREC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("CINEREC_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
N_MOVIES, N_USERS = 30, 50
REPO = Path(__file__).resolve().parents[2]
HEARTBEAT_S = 2.0


def _redis_ok(url: str) -> str | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no Redis here"
        return f"{type(exc).__name__}: {exc}"
    return None


def _amqp_ok(url: str) -> str | None:
    import pika

    try:
        pika.BlockingConnection(pika.URLParameters(url)).close()
    except Exception as exc:  # noqa: BLE001 - any failure means "no RabbitMQ here"
        return f"{type(exc).__name__}: {exc}"
    return None


def _cleanup(url: str, queue: str) -> None:
    if url.startswith("redis"):
        import redis

        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(f"{queue}:*"))
        if keys:
            client.delete(*keys)
        return
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
        channel.queue_delete(name)
    connection.close()


@pytest.fixture(params=["redis", "rabbitmq"])
def broker_url(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(URL, a fresh queue name) of a real broker; the queue is deleted afterwards."""
    url = REDIS_URL if request.param == "redis" else AMQP_URL
    problem = _redis_ok(url) if request.param == "redis" else _amqp_ok(url)
    if problem:
        _required_under_ci(f"no {request.param} at {url}: {problem}")
    queue = f"cinerec-test-{uuid.uuid4().hex[:10]}"
    yield url, queue
    _cleanup(url, queue)


def tiny_ratings(seed: int = 0) -> pd.DataFrame:
    """An ml-latest-small look-alike: 50 users, 30 movies, 7 ratings each."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(1, N_USERS + 1):
        pool = [i for i in range(1, N_MOVIES + 1) if i % 3 == user % 3]
        for t, item in enumerate(rng.choice(pool, size=7, replace=False)):
            rows.append((user, int(item), float(rng.integers(3, 6)), 1_000_000 + 60 * t))
    return pd.DataFrame(rows, columns=["userId", "movieId", "rating", "timestamp"])


MakePlatform = Callable[..., Platform]


@contextmanager
def tiny_platforms(tmp_path: Path) -> Iterator[MakePlatform]:
    """Makes platforms sharing one home on the tiny data set, catalog already in the database;
    closes their job runners and engines at the end."""
    data = tmp_path / "data"
    (data / "ml-latest-small").mkdir(parents=True)
    tiny_ratings().to_csv(data / "ml-latest-small" / "ratings.csv", index=False)
    made: list[Platform] = []

    def make(**settings: object) -> Platform:
        s = Settings(home=tmp_path / "home", data_dir=data, llm_backend="none",
                     warm_embeddings=False, review_summaries=False, **settings)  # type: ignore[arg-type]  # fmt: skip
        platform = Platform(s)
        platform.migrate()
        movies = [Movie(movie_id=i, title=f"Film {i}") for i in range(1, N_MOVIES + 1)]
        with platform.session() as session:
            repo.upsert_movies(session, movies=movies, popularity={})
        made.append(platform)
        return platform

    try:
        yield make
    finally:
        for platform in made:
            if "jobs" in platform.__dict__:
                platform.jobs.close()
            platform.engine.dispose()


@pytest.fixture
def make_platform(tmp_path: Path) -> Iterator[MakePlatform]:
    """See :func:`tiny_platforms`."""
    with tiny_platforms(tmp_path) as make:
        yield make


def flaky_tasks(fails: int) -> tuple[dict[str, Any], list[int]]:
    """A task that raises on its first ``fails`` runs, then succeeds; and the list of the
    attempt numbers the table showed on each run."""
    seen: list[int] = []
    lock = threading.Lock()

    def task(platform: Platform, args: dict[str, Any], *, cancel: CancelToken) -> dict[str, Any]:
        with lock:
            seen.append(len(seen) + 1)
            if len(seen) <= fails:
                raise RuntimeError(f"run {len(seen)} fails")
        return {"runs": len(seen)}

    return {"flaky": task}, seen


class Patient:
    """A task that works in ``step_s`` steps for up to ``most_s`` seconds, checking its cancel
    token before each step (as the real tasks do between movies, batches and epochs).

    ``started`` is set when a run begins; ``stopped_at`` is the :func:`time.monotonic` time it
    saw its token cancelled; ``runs`` counts the runs.
    """

    def __init__(self, *, step_s: float = 0.01, most_s: float = 60.0) -> None:
        self.step_s, self.most_s = step_s, most_s
        self.started = threading.Event()
        self.stopped_at: float | None = None
        self.runs = 0

    def reset(self) -> None:
        """As new (one instance serves several tests)."""
        self.started.clear()
        self.stopped_at, self.runs = None, 0

    def __call__(
        self, platform: Platform, args: dict[str, Any], *, cancel: CancelToken
    ) -> dict[str, Any]:
        self.runs += 1
        self.started.set()
        steps, end = 0, time.monotonic() + self.most_s
        while time.monotonic() < end:
            if cancel.cancelled:
                self.stopped_at = time.monotonic()
            cancel.check("The patient job", tokens=steps)
            time.sleep(self.step_s)
            steps += 1
        return {"steps": steps}


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

    def start(self, *command: str) -> subprocess.Popen[bytes]:
        """A worker: ``cinerec -v worker``, or ``python <command>`` (a worker-style script)."""
        log = (self.logs / f"worker-{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, *(command or ("-m", "cinerec.cli", "-v", "worker"))],
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
