"""Jobs: ``cancel_requested_at``, set when someone asks a running job to stop (``cancelled`` is
a new value of ``state``, which is a plain string column: nothing to change there).

Revision ID: 0009_job_cancel
Revises: 0008_run_reasons_pending
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0009_job_cancel"
down_revision: str | None = "0008_run_reasons_pending"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    kind = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("cancel_requested_at", kind, nullable=True))


def downgrade() -> None:
    # A cancelled job has no state of its own before this revision: it shows failed.
    jobs = sa.table("jobs", sa.column("state", sa.String), sa.column("error", sa.Text))
    op.get_bind().execute(
        jobs.update()
        .where(jobs.c.state == "cancelled")
        .values(state="failed", error=sa.func.coalesce(jobs.c.error, "Cancelled"))
    )
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("cancel_requested_at")
