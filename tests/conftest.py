"""Fixtures shared across the suite: real data location, prepared platform state, settings."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Numeric libraries: one thread each, so tests behave the same on a busy 2-core machine.
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The shared data sets, resolved the way the product resolves them."""
    from cinerec.data.paths import resolve_data_dir

    path = resolve_data_dir()
    if not (path / "ml-latest-small" / "ratings.csv").exists():
        pytest.fail(f"The real data sets are needed for this test and were not found in {path}.")
    return path


@pytest.fixture(scope="session")
def prepared_home(tmp_path_factory: pytest.TempPathFactory, real_data_dir: Path) -> Iterator[Path]:
    """A cinerec home with the real catalog ingested into SQLite and ALS trained (once per run)."""
    from cinerec.config import Settings
    from cinerec.services.ingest import ensure_ready
    from cinerec.services.platform import Platform

    home = tmp_path_factory.mktemp("cinerec-home")
    settings = Settings(home=home, data_dir=real_data_dir, llm_backend="none", recommender="als")
    platform = Platform(settings)
    ensure_ready(platform, progress=False)
    platform.engine.dispose()
    yield home


def _required_under_ci(message: str) -> None:
    """Skip on a user's machine; fail under CI (``CI`` set and not false/0), where it must run."""
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(f"{message} (required under CI)")
    pytest.skip(message)


class PgvectorServer:
    """A real PostgreSQL server with pgvector; hands out fresh databases with the extension."""

    def __init__(self, admin_url: str, restart: Callable[[], object] | None = None) -> None:
        self.admin_url = admin_url
        self._created = 0
        self._restart = restart

    def _alive(self) -> bool:
        from sqlalchemy import create_engine
        from sqlalchemy.exc import OperationalError

        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect():
                return True
        except OperationalError:
            return False
        finally:
            admin.dispose()

    def new_database(self) -> str:
        """The SQLAlchemy URL of a new, empty database where ``vector`` is installed."""
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        if self._restart is not None and not self._alive():
            # A process that ended during the session (a forked child running pgserver's exit
            # hook) can stop the session's server; start it again on the same data directory.
            self._restart()
        self._created += 1
        name = f"cinerec_vectors_{os.getpid()}_{self._created}"
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"CREATE DATABASE {name}")
        finally:
            admin.dispose()
        url = make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS vector")
        finally:
            engine.dispose()
        return url


def _start_pgserver(pgserver: Any, data_dir: Path) -> Any:
    """pgserver gives ``pg_ctl start`` 10 s; on a busy machine that can pass, so try 3 times."""
    for attempt in range(3):
        try:
            return pgserver.get_server(data_dir, cleanup_mode="delete")
        except Exception:  # noqa: BLE001 - retried, then raised
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def pgvector_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgvectorServer]:
    """PostgreSQL with pgvector for the session: ``CINEREC_TEST_PGVECTOR_URL`` (an admin URL of
    a running server), else PostgreSQL 16 + pgvector from the ``pgserver`` wheel (a test extra),
    started in a temporary directory and deleted at the end. Skipped when neither is usable,
    except under CI."""
    given = os.environ.get("CINEREC_TEST_PGVECTOR_URL")
    if given:
        yield PgvectorServer(given)
        return
    try:
        with warnings.catch_warnings():  # platformdirs: no XDG_RUNTIME_DIR, /tmp is used
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
            import pgserver

        data_dir = tmp_path_factory.mktemp("pgserver") / "data"
        server = _start_pgserver(pgserver, data_dir)
    except Exception as exc:  # noqa: BLE001 - any failure means "no pgvector server here"
        _required_under_ci(
            f"no pgvector server: pgserver could not start PostgreSQL "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
            "install the test extra or set CINEREC_TEST_PGVECTOR_URL"
        )
    servers = [server]

    def restart() -> None:
        """Start the server again on ``data_dir``: the same handle when its files are there
        (after a shutdown has finished), else a new cluster (its files were deleted)."""
        for _ in range(60):
            if not (data_dir / "postmaster.pid").exists():
                break
            time.sleep(0.5)  # a shutdown in progress: wait for it to finish
        if (data_dir / "PG_VERSION").exists():
            server.ensure_postgres_running()
        else:
            pgserver.PostgresServer._instances.pop(data_dir.resolve(), None)
            servers.append(_start_pgserver(pgserver, data_dir))

    try:
        uri = server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)
        yield PgvectorServer(uri, restart)
    finally:
        for started in reversed(servers):
            started.cleanup()
