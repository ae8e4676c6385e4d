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
