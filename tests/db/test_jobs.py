"""Job and model-version records on SQLite, PostgreSQL and MariaDB: pages of jobs, a failed
attempt put back in the queue, versions forgotten."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from cinerec.db import jobs as store


def test_jobs_page_newest_first_before_an_id(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        ids = [store.create_job(s, name=n, args={}).id for n in ("a", "b", "a", "b", "a")]
    with session_factory.begin() as s:
        assert [j.id for j in store.list_jobs(s, limit=2)] == ids[:2:-1]
        assert [j.id for j in store.list_jobs(s, limit=2, before=ids[3])] == [ids[2], ids[1]]
        assert [j.id for j in store.list_jobs(s, name="a", before=ids[4])] == [ids[2], ids[0]]
        assert store.list_jobs(s, before=ids[0]) == []


def test_a_requeued_job_keeps_its_error_until_the_next_attempt(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory.begin() as s:
        job_id = store.create_job(s, name="train", args={}).id
        store.start_job(s, job_id=job_id, worker="h:1")
    with session_factory.begin() as s:
        again = store.requeue_job(s, job_id=job_id, error="RuntimeError: boom")
    assert (again.state, again.attempts, again.error) == ("queued", 1, "RuntimeError: boom")
    assert again.finished_at is None and again.result is None
    with session_factory.begin() as s:
        second = store.start_job(s, job_id=job_id, worker="h:1")
    assert second is not None and (second.state, second.attempts, second.error) == (
        "running",
        2,
        None,
    )


def test_versions_are_deleted_by_number_and_only_of_their_model(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory.begin() as s:
        for name in ("ease", "ease", "ease", "als"):
            store.publish_version(s, name=name, path=f"versions/{name}/x", digest="0" * 64, info={})
    with session_factory.begin() as s:
        assert store.delete_versions(s, name="ease", versions=[1, 2, 9]) == 2
        assert store.delete_versions(s, name="ease", versions=[]) == 0
    with session_factory.begin() as s:
        assert [(v.name, v.version) for v in store.list_versions(s)] == [("als", 1), ("ease", 3)]
        assert store.latest_version(s, name="ease").version == 3  # type: ignore[union-attr]
    with session_factory.begin() as s:  # numbering goes on from the newest left
        newer = store.publish_version(s, name="ease", path="p", digest="1" * 64, info={})
        assert newer.version == 4


def test_a_queued_job_cancelled_never_starts(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        job_id = store.create_job(s, name="embeddings", args={}).id
    with session_factory.begin() as s:
        cancelled = store.request_cancel(s, job_id=job_id)
    assert cancelled.state == store.CANCELLED and cancelled.attempts == 0
    assert cancelled.finished_at is not None and cancelled.cancel_requested_at is not None
    with session_factory.begin() as s:  # a worker that receives its message skips it
        assert store.start_job(s, job_id=job_id, worker="h:1") is None
        assert store.get_job(s, job_id=job_id).state == store.CANCELLED
        assert store.get_job(s, job_id=job_id).attempts == 0


def test_a_running_job_is_asked_then_stopped_and_never_requeued(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory.begin() as s:
        job_id = store.create_job(s, name="review_summaries", args={}).id
        store.start_job(s, job_id=job_id, worker="h:1")
        assert not store.cancel_requested(s, job_id=job_id)
    with session_factory.begin() as s:
        asked = store.request_cancel(s, job_id=job_id)
    assert asked.state == store.RUNNING and asked.cancel_requested_at is not None
    with session_factory.begin() as s:
        assert store.cancel_requested(s, job_id=job_id)
        # the same request again keeps the first time
        first = asked.cancel_requested_at
        assert store.request_cancel(s, job_id=job_id).cancel_requested_at == first
        # a failed attempt is not put back in the queue once a cancel was asked for
        again = store.requeue_job(s, job_id=job_id, error="Cancelled: stopped")
    assert again.state == store.CANCELLED and again.error == "Cancelled: stopped"
    with session_factory.begin() as s:
        assert store.start_job(s, job_id=job_id, worker="h:2") is None


def test_a_worker_that_died_while_asked_to_stop_is_not_run_again(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory.begin() as s:
        job_id = store.create_job(s, name="train", args={}).id
        store.start_job(s, job_id=job_id, worker="h:1")
        store.request_cancel(s, job_id=job_id)
    with session_factory.begin() as s:  # the broker redelivers the dead worker's message
        assert store.start_job(s, job_id=job_id, worker="h:2") is None
    with session_factory.begin() as s:
        job = store.get_job(s, job_id=job_id)
    assert (job.state, job.attempts) == (store.CANCELLED, 1)


def test_cancel_job_and_finished_jobs(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        running, done = (store.create_job(s, name=n, args={}).id for n in ("a", "b"))
        store.start_job(s, job_id=running, worker="h:1")
        store.start_job(s, job_id=done, worker="h:1")
        store.finish_job(s, job_id=done, result={"ok": 1})
    with session_factory.begin() as s:
        stopped = store.cancel_job(s, job_id=running, error="Cancelled: the job was cancelled")
        unchanged = store.request_cancel(s, job_id=done)
    assert stopped.state == store.CANCELLED and stopped.cancel_requested_at is not None
    assert stopped.result is None and stopped.finished_at is not None
    assert unchanged.state == store.DONE and unchanged.cancel_requested_at is None
    assert unchanged.result == {"ok": 1}


def test_a_job_asked_to_stop_is_not_an_active_duplicate(
    session_factory: sessionmaker[Session],
) -> None:
    from datetime import UTC, datetime, timedelta

    alive = datetime.now(UTC) - timedelta(seconds=60)
    with session_factory.begin() as s:
        job_id = store.create_job(s, name="embeddings", args={}).id
        store.start_job(s, job_id=job_id, worker="h:1")
        assert store.find_active_job(s, name="embeddings", args={}, alive_since=alive).id == job_id  # type: ignore[union-attr]
        store.request_cancel(s, job_id=job_id)
        assert store.find_active_job(s, name="embeddings", args={}, alive_since=alive) is None


def test_version_use_records_pin_only_while_their_heartbeat_is_fresh(
    session_factory: sessionmaker[Session],
) -> None:
    from datetime import timedelta

    from cinerec.db.tables import utcnow

    with session_factory.begin() as s:
        store.record_version_use(s, process="web:1", name="ease", version=1)
        store.record_version_use(s, process="web:1", name="ease", version=2)  # loading 2
        store.record_version_use(s, process="web:1", name="ease", version=2)  # again: one row
        store.record_version_use(s, process="web:2", name="ease", version=3)
        store.record_version_use(s, process="web:2", name="als", version=1)
    start = utcnow() - timedelta(seconds=5)
    with session_factory.begin() as s:
        assert store.versions_in_use(s, name="ease", alive_since=start) == {1, 2, 3}
        assert store.versions_in_use(s, name="als", alive_since=start) == {1}
        assert store.versions_in_use(s, name="ease", alive_since=utcnow() + timedelta(1)) == set()
        store.forget_version_use(s, process="web:1", keep=("ease", 2))  # 2 loaded
        assert store.heartbeat_version_use(s, process="web:2") == 2
        assert store.heartbeat_version_use(s, process="nobody") == 0
    with session_factory.begin() as s:
        assert store.versions_in_use(s, name="ease", alive_since=start) == {2, 3}
        assert store.forget_stale_version_use(s, before=start) == 0  # all fresh
        assert store.forget_stale_version_use(s, before=utcnow() + timedelta(seconds=5)) == 3
        assert store.versions_in_use(s, name="ease", alive_since=start - timedelta(1)) == set()
    with session_factory.begin() as s:
        store.record_version_use(s, process="web:1", name="ease", version=4)
        store.forget_version_use(s, process="web:1")  # a clean shutdown forgets them all
        assert store.versions_in_use(s, name="ease", alive_since=start) == set()
