"""Users: the sha256 of a recovery code that brings a profile back in another browser.

Revision ID: 0004_recovery_code
Revises: 0003_review_summaries
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_recovery_code"
down_revision: str | None = "0003_review_summaries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("recovery_code_hash", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_users_recovery_code_hash", ["recovery_code_hash"])


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_recovery_code_hash", type_="unique")
        batch.drop_column("recovery_code_hash")
