"""Engines, migrations and the migrated schema on every backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Engine, Integer, MetaData, inspect, text

from cinerec.db import engine as db_engine
from cinerec.db.engine import (
    MIGRATIONS_DIR,
    POOL_SIZE,
    current_revision,
    make_alembic_config,
    make_engine,
    upgrade,
)
from cinerec.db.tables import Base
from cinerec.errors import ConfigError
from tests.db.conftest import BACKENDS

HEAD = "0011_title_trigrams"
EXPECTED_TABLES = {
    "movies",
    "users",
    "watched",
    "personas",
    "recommendation_runs",
    "recommendation_items",
    "feedback",
    "conversations",
    "chat_messages",
    "review_summaries",
    "posts",
    "jobs",
    "model_versions",
    "model_version_users",
}


POSTGRES_ONLY_INDEXES = {"ix_movies_title_trgm"}
"""Indexes a migration makes on PostgreSQL only (not in the models: 0011's title trigrams)."""


def _modelled(obj: object, name: str | None, kind: str, reflected: bool, _to: object) -> bool:
    return not (kind == "index" and reflected and name in POSTGRES_ONLY_INDEXES)


def _diff(engine: Engine, metadata: MetaData) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": _modelled}
        )
        return list(compare_metadata(context, metadata))


def test_migrated_schema_matches_models(engine: Engine) -> None:
    assert current_revision(engine) == HEAD
    assert set(inspect(engine).get_table_names()) == EXPECTED_TABLES | {"alembic_version"}
    assert _diff(engine, Base.metadata) == []


def test_schema_comparison_notices_drift(engine: Engine) -> None:
    # Guards the test above: a model change without a migration must show up.
    drifted = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(drifted)
    drifted.tables["users"].append_column(Column("shoe_size", Integer, nullable=True))
    diff = _diff(engine, drifted)
    assert any(d[0] == "add_column" and d[3].name == "shoe_size" for d in diff)  # type: ignore[index]


def test_timestamps_keep_microseconds(engine: Engine) -> None:
    columns = {c["name"]: c for c in inspect(engine).get_columns("users")}
    created = columns["created_at"]["type"]
    if engine.dialect.name in ("mysql", "mariadb"):
        assert getattr(created, "fsp", None) == 6
    elif engine.dialect.name == "postgresql":
        assert getattr(created, "timezone", False) is True


def test_upgrade_is_idempotent(engine: Engine) -> None:
    upgrade(engine)
    assert current_revision(engine) == HEAD


def test_upgrade_from_url_outside_the_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The migrations are found through the package, not the working directory.
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'nested' / 'dir' / 'app.db'}"
    eng = make_engine(url)
    try:
        assert current_revision(eng) is None
        upgrade(url)
        assert (tmp_path / "nested" / "dir" / "app.db").is_file()
        assert current_revision(eng) == HEAD
        assert EXPECTED_TABLES <= set(inspect(eng).get_table_names())
    finally:
        eng.dispose()


def test_downgrade_to_base_removes_every_table(tmp_path: Path) -> None:
    from alembic import command

    eng = make_engine(f"sqlite:///{tmp_path / 'down.db'}")
    try:
        upgrade(eng)
        config = make_alembic_config()
        with eng.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
        assert set(inspect(eng).get_table_names()) == {"alembic_version"}
        assert current_revision(eng) is None
        upgrade(eng, "0001")
        assert current_revision(eng) == "0001"
    finally:
        eng.dispose()


def test_migrations_ship_inside_the_package() -> None:
    assert MIGRATIONS_DIR == Path(db_engine.__file__).resolve().parent / "migrations"
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    script = ScriptDirectory.from_config(make_alembic_config())
    assert script.get_heads() == [HEAD]
    assert not (MIGRATIONS_DIR.parent / "alembic.ini").exists()


def test_alembic_config_escapes_percent_in_passwords() -> None:
    config = make_alembic_config("postgresql+psycopg://u:p%25w@h/db")
    assert config.get_main_option("sqlalchemy.url") == "postgresql+psycopg://u:p%25w@h/db"


