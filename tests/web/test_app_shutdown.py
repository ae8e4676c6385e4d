"""Stopping the web app stops its warm-ups: the platform closes at SIGTERM, so a queued list of
reasons warm-ups (each a model call) does not hold the stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from cinerec.services.platform import Platform
from tests.conftest import REPO
from tests.web.conftest import open_client
from tests.web.servers import free_port, stop_server

USERS, DELAY_S = 6, 1.5


def test_the_app_closes_its_platform_when_it_stops(platform: Platform) -> None:
    with open_client(platform) as client:
        assert client.get("/api/jobs").status_code == 200
        assert not platform.closing
    assert platform.closing


def test_the_app_keeps_its_served_version_pinned_and_forgets_it_when_it_stops(
    platform: Platform,
) -> None:
    import threading

    from sqlalchemy import select

    from cinerec.db.tables import ModelVersionUserRow

    def users() -> list[tuple[str, int]]:
        with platform.session() as session:
            rows = session.scalars(select(ModelVersionUserRow))
            return [(row.process, row.version) for row in rows]

    with open_client(platform) as client:
        platform.set_recommender(*platform.recommender, version=7)  # as after loading one
        assert client.get("/api/jobs").status_code == 200
        assert users() == [(platform.process, 7)]
        names = {t.name for t in threading.enumerate()}
        assert "cinerec-version-heartbeat" in names
    assert users() == []  # a clean stop: other processes may prune version 7 now


def test_sigterm_does_not_wait_for_the_queued_warm_ups(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "server.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)])}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.web.warm_server", str(tmp_path), str(port),
             str(USERS), str(DELAY_S)],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None:
                try:  # its answer is followed by the queued warm-ups
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.3)
            else:
                raise AssertionError(f"server did not come up: {log.read_text()[-2000:]}")
            while "model call" not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.05)  # the first warm-up is in its model call
            stopped = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=USERS * DELAY_S + 30)
            took = time.monotonic() - stopped
        finally:
            stop_server(proc, grace_s=5)
    text = log.read_text()
    calls = text.count("model call")
    # the running call ends (at most DELAY_S); the rest of the list would take USERS * DELAY_S
    assert took < DELAY_S + 2.5, f"stop took {took:.1f} s, {calls} model calls\n{text[-3000:]}"
    assert 1 <= calls < USERS, text[-3000:]
    assert code in (0, -signal.SIGTERM), text[-3000:]
