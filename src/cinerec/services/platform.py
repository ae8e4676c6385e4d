"""The assembled platform: database, trained recommender and language model, built once.

Everything is created lazily from :class:`~cinerec.config.Settings` so that a server starts fast
and a test can swap one part (``Platform(settings, llm=FakeBackend(...))``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cinerec.config import Settings
from cinerec.db.engine import make_engine, make_session_factory, upgrade
from cinerec.llm.backends.base import LLMBackend
from cinerec.llm.backends.gate import GatedBackend, Priority, PriorityGate
from cinerec.llm.backends.registry import build_backend
from cinerec.recommenders.artifacts import META_FILE, ArtifactInfo, load_artifact
from cinerec.recommenders.base import Recommender
from cinerec.services.state import PlatformState
from cinerec.services.streams import SharedStreams

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
        self._fallback_in_use = False
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
        failing task is logged, never raised. Returns how many tasks ran."""
        tasks = self.state.deferred.take()
        for task in tasks:
            try:
                task()
            except Exception:  # deferred work must never break the request that ran it
                log.exception("deferred task %r failed", task)
        return len(tasks)

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

        While the configured recommender has no artifact yet (it trains in the background on
        a first start), the quick :data:`FALLBACK_RECOMMENDER` serves if it is trained, and the
        configured one takes over as soon as its artifact appears; ``info.name`` says which
        one is in use.
        """
        with self._lock:
            directory = self.artifact_dir()
            trained = (directory / META_FILE).exists()
            if self._recommender is None or (self._fallback_in_use and trained):
                fallback = self.artifact_dir(FALLBACK_RECOMMENDER)
                if trained or not (fallback / META_FILE).exists():
                    self._set(load_artifact(directory))  # if missing: "run cinerec train"
                else:
                    log.warning("%s is not trained yet; serving %s meanwhile",
                                self.settings.recommender, FALLBACK_RECOMMENDER)  # fmt: skip
                    self._set(load_artifact(fallback))
            assert self._recommender is not None
            return self._recommender

    @property
    def serving_fallback(self) -> bool:
        """True while :data:`FALLBACK_RECOMMENDER` stands in for the configured recommender."""
        with self._lock:
            return self._fallback_in_use

    def _set(self, loaded: tuple[Recommender, ArtifactInfo]) -> None:
        self._recommender = loaded
        self._fallback_in_use = loaded[1].name != self.settings.recommender

    def set_recommender(self, model: Recommender, info: ArtifactInfo) -> None:
        """Serve ``model`` from now on (e.g. when background training finishes)."""
        with self._lock:
            self._set((model, info))

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