def test_sqlite_engine_creates_directory_and_sets_pragmas(tmp_path: Path) -> None:
    eng = make_engine(f"sqlite:///{tmp_path / 'a' / 'b' / 'x.db'}")
    try:
        with eng.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert (tmp_path / "a" / "b").is_dir()
    finally:
        eng.dispose()


def test_memory_sqlite_keeps_one_database() -> None:
    eng = make_engine("sqlite://")
    try:
        upgrade(eng)
        assert current_revision(eng) == HEAD  # a second connection would see an empty db
    finally:
        eng.dispose()


def test_mariadb_url_gets_utf8mb4_and_ping() -> None:
    eng = make_engine("mysql+pymysql://root@127.0.0.1:3306/x")
    try:
        assert eng.url.query["charset"] == "utf8mb4"
        assert eng.pool._pre_ping is True  # type: ignore[attr-defined]
    finally:
        eng.dispose()
    kept = make_engine("mysql+pymysql://root@127.0.0.1:3306/x?charset=utf8")
    assert kept.url.query["charset"] == "utf8"
    kept.dispose()


def test_server_databases_keep_every_pooled_connection() -> None:
    """PostgreSQL and MariaDB keep up to POOL_SIZE connections and open no more: the default
    pool closed each connection above 5 as it came back, so a busy web worker opened a new
    server connection every few requests."""
    for url in ("postgresql+psycopg://u@127.0.0.1:5432/x", "mysql+pymysql://root@127.0.0.1/x"):
        eng = make_engine(url)
        try:
            assert eng.pool.size() == POOL_SIZE  # type: ignore[attr-defined]
            assert eng.pool._max_overflow == 0  # type: ignore[attr-defined]
        finally:
            eng.dispose()


def test_invalid_url_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="Invalid database URL"):
        make_engine("not a url")


