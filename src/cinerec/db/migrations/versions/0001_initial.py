"""Initial schema: movies, users, watched, personas, recommendation runs/items, feedback.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept literal (not imported from cinerec.db.tables) so this revision never changes later.
MYSQL: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}


def _timestamp(name: str) -> sa.Column:
    # Microseconds on MariaDB too (its DATETIME otherwise keeps whole seconds).
    kind = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
    return sa.Column(name, kind, nullable=False)


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=f"fk_{table}_user_id_users", ondelete="CASCADE"
    )


def _movie_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["movie_id"], ["movies.id"], name=f"fk_{table}_movie_id_movies")


def upgrade() -> None:
    op.create_table(
        "movies",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("title", sa.String(length=512), nullable=False),
        sa.Column("title_lower", sa.String(length=512), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("genres", sa.JSON(), nullable=False),
        sa.Column("overview", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("director", sa.String(length=255), nullable=True),
        sa.Column("cast", sa.JSON(), nullable=False),
        sa.Column("tmdb_id", sa.Integer(), nullable=True),
        sa.Column("imdb_id", sa.String(length=16), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("popularity", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_movies"),
        **MYSQL,
    )
    op.create_index("ix_movies_popularity", "movies", ["popularity"])
    op.create_index("ix_movies_title_lower", "movies", ["title_lower"])

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_token_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("gender", sa.String(length=16), nullable=True),
        sa.Column("taste", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("session_token_hash", name="uq_users_session_token_hash"),
        **MYSQL,
    )

    op.create_table(
        "watched",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Float(), nullable=True),
        _timestamp("created_at"),
        _movie_fk("watched"),
        _user_fk("watched"),
        sa.PrimaryKeyConstraint("id", name="pk_watched"),
        sa.UniqueConstraint("user_id", "movie_id", name="uq_watched_user_id_movie_id"),
        **MYSQL,
    )
    op.create_index("ix_watched_movie_id", "watched", ["movie_id"])

    op.create_table(
        "personas",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("fallback", sa.Boolean(), nullable=False),
        _timestamp("created_at"),
        _user_fk("personas"),
        sa.PrimaryKeyConstraint("id", name="pk_personas"),
        **MYSQL,
    )
    op.create_index("ix_personas_user_id", "personas", ["user_id"])

    op.create_table(
        "recommendation_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("retriever", sa.String(length=64), nullable=False),
        sa.Column("retriever_version", sa.String(length=128), nullable=False),
        sa.Column("llm_model", sa.String(length=255), nullable=False),
        sa.Column("fallback", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("timings", sa.JSON(), nullable=False),
        _user_fk("recommendation_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_recommendation_runs"),
        **MYSQL,
    )
    op.create_index("ix_recommendation_runs_user_id", "recommendation_runs", ["user_id"])

    op.create_table(
        "recommendation_items",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("base_score", sa.Float(), nullable=False),
        sa.Column("fit_score", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        _movie_fk("recommendation_items"),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["recommendation_runs.id"],
            name="fk_recommendation_items_run_id_recommendation_runs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "rank", name="pk_recommendation_items"),
        **MYSQL,
    )
    op.create_index("ix_recommendation_items_movie_id", "recommendation_items", ["movie_id"])

    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        _timestamp("created_at"),
        _movie_fk("feedback"),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["recommendation_runs.id"],
            name="fk_feedback_run_id_recommendation_runs",
            ondelete="SET NULL",
        ),
        _user_fk("feedback"),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
        **MYSQL,
    )
    op.create_index("ix_feedback_movie_id", "feedback", ["movie_id"])
    op.create_index("ix_feedback_run_id", "feedback", ["run_id"])
    op.create_index("ix_feedback_user_id", "feedback", ["user_id"])


def downgrade() -> None:
    # Indexes go with their tables; children before parents.
    for table in (
        "feedback",
        "recommendation_items",
        "recommendation_runs",
        "personas",
        "watched",
        "users",
        "movies",
    ):
        op.drop_table(table)
