"""``GET /api/jobs`` and ``GET /api/jobs/{job_id}``: job state from the ``jobs`` table, newest
first, paged, no session needed, and nothing a job carries (arguments, result, error text).
``POST /api/jobs/{job_id}/cancel``: the one write, with the CSRF token and the operator's jobs
token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import update

from cinerec.db import jobs as store
from cinerec.db.tables import JobRow
from cinerec.services.platform import Platform
from cinerec.web.security import CSRF_HEADER

SHOWN = {"id", "name", "state", "attempts", "error_type", "created_at", "started_at",
         "heartbeat_at", "finished_at", "cancel_requested_at"}  # fmt: skip


def _jobs(platform: Platform) -> list[int]:
    """Four jobs, oldest first: done, failed, queued, and running with a dead worker."""
    with platform.session() as s:
        ids = [store.create_job(s, name=n, args={"out_dir": "/secret/path"}).id
               for n in ("train", "review_summaries", "embeddings", "evaluate")]  # fmt: skip
    with platform.session() as s:
        store.start_job(s, job_id=ids[0], worker="host:1")
        store.finish_job(s, job_id=ids[0], result={"path": "/secret/path"})
        store.start_job(s, job_id=ids[1], worker="host:1")
        store.finish_job(s, job_id=ids[1], error="MemoryError: no room in /secret/path")
        store.start_job(s, job_id=ids[3], worker="host:2")
        stale = datetime.now(UTC) - timedelta(seconds=platform.settings.job_heartbeat_s + 5)
        s.execute(update(JobRow).where(JobRow.id == ids[3]).values(heartbeat_at=stale))
    return ids


def test_jobs_are_listed_newest_first_and_show_their_state(
    client: TestClient, platform: Platform
) -> None:
    assert client.get("/api/jobs").json() == []
    ids = _jobs(platform)
    r = client.get("/api/jobs")
    assert r.status_code == 200, r.text
    listed = r.json()
    assert [j["id"] for j in listed] == ids[::-1]
    assert [j["state"] for j in listed] == ["interrupted", "queued", "failed", "done"]
    assert [j["attempts"] for j in listed] == [1, 0, 1, 1]
    assert [j["error_type"] for j in listed] == [None, None, "MemoryError", None]
    assert all(set(j) == SHOWN for j in listed)
    assert "secret" not in r.text and "host:" not in r.text  # nothing a job carries
    done = listed[-1]
    assert done["finished_at"] and done["started_at"] <= done["finished_at"]
    assert listed[1]["started_at"] is None and listed[1]["finished_at"] is None


def test_jobs_page_with_limit_and_before(client: TestClient, platform: Platform) -> None:
    ids = _jobs(platform)
    first = client.get("/api/jobs", params={"limit": 3}).json()
    assert [j["id"] for j in first] == ids[:0:-1]
    rest = client.get("/api/jobs", params={"limit": 3, "before": first[-1]["id"]}).json()
    assert [j["id"] for j in rest] == [ids[0]]
    assert client.get("/api/jobs", params={"before": ids[0]}).json() == []


def test_one_job_and_the_404_of_a_missing_one(client: TestClient, platform: Platform) -> None:
    ids = _jobs(platform)
    r = client.get(f"/api/jobs/{ids[1]}")
    assert r.status_code == 200
    assert r.json()["name"] == "review_summaries" and r.json()["state"] == "failed"
    missing = client.get(f"/api/jobs/{ids[-1] + 1}")
    assert missing.status_code == 404
    assert missing.json() == {"detail": f"There is no job {ids[-1] + 1}."}


def test_out_of_range_inputs_are_refused_in_the_error_shape(client: TestClient) -> None:
    for url, params in [
        ("/api/jobs/0", None),
        (f"/api/jobs/{2**31}", None),  # past the 32-bit id column
        ("/api/jobs", {"limit": 101}),
        ("/api/jobs", {"limit": 0}),
        ("/api/jobs", {"before": 2**31}),
    ]:
        r = client.get(url, params=params)
        assert r.status_code == 422, (url, params, r.text)
        assert set(r.json()) == {"detail"} and isinstance(r.json()["detail"], str)


def test_no_profile_is_needed_and_nothing_can_be_written(client: TestClient) -> None:
    assert client.cookies.get("cinerec_session") is None
    assert client.get("/api/jobs").status_code == 200
    r = client.post("/api/jobs", json={"name": "train"})
    assert r.status_code == 405 and "GET" in r.headers["allow"]
    assert client.delete("/api/jobs/1").status_code == 405


def test_a_job_is_cancelled_with_the_operators_token_only(
    client: TestClient, platform: Platform
) -> None:
    ids = _jobs(platform)  # done, failed, queued, running (its worker dead)
    queued = ids[2]
    off = client.post(f"/api/jobs/{queued}/cancel")  # the server has no jobs token
    assert off.status_code == 403 and "CINEREC_JOBS_TOKEN" in off.json()["detail"]
    platform.settings.jobs_token = SecretStr("s3cret-operator-token")
    wrong = ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-operator-token"})
    for header in wrong:
        assert client.post(f"/api/jobs/{queued}/cancel", headers=header).status_code == 403
    assert client.get(f"/api/jobs/{queued}").json()["state"] == "queued"  # nothing changed
    auth = {"Authorization": "Bearer s3cret-operator-token"}
    forged = client.post(f"/api/jobs/{queued}/cancel", headers={**auth, CSRF_HEADER: "forged"})
    assert forged.status_code == 403
    assert client.get(f"/api/jobs/{queued}").json()["state"] == "queued"
    r = client.post(f"/api/jobs/{queued}/cancel", headers=auth)
    assert r.status_code == 200, r.text
    cancelled = r.json()
    assert set(cancelled) == SHOWN and cancelled["state"] == "cancelled"
    assert cancelled["cancel_requested_at"] and cancelled["finished_at"]
    assert client.get("/api/jobs").json()[1]["state"] == "cancelled"
    done = client.post(f"/api/jobs/{ids[0]}/cancel", headers=auth).json()
    assert done["state"] == "done" and done["cancel_requested_at"] is None
    missing = client.post(f"/api/jobs/{ids[-1] + 1}/cancel", headers=auth)
    assert missing.status_code == 404


def test_a_running_job_shows_cancelling_until_its_worker_stops_it(
    client: TestClient, platform: Platform
) -> None:
    with platform.session() as s:
        job_id = store.create_job(s, name="train", args={}).id
        store.start_job(s, job_id=job_id, worker="host:9")  # a worker elsewhere runs it
    platform.settings.jobs_token = SecretStr("t")
    r = client.post(f"/api/jobs/{job_id}/cancel", headers={"Authorization": "Bearer t"})
    assert r.status_code == 200 and r.json()["state"] == "cancelling"
    with platform.session() as s:
        assert store.cancel_requested(s, job_id=job_id)  # what that worker reads
        store.cancel_job(s, job_id=job_id, error="Cancelled: the job was cancelled")
    shown = client.get(f"/api/jobs/{job_id}").json()
    assert shown["state"] == "cancelled" and shown["error_type"] == "Cancelled"