def test_0008_moves_reasons_pending_out_of_the_timings(tmp_path: Path) -> None:
    """A run stored before 0008 with ``reasons_pending`` in its timings keeps the flag as the
    new column, and the timings lose it; the other timings stay."""
    import json

    from sqlalchemy import select

    from cinerec.db.tables import RecommendationRunRow

    eng = make_engine(f"sqlite:///{tmp_path / 'runs.db'}")
    try:
        upgrade(eng, "0007_jobs")
        with eng.begin() as conn:
            conn.execute(text("PRAGMA foreign_keys=OFF"))
            for pending in (1.0, 0.0):
                conn.execute(
                    text(
                        "INSERT INTO recommendation_runs (user_id, created_at, page, retriever,"
                        " retriever_version, llm_model, fallback, error, timings) VALUES (1,"
                        " '2026-12-06 00:00:00', 1, 'als', 'v1', 'm', 0, NULL, :t)"
                    ),
                    {"t": json.dumps({"ranked_list": 0.2, "reasons_pending": pending})},
                )
        upgrade(eng)
        with eng.connect() as conn:
            rows = conn.execute(
                select(RecommendationRunRow.reasons_pending, RecommendationRunRow.timings).order_by(
                    RecommendationRunRow.id
                )
            ).all()
        assert [bool(r[0]) for r in rows] == [True, False]
        assert [r[1] for r in rows] == [{"ranked_list": 0.2}, {"ranked_list": 0.2}]
    finally:
        eng.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_0009_adds_the_cancel_request_and_downgrades_cancelled_to_failed(
    backend: str, tmp_path: Path, fresh_database_url
) -> None:
    """On each backend: a job stored before 0009 has no cancel request after it; a cancelled
    job downgrades to failed (0008 has no such state) with an error saying why."""
    from alembic import command

    from cinerec.db import jobs as store
    from cinerec.db.engine import make_session_factory

    sqlite = f"sqlite:///{tmp_path / 'jobs.db'}"
    eng = make_engine(sqlite if backend == "sqlite" else fresh_database_url(backend))
    try:
        upgrade(eng, "0008_run_reasons_pending")
        with eng.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO jobs (name, args, state, attempts, created_at)"
                    " VALUES ('train', '{}', 'queued', 0, :t)"
                ),
                {"t": "2026-12-06 00:00:00"},
            )
        upgrade(eng)
        assert current_revision(eng) == HEAD
        with make_session_factory(eng).begin() as s:
            (old,) = store.list_jobs(s)
            assert old.state == "queued" and old.cancel_requested_at is None
            assert store.request_cancel(s, job_id=old.id).state == store.CANCELLED
        config = make_alembic_config(eng.url.render_as_string(hide_password=False))
        with eng.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0008_run_reasons_pending")
        assert "cancel_requested_at" not in {c["name"] for c in inspect(eng).get_columns("jobs")}
        with eng.connect() as conn:
            state, error = conn.execute(text("SELECT state, error FROM jobs")).one()
        assert (state, error) == ("failed", "Cancelled")
    finally:
        eng.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_0010_adds_model_version_users_and_downgrade_drops_it(
    backend: str, tmp_path: Path, fresh_database_url
) -> None:
    """On each backend: 0010 adds the table of who serves which version; a record written at
    head goes with the table when 0010 is downgraded, and the versions stay."""
    from alembic import command

    from cinerec.db import jobs as store
    from cinerec.db.engine import make_session_factory

    sqlite = f"sqlite:///{tmp_path / 'users.db'}"
    eng = make_engine(sqlite if backend == "sqlite" else fresh_database_url(backend))
    try:
        upgrade(eng, "0009_job_cancel")
        assert "model_version_users" not in inspect(eng).get_table_names()
        upgrade(eng)
        with make_session_factory(eng).begin() as s:
            store.publish_version(s, name="ease", path="versions/ease/a", digest="0" * 64, info={})
            store.record_version_use(s, process="h:1:ab", name="ease", version=1)
        config = make_alembic_config(eng.url.render_as_string(hide_password=False))
        with eng.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0009_job_cancel")
        assert "model_version_users" not in inspect(eng).get_table_names()
        assert current_revision(eng) == "0009_job_cancel"
        with eng.connect() as conn:
            assert conn.execute(text("SELECT version FROM model_versions")).scalars().all() == [1]
    finally:
        eng.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_0011_title_trigrams_on_postgresql_only(
    backend: str, tmp_path: Path, fresh_database_url
) -> None:
    """0011 gives PostgreSQL a trigram index that the title search uses right after the
    catalog is written (a plan, not a timing); SQLite and MariaDB are unchanged; the
    downgrade drops the index."""
    from alembic import command

    from cinerec.data.types import Movie
    from cinerec.db.engine import make_session_factory
    from cinerec.db.repository import search_movies, upsert_movies

    sqlite = f"sqlite:///{tmp_path / 'trgm.db'}"
    eng = make_engine(sqlite if backend == "sqlite" else fresh_database_url(backend))
    try:
        upgrade(eng, "0010_model_version_users")
        before = {i["name"] for i in inspect(eng).get_indexes("movies")}
        upgrade(eng)
        added = {i["name"] for i in inspect(eng).get_indexes("movies")} - before
        assert added == (POSTGRES_ONLY_INDEXES if backend == "postgresql" else set())
        with make_session_factory(eng).begin() as s:
            upsert_movies(s, movies=[Movie(1, "Toy Story", 1995), Movie(2, "Heat", 1995)])
            assert [m.title for m in search_movies(s, query="TOY")] == ["Toy Story"]
        if backend == "postgresql":
            with eng.connect() as conn:
                # The upsert left the planner statistics (a fresh catalog planned a full scan).
                stats = "SELECT count(*) FROM pg_stats WHERE tablename = 'movies'"
                assert conn.exec_driver_sql(stats + " AND attname = 'title_lower'").scalar() == 1
                options = "SELECT reloptions FROM pg_class WHERE relname = 'ix_movies_title_trgm'"
                assert conn.exec_driver_sql(options).scalar() == ["fastupdate=off"]
                conn.exec_driver_sql("SET enable_seqscan = off")  # 2 rows: a scan is cheaper
                plan = "\n".join(
                    conn.exec_driver_sql(
                        "EXPLAIN SELECT id FROM movies WHERE title_lower LIKE '%%toy%%'"
                    ).scalars()
                )
            assert "ix_movies_title_trgm" in plan, plan
        config = make_alembic_config(eng.url.render_as_string(hide_password=False))
        with eng.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0010_model_version_users")
        assert {i["name"] for i in inspect(eng).get_indexes("movies")} == before
    finally:
        eng.dispose()
