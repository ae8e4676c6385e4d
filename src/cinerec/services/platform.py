"""The assembled platform: database, trained recommender and language model, built once.

Everything is created lazily from :class:`~cinerec.config.Settings` so that a server starts fast
and a test can swap one part (``Platform(settings, llm=FakeBackend(...))``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from cinerec.config import Settings
from cinerec.db.engine import make_engine, make_session_factory, upgrade
from cinerec.db.jobs import (
    ModelVersionRecord,
    forget_version_use,
    heartbeat_version_use,
    latest_version,
    list_versions,
    record_version_use,
)
from cinerec.errors import ModelError
from cinerec.llm.backends.base import LLMBackend
from cinerec.llm.backends.gate import GatedBackend, Priority, PriorityGate
from cinerec.llm.backends.registry import build_backend
from cinerec.recommenders.artifacts import META_FILE, ArtifactInfo, load_artifact
from cinerec.recommenders.base import Recommender
from cinerec.services.state import PlatformState
from cinerec.services.streams import SharedStreams

if TYPE_CHECKING:
    from cinerec.jobs.base import JobRunner

log = logging.getLogger(__name__)

_UNSET = object()
FALLBACK_RECOMMENDER = "als"
"""Trained in seconds; serves while a slower configured recommender is still training.

(Not EASE: on all 9,724 movies of ml-latest-small its items x items inverse takes about
50 CPU-seconds and a 378 MB artifact.)"""


class Platform:
    """Holds the long-lived parts. Thread-safe lazy loading; one per process."""

    def __init__(
        self,
        settings: Settings,
        *,
        llm: LLMBackend | None | object = _UNSET,
        recommender: tuple[Recommender, ArtifactInfo] | None = None,
    ) -> None:
        self.settings = settings
        self._llm = llm
        self._recommender = recommender
        self._pinned = recommender is not None  # an injected model is never swapped
        self._fallback_in_use = False
        self._served_version: tuple[str, int] | None = None
        self._polled = float("-inf")
        self._beat = float("-inf")
        self._gone: set[tuple[str, int]] = set()  # published versions whose files were missing
        self.process = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        """Who this platform is in ``model_version_users`` (host:pid, and a token: two
        platforms of one process, as in tests, are two users)."""
        self._lock = threading.Lock()
        self.shared_streams: SharedStreams[Any] = SharedStreams()
        """Producers that several listeners share (a run's reasons stream)."""
        self.state = PlatformState()
        """The services' caches, indexes, build flags and warm-up queues (one holder each)."""

        self.llm_gate = PriorityGate(
            settings.llm_slots,
            {
                Priority.PAGE: settings.llm_page_wait_s,
                Priority.CHAT: settings.llm_chat_wait_s,
                Priority.WARMUP: settings.llm_warmup_wait_s,
            },
            warmup_quiet_s=settings.llm_warmup_quiet_s,
        )
        """Every model call of this process waits here: pages, then chat, then warm-ups."""

    def run_deferred(self) -> int:
        """Run the work services asked for after a change (:class:`~cinerec.services.state.
        DeferredWork`, e.g. reasons warm-ups); the web app calls it after each answer. A
        failing task is logged, never raised; once the platform is closing the tasks left are
        dropped. Returns how many tasks ran."""
        tasks = self.state.deferred.take()
        for ran, task in enumerate(tasks):
            if self.closing:
                log.info("shutting down: %d deferred task(s) dropped", len(tasks) - ran)
                return ran
            try:
                task()
            except Exception:  # deferred work must never break the request that ran it
                log.exception("deferred task %r failed", task)
        return len(tasks)

    @property
    def closing(self) -> bool:
        """True once :meth:`close` was called: background work stops at its next check."""
        return self.state.closing.is_set()

    def close(self) -> None:
        """The process is stopping: warm-ups and deferred work stop before their next model
        call, a warm-up's model call already waiting or running is cancelled
        (:attr:`~cinerec.services.state.PlatformState.shutdown`: it stops at the backend's next
        check), and work still waiting is dropped when its turn comes, so a shutdown never
        waits for a queue of warm-ups. Requests are still answered. Only sets events (none of
        the services' locks), so a signal handler may call it."""
        self.state.closing.set()
        self.state.shutdown.cancel("the process is stopping")

    # Database ---------------------------------------------------------------------------------
    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.resolved_database_url)

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    def migrate(self) -> None:
        """Bring the database schema to the newest migration."""
        upgrade(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any error (nothing half-saved)."""
        with self.session_factory() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    # Recommender ------------------------------------------------------------------------------
    def artifact_dir(self, name: str | None = None) -> Path:
        return self.settings.artifacts_dir / (name or self.settings.recommender)

    @property
    def recommender(self) -> tuple[Recommender, ArtifactInfo]:
        """The trained candidate generator and its metadata (loaded on first use).

        The newest *published* version of the configured recommender serves (a training job
        publishes one, :mod:`cinerec.services.versions`); at most every ``model_poll_s`` a
        call looks for a newer one and swaps it in, so every web process follows the jobs.
        Without a published version, the artifact under :meth:`artifact_dir` serves (``cinerec
        train`` of older releases). While the configured recommender is not trained yet, the
        quick :data:`FALLBACK_RECOMMENDER` serves if it is, and the configured one takes over
        as soon as it appears; ``info.name`` says which one is in use.
        """
        with self._lock:
            now = time.monotonic()
            if self._recommender is None or (
                not self._pinned and now - self._polled >= self.settings.model_poll_s
            ):
                self._polled = now
                self._refresh()
                self._heartbeat(now)
            assert self._recommender is not None
            return self._recommender

    def _newest(self, name: str) -> ModelVersionRecord | None:
        try:
            with self.session() as session:
                return latest_version(session, name=name)
        except SQLAlchemyError:  # no such table yet (an old database before `migrate`)
            return None

    def _load_version(self, version: ModelVersionRecord) -> bool:
        """Serve ``version``; False (the current model keeps serving) if it cannot be loaded.

        Its use is recorded before its files are read (pruning elsewhere keeps them). Files
        that are gone (pruned under this process, or deleted by hand) are no failure: the
        newest complete version serves instead, with a warning (:meth:`_load_newest_complete`).
        """
        key = (version.name, version.version)
        self._record_use(key)
        try:
            loaded = load_artifact(self.settings.artifacts_dir / version.path)
        except ModelError:
            if not self._complete(version) or self._pruned(version):
                return self._load_newest_complete(version)
            self._drop_uses()
            if self._recommender is None:
                raise
            log.exception("%s version %d not loaded; the current model keeps serving",
                          version.name, version.version)  # fmt: skip
            return False
        self._set(loaded, key)
        return True

    def _complete(self, version: ModelVersionRecord) -> bool:
        return (self.settings.artifacts_dir / version.path / META_FILE).is_file()

    def _pruned(self, version: ModelVersionRecord) -> bool:
        """Whether ``version``'s row is gone (its files are being deleted, maybe half-way)."""
        try:
            with self.session() as session:
                published = list_versions(session, name=version.name)
        except SQLAlchemyError:
            return False
        return all(v.version != version.version for v in published)

    def _load_newest_complete(self, missing: ModelVersionRecord) -> bool:
        """``missing``'s files are gone: serve the newest published version of its model
        whose files load (the one serving now, if that comes first); ModelError if none does
        and nothing serves yet."""
        self._gone.add((missing.name, missing.version))
        log.warning("%s version %d: its files are gone (%s); loading the newest complete "
                    "version instead", missing.name, missing.version, missing.path)  # fmt: skip
        try:
            with self.session() as session:
                published = list_versions(session, name=missing.name)
        except SQLAlchemyError:
            published = []
        for version in sorted(published, key=lambda v: -v.version):
            key = (version.name, version.version)
            if key == self._served_version:
                self._drop_uses()
                return False  # what serves now is the newest complete version
            if key in self._gone or not self._complete(version):
                self._gone.add(key)
                continue
            self._record_use(key)
            try:
                loaded = load_artifact(self.settings.artifacts_dir / version.path)
            except ModelError:
                log.exception("%s version %d not loaded either", *key)
                continue
            log.warning("%s version %d serves instead of version %d (files gone)",
                        version.name, version.version, missing.version)  # fmt: skip
            self._set(loaded, key)
            return True
        self._drop_uses()
        if self._recommender is None:
            raise ModelError(
                f"no published version of {missing.name} has its files under "
                f"{self.settings.artifacts_dir}; run `cinerec train`"
            )
        return False

    # Which version this process serves, for pruning elsewhere (model_version_users) ---------
    def _record_use(self, key: tuple[str, int]) -> None:
        try:
            with self.session() as session:
                record_version_use(session, process=self.process, name=key[0], version=key[1])
            self._beat = time.monotonic()
        except SQLAlchemyError as exc:  # an old database before `migrate`
            log.debug("use of %s version %d not recorded: %s", key[0], key[1], exc)

    def _drop_uses(self) -> None:
        """Keep only the served version's record (a version tried and not loaded goes)."""
        try:
            with self.session() as session:
                forget_version_use(session, process=self.process, keep=self._served_version)
        except SQLAlchemyError as exc:
            log.debug("version uses of %s not forgotten: %s", self.process, exc)

    def _heartbeat(self, now: float) -> None:
        """Refresh this process's record of its served version, at most 3 times per
        :attr:`~cinerec.config.Settings.served_version_ttl_s` (a record cleaned as stale,
        after a long pause, is written again)."""
        served = self._served_version
        if served is None or self.closing:
            return
        if now - self._beat < self.settings.served_version_ttl_s / 3:
            return
        try:
            with self.session() as session:
                if heartbeat_version_use(session, process=self.process) == 0:
                    record_version_use(session, process=self.process, name=served[0],
                                       version=served[1])  # fmt: skip
            self._beat = now
        except SQLAlchemyError as exc:
            log.warning("heartbeat on %s version %d not written: %s", *served, exc)

    def heartbeat(self) -> None:
        """Say this process still serves its version (the web's heartbeat thread and the job
        worker's loop call it, so an idle process keeps its version from being pruned)."""
        with self._lock:
            self._heartbeat(time.monotonic())

    def release_versions(self) -> None:
        """Clean shutdown: forget this process's version records (pruning may take them)."""
        with self._lock:
            try:
                with self.session() as session:
                    forget_version_use(session, process=self.process)
            except SQLAlchemyError as exc:
                log.debug("version uses of %s not forgotten: %s", self.process, exc)

    def _refresh(self) -> None:
        name = self.settings.recommender
        published = self._newest(name)
        if published is not None:
            key = (name, published.version)
            retry = key not in self._gone or self._recommender is None
            if self._served_version != key and retry:
                self._load_version(published)
            return
        if self._recommender is not None and not self._fallback_in_use:
            return
        directory = self.artifact_dir()
        if (directory / META_FILE).exists():
            self._set(load_artifact(directory))
            return
        if self._recommender is not None:
            return  # the fallback keeps serving
        fallback = self._newest(FALLBACK_RECOMMENDER)
        legacy = self.artifact_dir(FALLBACK_RECOMMENDER)
        if fallback is None and not (legacy / META_FILE).exists():
            self._set(load_artifact(directory))  # missing: "run cinerec train"
            return
        log.warning("%s is not trained yet; serving %s meanwhile",
                    name, FALLBACK_RECOMMENDER)  # fmt: skip
        if fallback is None or not self._load_version(fallback):
            self._set(load_artifact(legacy))

    @property
    def serving_fallback(self) -> bool:
        """True while :data:`FALLBACK_RECOMMENDER` stands in for the configured recommender."""
        with self._lock:
            return self._fallback_in_use

    @property
    def served_version(self) -> tuple[str, int] | None:
        """(name, version number) of the published version serving now; None for an
        unversioned artifact or an injected model."""
        with self._lock:
            return self._served_version

    def _set(
        self, loaded: tuple[Recommender, ArtifactInfo], version: tuple[str, int] | None = None
    ) -> None:
        self._recommender = loaded
        changed, self._served_version = self._served_version != version, version
        self._fallback_in_use = loaded[1].name != self.settings.recommender
        if changed:
            if version is not None:
                self._record_use(version)
            self._drop_uses()

    def set_recommender(
        self, model: Recommender, info: ArtifactInfo, *, version: int | None = None
    ) -> None:
        """Serve ``model`` from now on (e.g. when this process has just trained it);
        ``version``: its published version number."""
        with self._lock:
            self._set((model, info), None if version is None else (info.name, version))

    # Jobs -------------------------------------------------------------------------------------
    @cached_property
    def jobs(self) -> JobRunner:
        """The job runner: Dramatiq on ``broker_url``, else threads of this process."""
        if self.settings.broker_url:
            from cinerec.jobs.broker import BrokerRunner

            return BrokerRunner(self)
        from cinerec.jobs.inprocess import InProcessRunner

        return InProcessRunner(self)

    # Language model ---------------------------------------------------------------------------
    @property
    def llm(self) -> GatedBackend | None:
        """The configured backend behind :attr:`llm_gate` at ``Priority.CHAT``, or None when
        ``llm_backend = "none"``. Use :meth:`llm_at` for page reasons and warm-ups."""
        with self._lock:
            if self._llm is _UNSET:
                built = build_backend(self.settings)
                self._llm = None if built is None else self._gated(built)
            elif self._llm is not None and not isinstance(self._llm, GatedBackend):
                self._llm = self._gated(self._llm)  # type: ignore[arg-type]
            return self._llm  # type: ignore[return-value]

    def _gated(self, backend: LLMBackend) -> GatedBackend:
        return GatedBackend(
            backend, self.llm_gate, Priority.CHAT, stall_s=self.settings.llm_timeout_s
        )

    def llm_at(self, priority: Priority) -> GatedBackend | None:
        """The backend for one job at ``priority`` (a page's reasons, a warm-up), or None."""
        backend = self.llm
        return None if backend is None else backend.at(priority)
