"""Versioned artifacts: publish after the files are complete; every platform follows."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from cinerec.config import Settings
from cinerec.data.types import Interactions
from cinerec.db.jobs import list_versions
from cinerec.recommenders.artifacts import train_artifact
from cinerec.services import platform as platform_module
from cinerec.services import versions
from cinerec.services.platform import Platform
from tests.db.conftest import BACKENDS, fresh_database_url  # noqa: F401 - shared_url's fixture
from tests.jobs.conftest import tiny_ratings


@pytest.fixture
def platforms(tmp_path: Path) -> Iterator[tuple[Platform, Platform]]:
    """A "worker" and a "web" platform on one home; the web looks for new versions each call."""
    made = []
    for poll in (2.0, 0.0):
        s = Settings(home=tmp_path, llm_backend="none", recommender="ease", model_poll_s=poll)
        made.append(Platform(s))
    made[0].migrate()
    yield made[0], made[1]
    for p in made:
        p.engine.dispose()


def _ease(directory: Path, seed: int = 0):  # noqa: ANN202
    frame = tiny_ratings(seed).rename(columns={"userId": "user_id", "movieId": "item_id"})
    return train_artifact("ease", Interactions(frame), directory)


def test_a_published_version_is_served_by_every_platform(
    platforms: tuple[Platform, Platform],
) -> None:
    worker, web = platforms
    (_, info), v1 = versions.publish(worker, "ease", _ease)
    assert v1.version == 1 and len(v1.digest) == 64
    assert versions.directory_digest(worker.settings.artifacts_dir / v1.path) == v1.digest
    assert web.recommender[1].version == info.version and web.served_version == ("ease", 1)
    first = web.recommender[0]
    (_, info2), v2 = versions.publish(worker, "ease", lambda d: _ease(d, seed=1))
    assert v2.version == 2 and v2.path != v1.path and v2.digest != v1.digest
    assert web.recommender[0] is not first and web.served_version == ("ease", 2)
    assert web.recommender[1].data_fingerprint == info2.data_fingerprint


def test_a_failed_write_publishes_nothing_and_the_served_model_stays(
    platforms: tuple[Platform, Platform],
) -> None:
    worker, web = platforms
    versions.publish(worker, "ease", _ease)
    served = web.recommender[0]

    def dies_midway(directory: Path) -> None:
        directory.mkdir(parents=True)
        (directory / "model.npz").write_bytes(b"half")
        raise MemoryError("killed while saving")

    with pytest.raises(MemoryError):
        versions.publish(worker, "ease", dies_midway)
    with pytest.raises(RuntimeError, match="no meta.json"):
        versions.publish(worker, "ease", lambda d: d.mkdir(parents=True))
    with worker.session() as session:
        assert [v.version for v in list_versions(session, name="ease")] == [1]
    root = worker.settings.artifacts_dir / "versions" / "ease"
    assert len(list(root.iterdir())) == 1  # no staging directory left behind
    assert web.recommender[0] is served and web.served_version == ("ease", 1)


def test_a_corrupt_new_version_keeps_the_current_model_serving(
    platforms: tuple[Platform, Platform],
) -> None:
    worker, web = platforms
    versions.publish(worker, "ease", _ease)
    served = web.recommender[0]
    _, v2 = versions.publish(worker, "ease", lambda d: _ease(d, seed=1))
    (worker.settings.artifacts_dir / v2.path / "meta.json").write_text("{broken")
    assert web.recommender[0] is served and web.served_version == ("ease", 1)


def test_a_killed_job_s_old_staging_directory_is_swept(
    platforms: tuple[Platform, Platform],
) -> None:
    import os

    worker, _ = platforms
    root = worker.settings.artifacts_dir / "versions" / "ease"
    old, fresh = root / ".staging-old", root / ".staging-fresh"
    for directory in (old, fresh):
        directory.mkdir(parents=True)
        (directory / "model.npz").write_bytes(b"half")
    two_days_ago = os.stat(old).st_mtime - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    versions.publish(worker, "ease", _ease)
    assert not old.exists() and fresh.exists()  # a recent one may belong to a running job


def _on_disk(platform: Platform) -> set[str]:
    root = platform.settings.artifacts_dir
    return {p.relative_to(root).as_posix() for p in (root / "versions" / "ease").iterdir()}


def _rows(platform: Platform) -> list[int]:
    with platform.session() as session:
        return [v.version for v in list_versions(session, name="ease")]


def test_a_publish_keeps_the_newest_versions_and_deletes_the_rest(
    platforms: tuple[Platform, Platform],
) -> None:
    worker, web = platforms
    assert worker.settings.keep_model_versions == 3  # the default
    published = [versions.publish(worker, "ease", lambda d, k=k: _ease(d, seed=k))[1]
                 for k in range(5)]  # fmt: skip
    assert _rows(worker) == [5, 4, 3]
    assert _on_disk(worker) == {v.path for v in published[2:]}  # rows and directories agree
    assert web.recommender[1].version and web.served_version == ("ease", 5)  # loads the newest
    assert versions.prune(worker, "ease") == []  # nothing more to do


def test_the_served_version_is_never_pruned(tmp_path: Path) -> None:
    s = Settings(home=tmp_path, llm_backend="none", recommender="ease", model_poll_s=3600,
                 keep_model_versions=1)  # fmt: skip
    platform = Platform(s)
    platform.migrate()
    first = versions.publish(platform, "ease", _ease)[1]
    assert platform.served_version is None
    platform.recommender  # noqa: B018 - loads version 1, and with a long poll keeps it
    assert platform.served_version == ("ease", 1)
    versions.publish(platform, "ease", lambda d: _ease(d, seed=1))
    third = versions.publish(platform, "ease", lambda d: _ease(d, seed=2))[1]
    assert _rows(platform) == [3, 1]  # 2 went; 1 is served here
    assert _on_disk(platform) == {first.path, third.path}
    assert platform.recommender[0] is not None  # still serving what it loaded
    platform.set_recommender(*platform.recommender, version=3)  # now serving 3
    assert versions.prune(platform, "ease") == [1]
    assert _rows(platform) == [3] and _on_disk(platform) == {third.path}
    platform.engine.dispose()


def test_prune_keeps_at_least_one_and_leaves_other_models_alone(
    platforms: tuple[Platform, Platform],
) -> None:
    worker, _ = platforms
    for seed in range(2):
        versions.publish(worker, "ease", lambda d, k=seed: _ease(d, seed=k))
    with pytest.raises(ValueError, match="at least 1"):
        versions.prune(worker, "ease", keep=0)
    assert versions.prune(worker, "als", keep=1) == []
    assert versions.prune(worker, "ease", keep=1) == [1] and _rows(worker) == [2]


def test_a_row_pointing_outside_the_versions_directory_leaves_the_files(
    platforms: tuple[Platform, Platform],
) -> None:
    from cinerec.db.jobs import publish_version

    worker, _ = platforms
    outside = worker.settings.home / "elsewhere"
    outside.mkdir(parents=True)
    with worker.session() as session:
        publish_version(session, name="ease", path="../elsewhere", digest="0" * 64, info={})
    versions.publish(worker, "ease", _ease)
    assert versions.prune(worker, "ease", keep=1) == [1]
    assert outside.is_dir()  # the row is gone, the files it named stay


# Several processes: a version another live process serves is kept ------------------------------
@pytest.fixture(params=BACKENDS)
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """One database that two "processes" share: SQLite, and the PostgreSQL and MariaDB servers
    of tests/db (skipped when unreachable, required under CI)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    make = request.getfixturevalue("fresh_database_url")
    return make(request.param).render_as_string(hide_password=False)


