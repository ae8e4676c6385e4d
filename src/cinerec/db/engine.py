"""Engines, sessions and schema migrations for SQLite, PostgreSQL and MariaDB.

Example:
    >>> engine = make_engine("sqlite:///:memory:")
    >>> upgrade(engine)
    >>> current_revision(engine)
    '0011_title_trigrams'
    >>> Session = make_session_factory(engine)
    >>> with Session.begin() as session:  # commits on success, rolls back on error
    ...     pass
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from cinerec.errors import ConfigError

POOL_SIZE = 15
"""Connections a PostgreSQL or MariaDB engine keeps open, and the most it opens at once: the
ceiling of SQLAlchemy's default pool (5 kept + 10 overflow), but all of them kept. With the
default, every connection above 5 was closed as it came back, so a web worker under load opened
and closed a server connection (a forked PostgreSQL backend) every few requests; now a request
that finds all 15 busy waits for one, as it did at the old ceiling."""

#: The Alembic script directory shipped inside the package (works when installed).
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _parse_url(url: str | URL) -> URL:
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"Invalid database URL {str(url)!r}: use e.g. sqlite:///path/cinerec.db or "
            "postgresql+psycopg://user@host/db"
        ) from exc


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def make_engine(url: str | URL, *, echo: bool = False) -> Engine:
    """Create an engine with the per-backend settings cinerec relies on.

    SQLite: the parent directory of the file is created, foreign keys are enforced, the
    journal is in WAL mode (readers do not block the writer) and a writer waits up to 30 s
    for another's commit; ``:memory:`` shares one
    connection. MariaDB/MySQL: ``charset=utf8mb4`` is added when missing and connections are
    pinged before use. PostgreSQL needs nothing special.

    Args:
        url: SQLAlchemy URL, e.g. ``sqlite:///~/.local/share/cinerec/cinerec.db``.
        echo: log every SQL statement.

    Raises:
        ConfigError: the URL cannot be parsed.
    """
    parsed = _parse_url(url)
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {"echo": echo}
    if backend == "sqlite":
        database = parsed.database or ""
        in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
        # A writer waits up to 30 s for another's commit (the default 5 s failed pages under
        # load with "database is locked").
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if in_memory:
            kwargs["poolclass"] = StaticPool
        else:
            path = Path(database).expanduser()
            path.parent.mkdir(parents=True, exist_ok=True)
            parsed = parsed.set(database=str(path))
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    if backend in ("mysql", "mariadb"):
        if "charset" not in parsed.query:
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
        kwargs.update(pool_pre_ping=True, pool_recycle=3600)
    kwargs.update(pool_size=POOL_SIZE, max_overflow=0)
    return create_engine(parsed, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine``; objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def make_alembic_config(url: str | URL | None = None) -> Config:
    """An Alembic ``Config`` built in code (no ``alembic.ini``) for the packaged migrations.

    Useful for Alembic commands beyond :func:`upgrade`, e.g. writing a new revision::

        command.revision(make_alembic_config(url), message="add x", autogenerate=True)
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser interpolates '%', which may occur in passwords.
        rendered = _parse_url(url).render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def upgrade(engine_or_url: Engine | str | URL, revision: str = "head") -> None:
    """Migrate the database schema to ``revision`` (default: the newest).

    Args:
        engine_or_url: an engine (reused as is) or a URL (an engine is made and disposed).
        revision: Alembic revision id, or ``"head"``.
    """
    if isinstance(engine_or_url, Engine):
        _upgrade_with(engine_or_url, revision)
        return
    engine = make_engine(engine_or_url)
    try:
        _upgrade_with(engine, revision)
    finally:
        engine.dispose()


def _upgrade_with(engine: Engine, revision: str) -> None:
    config = make_alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
