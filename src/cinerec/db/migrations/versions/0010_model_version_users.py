"""Model version users: which process serves which published version, with a heartbeat, so
that pruning never deletes a version another live process serves.

Revision ID: 0010_model_version_users
Revises: 0009_job_cancel
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0010_model_version_users"
down_revision: str | None = "0009_job_cancel"
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
        "model_version_users",
        sa.Column("process", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("heartbeat_at", kind, nullable=False),
        sa.PrimaryKeyConstraint("process", "name", "version", name="pk_model_version_users"),
        **MYSQL,
    )
    op.create_index("ix_model_version_users_heartbeat_at", "model_version_users", ["heartbeat_at"])


def downgrade() -> None:
    op.drop_table("model_version_users")
