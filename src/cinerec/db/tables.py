"""SQLAlchemy table models (storage shapes); nothing outside ``cinerec.db`` sees these rows.

Only portable column types are used (``String`` with a length, ``Text``, ``JSON``, ``Float``,
``Boolean``, ``DateTime(timezone=True)``) so that the same models and migrations work on
SQLite, PostgreSQL and MariaDB. Timestamps are stored in UTC and always read back as aware
UTC datetimes (:class:`UtcDateTime`). Deleting a user cascades to every row that belongs to
them through ``ON DELETE CASCADE`` foreign keys (SQLite needs ``PRAGMA foreign_keys=ON``, which
:func:`cinerec.db.engine.make_engine` sets).

Changing a model means adding an Alembic revision under ``migrations/versions``; a test
checks that the migrated schema equals these models on every backend.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine

#: Table options for MariaDB/MySQL: full 4-byte UTF-8 (Korean, emoji) whatever the server default.
MYSQL_TABLE_OPTIONS: dict[str, str] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}

#: Deterministic constraint names, so migrations can refer to them on every backend.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (the default of every timestamp column)."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that stores UTC and always returns aware UTC datetimes.

    SQLite and MariaDB keep no time zone, so naive values read back are taken as UTC;
    naive values written are assumed to be UTC already. MariaDB gets ``DATETIME(6)`` so that
    all three backends keep microseconds.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        # MariaDB/MySQL DATETIME keeps whole seconds unless asked for microseconds.
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        # Backends without time zones would drop or reject the offset; store plain UTC.
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every cinerec table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON, list[str]: JSON}


def _user_fk() -> Any:
    return ForeignKey("users.id", ondelete="CASCADE")


class MovieRow(Base):
    """A catalog movie; ``id`` is the MovieLens id; ``title_lower`` backs the title search."""

    __tablename__ = "movies"
    __table_args__ = (
        Index("ix_movies_title_lower", "title_lower"),
        Index("ix_movies_popularity", "popularity"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(512))
    # str.lower() of the title, kept by the repository (SQLite's lower() is ASCII-only).
    title_lower: Mapped[str] = mapped_column(String(512))
    year: Mapped[int | None] = mapped_column(Integer)
    genres: Mapped[list[str]] = mapped_column(JSON)
    overview: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(JSON)
    director: Mapped[str | None] = mapped_column(String(255))
    cast: Mapped[list[str]] = mapped_column(JSON)
    tmdb_id: Mapped[int | None] = mapped_column(Integer)
    imdb_id: Mapped[str | None] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    popularity: Mapped[int] = mapped_column(Integer, default=0)


class UserRow(Base):
    """A browser-session user; only the sha256 hex of the session token is stored."""

    __tablename__ = "users"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # sha256 of the recovery code shown once when the profile was made (None: never made).
    recovery_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    age: Mapped[int | None] = mapped_column(Integer)
    gender: Mapped[str | None] = mapped_column(String(16))
    taste: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WatchedRow(Base):
    """A movie in a user's history; ``id`` keeps the order in which movies were added."""

    __tablename__ = "watched"
    __table_args__ = (UniqueConstraint("user_id", "movie_id"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(_user_fk())
    movie_id: Mapped[int] = mapped_column(ForeignKey("movies.id"), index=True)
    rating: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PersonaRow(Base):
    """A taste persona written by the language model (or the fallback template)."""

    __tablename__ = "personas"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(_user_fk(), index=True)
    text: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(255))
    fallback: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecommendationRunRow(Base):
    """One recommendation request: which model and artifact produced it, and how long it took."""

    __tablename__ = "recommendation_runs"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(_user_fk(), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    page: Mapped[int] = mapped_column(Integer)
    retriever: Mapped[str] = mapped_column(String(64))
    retriever_version: Mapped[str] = mapped_column(String(128))
    llm_model: Mapped[str] = mapped_column(String(255))
    fallback: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    timings: Mapped[dict[str, Any]] = mapped_column(JSON)
    reasons_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    """The ranked list is stored and its reasons are still to be written (until finish_run)."""


class RecommendationItemRow(Base):
    """One ranked movie of a run; ``rank`` starts at 1 and is unique within the run."""

    __tablename__ = "recommendation_items"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    run_id: Mapped[int] = mapped_column(
        ForeignKey("recommendation_runs.id", ondelete="CASCADE"), primary_key=True
    )
    rank: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    movie_id: Mapped[int] = mapped_column(ForeignKey("movies.id"), index=True)
    base_score: Mapped[float] = mapped_column(Float)
    fit_score: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(Text)


class FeedbackRow(Base):
    """An explicit signal from the user about a movie, optionally tied to the run that showed it."""

    __tablename__ = "feedback"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(_user_fk(), index=True)
    movie_id: Mapped[int] = mapped_column(ForeignKey("movies.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("recommendation_runs.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationRow(Base):
    """A chat conversation of one user; ``summary`` folds the turns before ``summarized_upto``."""

    __tablename__ = "conversations"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(_user_fk(), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    # Id of the newest message folded into ``summary`` (0: none).
    summarized_upto: Mapped[int] = mapped_column(Integer, default=0)
    # What the last turn resolved (movies, person, listed ids): follow-ups read it.
    state: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChatMessageRow(Base):
    """One chat message; an answer keeps the movie ids it cites and its grounding flags."""

    __tablename__ = "chat_messages"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    cited_ids: Mapped[list[int]] = mapped_column(JSON)
    flags: Mapped[list[str]] = mapped_column(JSON)
    model: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReviewSummaryRow(Base):
    """What reviewers say about one movie: aspect summaries with quotes, one row per movie.

    ``aspects`` is a JSON list of ``{aspect, mentions, positive_share, quotes: [{text,
    positive, spans: [[start, end], ...]}]}`` (spans are character offsets into the quote);
    ``source`` names the review corpus and ``model`` the models that wrote the summary.
    """

    __tablename__ = "review_summaries"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    movie_id: Mapped[int] = mapped_column(
        ForeignKey("movies.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    n_reviews: Mapped[int] = mapped_column(Integer)
    positive_share: Mapped[float] = mapped_column(Float)
    aspects: Mapped[list[Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PostRow(Base):
    """A curated post under its random id, or the report of one the model could not write.

    ``post`` is the post JSON (``{caption, movies: [{id, title, one_line_review}]}``; None for a
    failed one), ``draft`` how it was made (model, attempts, problems, counts) and
    ``candidate_ids`` the movies the model chose from. ``user_id`` is the writer (None from the
    command line); deleting the user deletes their posts.
    """

    __tablename__ = "posts"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(_user_fk(), index=True, nullable=True)
    theme: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    post: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    draft: Mapped[dict[str, Any]] = mapped_column(JSON)
    candidate_ids: Mapped[list[int]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobRow(Base):
    """One background job (ingest, training, review summaries, embeddings, evaluation).

    ``state`` is queued, running, done, failed or cancelled; ``attempts`` counts starts (a retry
    after a failure or after a killed worker adds one); ``heartbeat_at`` is refreshed while the
    job runs, so a running job whose heartbeat is old was interrupted (its worker died).
    ``cancel_requested_at`` is set when someone asks a running job to stop: its worker, in
    whatever process, reads it and stops the job at its next unit of work.
    """

    __tablename__ = "jobs"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    args: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    worker: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    cancel_requested_at: Mapped[datetime | None] = mapped_column(nullable=True)


class ModelVersionRow(Base):
    """A published artifact version: ``path`` is relative to the artifacts directory and never
    changes once the row exists; ``digest`` is the SHA-256 of the directory's files."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("name", "version"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    version: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(1024))
    digest: Mapped[str] = mapped_column(String(64))
    info: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModelVersionUserRow(Base):
    """A process that serves (or is loading) a published version: ``process`` is
    ``host:pid:<token>``; ``heartbeat_at`` is refreshed while it serves. Pruning keeps every
    version with a fresh heartbeat here; a stale row (a crashed process) pins nothing."""

    __tablename__ = "model_version_users"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    process: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