def _process(home: Path, url: str, **settings: object) -> Platform:
    values: dict[str, object] = {"llm_backend": "none", "recommender": "ease", "model_poll_s": 3600}
    return Platform(Settings(home=home, database_url=url, **(values | settings)))  # type: ignore[arg-type]


def _users(platform: Platform) -> dict[str, set[int]]:
    from sqlalchemy import select

    from cinerec.db.tables import ModelVersionUserRow

    found: dict[str, set[int]] = {}
    with platform.session() as session:
        for row in session.scalars(select(ModelVersionUserRow)):
            found.setdefault(row.process, set()).add(row.version)
    return found


def _age_heartbeats(platform: Platform, process: str, seconds: float) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from cinerec.db.tables import ModelVersionUserRow, utcnow

    with platform.session() as session:
        session.execute(
            update(ModelVersionUserRow)
            .where(ModelVersionUserRow.process == process)
            .values(heartbeat_at=utcnow() - timedelta(seconds=seconds))
        )


def test_a_version_another_live_process_serves_is_pruned_only_once_its_heartbeat_is_stale(
    tmp_path: Path, shared_url: str
) -> None:
    job = _process(tmp_path, shared_url, keep_model_versions=1)
    web = _process(tmp_path, shared_url)
    job.migrate()
    try:
        first = versions.publish(job, "ease", _ease)[1]
        assert web.recommender[0] is not None and web.served_version == ("ease", 1)
        assert _users(web) == {web.process: {1}} and job.served_version is None
        versions.publish(job, "ease", lambda d: _ease(d, seed=1))
        third = versions.publish(job, "ease", lambda d: _ease(d, seed=2))[1]
        assert _rows(job) == [3, 1]  # 2 went; the web serves 1 (the job process serves none)
        assert _on_disk(job) == {first.path, third.path}
        assert web.served_version == ("ease", 1)  # a long poll: it has not looked yet
        stale = job.settings.served_version_ttl_s + 1
        _age_heartbeats(web, web.process, stale)  # the web process stalled (or crashed)
        fourth = versions.publish(job, "ease", lambda d: _ease(d, seed=3))[1]
        assert _rows(job) == [4] and _on_disk(job) == {fourth.path}
        assert _users(job) == {}  # the stale record went with it
    finally:
        for p in (job, web):
            p.engine.dispose()


