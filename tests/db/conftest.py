"""Database fixtures: tests using ``engine`` or ``session`` run on SQLite, PostgreSQL, MariaDB.

Each server gets a fresh database named ``cinerec_test_<hex>`` for the test session, migrated
with :func:`cinerec.db.engine.upgrade` and dropped at the end. Server URLs come from
``CINEREC_TEST_POSTGRES_URL`` / ``CINEREC_TEST_MARIADB_URL`` (defaults: the local servers).
An unreachable server skips its tests, except under CI (``CI`` set and not false/0), where
those runs are required and fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, delete
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from cinerec.data.types import Movie
from cinerec.db.engine import make_engine, make_session_factory, upgrade
from cinerec.db.repository import upsert_movies
from cinerec.db.tables import Base

SERVER_URLS = {
    "postgresql": (
        "CINEREC_TEST_POSTGRES_URL",
        "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    ),
    "mariadb": (
        "CINEREC_TEST_MARIADB_URL",
        "mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4",
    ),
}
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.db),
    pytest.param("mariadb", marks=pytest.mark.db),
]
TIMINGS_KEY = pytest.StashKey[dict[str, float]]()


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _unavailable(message: str) -> None:
    if _in_ci():
        pytest.fail(f"{message} (required under CI)")
    pytest.skip(message)


def server_url(backend: str) -> URL:
    """The admin URL of a backend's server (its database must already exist)."""
    env_var, default = SERVER_URLS[backend]
    return make_url(os.environ.get(env_var) or default)


def _admin_engine(url: URL) -> Engine:
    timeout = {"postgresql": {"connect_timeout": 5}, "mysql": {"connect_timeout": 5}}
    return create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        connect_args=timeout.get(url.get_backend_name(), {}),
    )


@pytest.fixture(scope="session")
def fresh_database_url() -> Iterator[object]:
    """A factory of fresh, empty server databases; all are dropped at the end of the session."""
    created: list[tuple[Engine, str, str]] = []

    def make(backend: str) -> URL:
        admin_url = server_url(backend)
        admin = _admin_engine(admin_url)
        name = f"cinerec_test_{uuid.uuid4().hex[:12]}"
        create = f"CREATE DATABASE {name}"
        if backend == "mariadb":
            create += " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        else:
            create += " ENCODING 'UTF8' TEMPLATE template0"
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(create)
        except Exception as exc:  # noqa: BLE001 - any failure means "server unusable here"
            admin.dispose()
            _unavailable(
                f"{backend} server {admin_url.render_as_string()} is unreachable or refused "
                f"CREATE DATABASE: {type(exc).__name__}: {str(exc).splitlines()[0]}"
            )
        created.append((admin, backend, name))
        return admin_url.set(database=name)

    yield make
    for admin, backend, name in created:
        drop = f"DROP DATABASE IF EXISTS {name}"
        with admin.connect() as conn:
            conn.exec_driver_sql(drop + (" WITH (FORCE)" if backend == "postgresql" else ""))
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, fresh_database_url
) -> Iterator[Engine]:
    """A migrated database on each backend (shared by the tests of the session)."""
    backend: str = request.param
    if backend == "sqlite":
        url: URL | str = f"sqlite:///{tmp_path_factory.mktemp('db') / 'cinerec.db'}"
    else:
        url = fresh_database_url(backend)
    eng = make_engine(url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """A session factory on a database that is emptied after the test."""
    yield make_session_factory(engine)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """An open session; the test decides when to commit."""
    with session_factory() as s:
        yield s
        s.rollback()


KOREAN = "기생충 — 봉준호의 블랙 코미디 🎬"
HTML = "<script>alert(\"x&y\")</script> <b>bold</b> & 'quotes'"

CATALOG = [
    Movie(1, "Heat", 1995, ("Action", "Crime"), director="Michael Mann", cast=("Al Pacino",)),
    Movie(2, "Heathers", 1989, ("Comedy",)),
    Movie(3, "The Heat", 2013, ("Comedy", "Action")),
    Movie(4, "Heat", 1986, ("Action",)),
    Movie(5, "2001: A Space Odyssey", 1968, ("Sci-Fi",)),
    Movie(6, "Ocean's Eleven", 2001, ("Crime",)),
    Movie(7, "100% Wolf", 2020, ("Animation",)),
    Movie(8, "1000 Wolves", 2021, ("Drama",)),
    Movie(9, "Snake_Eyes", 1998, ("Thriller",)),
    Movie(10, "SnakeXEyes", 1998, ("Thriller",)),
    Movie(11, "기생충 (Parasite)", 2019, ("드라마", "Thriller"), overview=KOREAN, cast=("송강호",)),
    Movie(12, HTML, None, keywords=("<i>", "&amp;"), description=HTML),
]
POPULARITY = {1: 300, 2: 50, 3: 80, 4: 5, 5: 200, 6: 150, 7: 1, 8: 2, 9: 10, 10: 20, 11: 99}


@pytest.fixture
def catalog(session_factory: sessionmaker[Session]) -> dict[int, Movie]:
    """A small committed catalog (Korean and HTML titles included), keyed by id."""
    with session_factory.begin() as s:
        upsert_movies(s, movies=CATALOG, popularity=POPULARITY)
    return {m.movie_id: m for m in CATALOG}


@pytest.fixture
def timings(request: pytest.FixtureRequest) -> dict[str, float]:
    """Named durations reported at the end of the run (see pytest_terminal_summary)."""
    return request.config.stash.setdefault(TIMINGS_KEY, {})


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:  # noqa: ANN001
    measured = config.stash.get(TIMINGS_KEY, {})
    if measured:
        terminalreporter.section("cinerec db timings")
        for name, seconds in sorted(measured.items()):
            terminalreporter.write_line(f"{name}: {seconds:.3f} s")
