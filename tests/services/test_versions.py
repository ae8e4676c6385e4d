"""Versioned artifacts: publish after the files are complete; every platform follows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cinerec.config import Settings
from cinerec.data.types import Interactions
from cinerec.db.jobs import list_versions
from cinerec.recommenders.artifacts import train_artifact
from cinerec.services import versions
from cinerec.services.platform import Platform
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
