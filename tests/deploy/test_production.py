"""The Procfile's web line really runs: 2 uvicorn workers on PostgreSQL, both answering, a
worker killed mid-request losing nothing stored, and a clean stop.

Needs the real PostgreSQL at ``CINEREC_TEST_POSTGRES_URL`` (default 127.0.0.1:5432, db
``test``); each run creates and drops its own database. Skipped without a server, except
under CI.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from benchmarks.load.stack import ProductionWeb, admin_url, fresh_database

pytestmark = [pytest.mark.db, pytest.mark.slow]


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    try:
        with fresh_database(admin_url()) as url:
            yield url
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "no server here"
        if "CREATE DATABASE" in str(exc) or "connect" in str(exc).lower():
            if _in_ci():
                pytest.fail(f"PostgreSQL unavailable: {exc} (required under CI)")
            pytest.skip(f"PostgreSQL unavailable: {exc}")
        raise


def _session(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    token = client.get("/api/csrf").json()["csrf_token"]
    client.headers["X-CSRF-Token"] = token
    assert client.post("/api/profile", json={"name": "load"}).status_code == 200
    return client


def test_two_workers_answer_survive_a_killed_worker_and_stop_cleanly(
    database: str, real_data_dir: Path, tmp_path: Path
) -> None:
    from sqlalchemy import create_engine, text

    web = ProductionWeb(
        database, workers=2, home=tmp_path / "home", env={"CINEREC_DATA_DIR": str(real_data_dir)}
    )
    with web:
        first = web.worker_pids()
        assert len(first) == 2, web.log_tail()
        clients: list[httpx.Client] = []
        try:
            for _round in range(5):  # open connections at once; the kernel hands them out
                batch = [httpx.Client(base_url=web.base_url, timeout=30) for _ in range(16)]
                clients += batch
                with ThreadPoolExecutor(16) as pool:
                    codes = list(pool.map(lambda c: c.get("/api/movies/1").status_code, batch))
                assert codes == [200] * 16
                serving = web.connections_by_worker()
                if len(serving) == 2 and all(n > 0 for n in serving.values()):
                    break
        finally:
            for c in clients:
                c.close()
        assert set(serving) == set(first) and all(n > 0 for n in serving.values()), serving
        client = _session(web.base_url)
        acked: list[int] = []
        errors: list[str] = []
        stop = threading.Event()

        def post_feedback() -> None:
            movie_ids = [1, 2, 3, 5, 6, 10, 260, 296, 318, 356]
            k = 0
            while not stop.is_set():
                for _attempt in range(20):  # a cut connection is retried; an answer never is
                    try:
                        r = client.post(
                            "/api/feedback",
                            json={"movie_id": movie_ids[k % len(movie_ids)], "kind": "watched"},
                        )
                    except httpx.TransportError:
                        time.sleep(0.1)
                        continue
                    if r.status_code == 200:
                        acked.append(r.json()["id"])
                    else:
                        errors.append(f"{r.status_code} {r.text[:200]}")
                    break
                k += 1

        writer = threading.Thread(target=post_feedback)
        writer.start()
        try:
            time.sleep(2)
            web.kill_worker(first[0])  # the other worker carries on meanwhile
            time.sleep(3)
            deadline = time.monotonic() + 60
            while len(web.worker_pids()) < 2 and time.monotonic() < deadline:
                time.sleep(0.5)
            replaced = web.worker_pids()
            assert len(replaced) == 2 and first[0] not in replaced, web.log_tail()
            web.kill_worker(first[1])  # now the replacement answers alone
            time.sleep(3)
        finally:
            stop.set()
            writer.join(60)
        assert not errors, errors[:3]
        assert len(acked) > 10
        user_answers = client.get("/api/profile")
        assert user_answers.status_code == 200  # the session survived both kills

        engine = create_engine(database)
        try:
            with engine.connect() as conn:
                stored = set(conn.execute(text("SELECT id FROM feedback")).scalars())
        finally:
            engine.dispose()
        assert set(acked) <= stored  # every acknowledged write is stored
        client.close()
    assert web.process is not None and web.process.returncode is not None
    time.sleep(1)
    assert all(not Path(f"/proc/{p}").exists() for p in first + replaced)
