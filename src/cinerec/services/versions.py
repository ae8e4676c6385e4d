"""Versioned model artifacts: a training job publishes a new version; web processes load it.

A version is written into a staging directory, renamed to its final name (atomic on one file
system) and only then recorded in the ``model_versions`` table. Readers load only recorded
versions, so nobody ever sees a half-written model: a job killed mid-training leaves at most
a ``.staging-*`` directory that no row points to, and the served version stays what it was.

Layout: ``<artifacts>/versions/<name>/<UTC time>-<random>/`` (the model's files and
``meta.json``); the row keeps that path relative to ``<artifacts>``, so web and workers that
mount the same directory at different places agree.

After each publish, :func:`prune` keeps the newest ``keep_model_versions`` versions of the model
(3) and deletes the older ones, row first and then directory, so no row ever points at missing
files. A version that any live process serves is never deleted: each process records the
version it serves in ``model_version_users`` (when it loads one, on its model poll, and from
:func:`heartbeat_loop`) and forgets it on a clean shutdown; a record whose heartbeat is older
than ``Settings.served_version_ttl_s`` (3 polls, at least 30 s: the process crashed or
stalled) pins nothing and is deleted. Web processes load only the newest version and hold a
loaded model in memory, so a web worker a poll behind still serves; one that finds a version's
files gone anyway (it read the row just before a prune) serves the newest complete version.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from cinerec.db.jobs import (
    ModelVersionRecord,
    delete_versions,
    forget_stale_version_use,
    latest_version,
    list_versions,
    publish_version,
    versions_in_use,
)
from cinerec.db.tables import utcnow
from cinerec.recommenders.artifacts import META_FILE
from cinerec.services.platform import Platform

log = logging.getLogger(__name__)
T = TypeVar("T")
VERSIONS = "versions"
STAGING_TTL_S = 24 * 3600.0


def directory_digest(directory: Path) -> str:
    """SHA-256 over the files of ``directory`` (relative paths and contents, sorted)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def publish(
    platform: Platform, name: str, write: Callable[[Path], T]
) -> tuple[T, ModelVersionRecord]:
    """Call ``write(directory)`` to fill a fresh directory, then publish it as the next
    version of ``name``; what ``write`` returned and the version row."""
    artifacts = platform.settings.artifacts_dir
    root = artifacts / VERSIONS / name
    root.mkdir(parents=True, exist_ok=True)
    _sweep(root)
    token = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    staging, final = root / f".staging-{token}", root / token
    try:
        out = write(staging)
        if not (staging / META_FILE).is_file():
            raise RuntimeError(f"{staging} has no {META_FILE}; nothing was published")
        digest = directory_digest(staging)
        staging.rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    info = _meta(final)
    platform.migrate()
    for _ in range(5):
        try:
            with platform.session() as session:
                record = publish_version(session, name=name, digest=digest, info=info,
                                         path=final.relative_to(artifacts).as_posix())  # fmt: skip
            break
        except IntegrityError:  # another job published the same version number first
            continue
    else:  # pragma: no cover - five publishers in a row
        raise RuntimeError(f"could not record a new version of {name}")
    log.info("published %s version %d (%s)", name, record.version, record.path)
    try:
        prune(platform, name)
    except (OSError, SQLAlchemyError) as exc:  # the new version is published all the same
        log.warning("old versions of %s not pruned: %s", name, exc)
    return out, record


def prune(platform: Platform, name: str, *, keep: int | None = None) -> list[int]:
    """Delete the published versions of ``name`` older than the newest ``keep`` (default:
    ``settings.keep_model_versions``), except the one this process serves and those that a
    process with a fresh heartbeat (``settings.served_version_ttl_s``) serves; the version
    numbers deleted, oldest first. Stale records of version use are deleted on the way.

    Rows go first (in one transaction), then the directories: a reader never finds a row whose
    files are gone, and a directory that cannot be removed is only logged.
    """
    keep = platform.settings.keep_model_versions if keep is None else keep
    if keep < 1:
        raise ValueError("keep must be at least 1: the newest version is always kept")
    served = platform.served_version
    alive_since = utcnow() - timedelta(seconds=platform.settings.served_version_ttl_s)
    with platform.session() as session:
        forget_stale_version_use(session, before=alive_since)
        in_use = versions_in_use(session, name=name, alive_since=alive_since)
        published = sorted(list_versions(session, name=name), key=lambda v: -v.version)
        old = [v for v in published[keep:]
               if served != (name, v.version) and v.version not in in_use]  # fmt: skip
        delete_versions(session, name=name, versions=[v.version for v in old])
    artifacts = platform.settings.artifacts_dir.resolve()
    for version in old:
        directory = (artifacts / version.path).resolve()
        if not directory.is_relative_to(artifacts / VERSIONS):  # a row must not reach elsewhere
            log.warning("%s version %d: %s is outside the versions directory; left in place",
                        name, version.version, version.path)  # fmt: skip
            continue
        try:
            shutil.rmtree(directory)
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("%s version %d: %s not removed: %s", name, version.version, directory, exc)
    if old:
        log.info("pruned %s versions %s", name, [v.version for v in reversed(old)])
    return [v.version for v in reversed(old)]


def heartbeat_loop(platform: Platform) -> None:
    """Until ``platform`` closes, refresh the heartbeat on the version it serves (an idle web
    worker polls for no request, and still keeps its version from being pruned); then forget
    its records. The web app runs it on a daemon thread."""
    interval = platform.settings.served_version_ttl_s / 3
    while not platform.state.closing.wait(interval):
        try:
            platform.heartbeat()
        except Exception:  # a heartbeat thread must outlive a database hiccup
            log.exception("version heartbeat failed")
    platform.release_versions()


def _sweep(root: Path, *, older_than_s: float = STAGING_TTL_S) -> None:
    """Remove staging directories that killed jobs left behind (older than a day: a job still
    writing one is never that slow)."""
    now = time.time()
    for staging in root.glob(".staging-*"):
        try:
            if now - staging.stat().st_mtime > older_than_s:
                shutil.rmtree(staging, ignore_errors=True)
        except OSError:
            continue


def _meta(directory: Path) -> dict[str, object]:
    import json

    return json.loads((directory / META_FILE).read_text(encoding="utf-8"))


def newest(platform: Platform, name: str) -> ModelVersionRecord | None:
    """The newest published version of ``name`` (None: none, or no such table yet)."""
    try:
        with platform.session() as session:
            return latest_version(session, name=name)
    except SQLAlchemyError:
        return None
