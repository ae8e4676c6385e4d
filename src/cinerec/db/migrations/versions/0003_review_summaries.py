"""Review summaries: per-movie aspect summaries with quoted evidence.

Revision ID: 0003_review_summaries
Revises: 0002_chat
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0003_review_summaries"
down_revision: str | None = "0002_chat"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept literal (not imported from cinerec.db.tables) so this revision never changes later.
MYSQL: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}


def upgrade() -> None:
    kind = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
    op.create_table(
        "review_summaries",
        sa.Column("movie_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n_reviews", sa.Integer(), nullable=False),
        sa.Column("positive_share", sa.Float(), nullable=False),
        sa.Column("aspects", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("updated_at", kind, nullable=False),
        sa.ForeignKeyConstraint(
            ["movie_id"],
            ["movies.id"],
            name="fk_review_summaries_movie_id_movies",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("movie_id", name="pk_review_summaries"),
        **MYSQL,
    )


def downgrade() -> None:
    op.drop_table("review_summaries")