def test_a_process_follows_the_new_version_and_forgets_its_old_one_on_shutdown(
    tmp_path: Path, shared_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = _process(tmp_path, shared_url, keep_model_versions=1)
    web = _process(tmp_path, shared_url, model_poll_s=0)
    job.migrate()
    try:
        versions.publish(job, "ease", _ease)
        web.recommender  # noqa: B018 - loads version 1
        versions.publish(job, "ease", lambda d: _ease(d, seed=1))
        assert _rows(job) == [2, 1]
        web.recommender  # noqa: B018 - polls: loads 2 and stops pinning 1
        assert web.served_version == ("ease", 2) and _users(web) == {web.process: {2}}
        # A stale record refreshed by the poll is written again (it was cleaned meanwhile).
        _age_heartbeats(web, web.process, job.settings.served_version_ttl_s + 1)
        assert versions.prune(job, "ease") == [1] and _users(job) == {}
        later = time.monotonic() + job.settings.served_version_ttl_s
        monkeypatch.setattr(platform_module, "time", SimpleNamespace(monotonic=lambda: later))
        web.heartbeat()
        assert _users(web) == {web.process: {2}}
        web.close()  # clean shutdown: the heartbeat loop ends at once and forgets the record
        versions.heartbeat_loop(web)
        assert _users(web) == {}
    finally:
        for p in (job, web):
            p.engine.dispose()


def test_a_process_whose_version_s_files_are_gone_serves_the_newest_complete_one(
    platforms: tuple[Platform, Platform], caplog: pytest.LogCaptureFixture
) -> None:
    import shutil

    worker, web = platforms
    versions.publish(worker, "ease", _ease)
    second = versions.publish(worker, "ease", lambda d: _ease(d, seed=1))[1]
    shutil.rmtree(worker.settings.artifacts_dir / second.path)  # pruned just after its row was read
    with caplog.at_level("WARNING", logger="cinerec.services.platform"):
        assert web.recommender[0] is not None
    assert web.served_version == ("ease", 1)
    assert "ease version 2: its files are gone" in caplog.text
    assert "ease version 1 serves instead of version 2" in caplog.text
    assert _users(web) == {web.process: {1}}  # the missing version is not pinned
    caplog.clear()
    web.recommender  # noqa: B018 - the next poll does not try the missing one again
    assert "files are gone" not in caplog.text and web.served_version == ("ease", 1)
    versions.publish(worker, "ease", lambda d: _ease(d, seed=2))
    assert web.served_version is not None and web.recommender[0] is not None
    assert web.served_version == ("ease", 3)


def test_with_no_complete_version_at_all_the_first_load_fails(
    platforms: tuple[Platform, Platform],
) -> None:
    import shutil

    from cinerec.errors import ModelError

    worker, web = platforms
    only = versions.publish(worker, "ease", _ease)[1]
    shutil.rmtree(worker.settings.artifacts_dir / only.path)
    with pytest.raises(ModelError, match="no published version of ease has its files"):
        web.recommender  # noqa: B018
    assert _users(web) == {}


def test_a_version_pruned_half_way_through_its_load_counts_as_gone(
    platforms: tuple[Platform, Platform], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The web read version 2's row; a prune elsewhere deletes the row, then the files, and
    the load finds meta.json but not the model: version 1 serves, not an error."""
    from cinerec.db.jobs import delete_versions

    worker, web = platforms
    versions.publish(worker, "ease", _ease)
    second = versions.publish(worker, "ease", lambda d: _ease(d, seed=1))[1]
    real = platform_module.load_artifact

    def pruned_meanwhile(directory: Path):  # noqa: ANN202
        if directory.name == Path(second.path).name:
            with worker.session() as session:
                delete_versions(session, name="ease", versions=[2])
            for path in directory.iterdir():
                if path.name != "meta.json":
                    path.unlink()
        return real(directory)

    monkeypatch.setattr(platform_module, "load_artifact", pruned_meanwhile)
    assert web.recommender[0] is not None and web.served_version == ("ease", 1)
    assert _users(web) == {web.process: {1}}
