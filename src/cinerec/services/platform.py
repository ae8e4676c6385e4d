"""The assembled platform: database, trained recommender and language model, built once.

Everything is created lazily from :class:`~cinerec.config.Settings` so that a server starts fast
and a test can swap one part (``Platform(settings, llm=FakeBackend(...))``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cinerec.config import Settings
from cinerec.db.engine import make_engine, make_session_factory, upgrade
from cinerec.llm.backends.base import LLMBackend
from cinerec.llm.backends.registry import build_backend
from cinerec.recommenders.artifacts import ArtifactInfo, load_artifact
from cinerec.recommenders.base import Recommender

_UNSET = object()


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
        self._lock = threading.Lock()

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
        """The trained candidate generator and its metadata (loaded on first use)."""
        with self._lock:
            if self._recommender is None:
                self._recommender = load_artifact(self.artifact_dir())
            return self._recommender

    def set_recommender(self, model: Recommender, info: ArtifactInfo) -> None:
        with self._lock:
            self._recommender = (model, info)

    # Language model ---------------------------------------------------------------------------
    @property
    def llm(self) -> LLMBackend | None:
        """The configured backend, or None when ``llm_backend = "none"``."""
        with self._lock:
            if self._llm is _UNSET:
                self._llm = build_backend(self.settings)
            return self._llm  # type: ignore[return-value]
