"""Recommendation runs: ``reasons_pending`` becomes a column instead of a 1.0/0.0 in the timings.

Revision ID: 0008_run_reasons_pending
Revises: 0007_jobs
Create Date: 2026-12-06
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_run_reasons_pending"
down_revision: str | None = "0007_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept literal (not imported from cinerec.db.tables) so this revision never changes later.
_FLAG = "reasons_pending"
_runs = sa.table(
    "recommendation_runs",
    sa.column("id", sa.Integer),
    sa.column("timings", sa.JSON),
    sa.column(_FLAG, sa.Boolean),
)


def _timings(value: object) -> dict:
    if isinstance(value, str):  # some drivers hand JSON back as text
        value = json.loads(value)
    return dict(value or {})


def upgrade() -> None:
    with op.batch_alter_table("recommendation_runs") as batch:
        batch.add_column(sa.Column(_FLAG, sa.Boolean, nullable=False, server_default=sa.false()))
    bind = op.get_bind()
    for run_id, timings in bind.execute(sa.select(_runs.c.id, _runs.c.timings)).all():
        timings = _timings(timings)
        if _FLAG in timings:
            pending = bool(timings.pop(_FLAG))
            bind.execute(
                _runs.update()
                .where(_runs.c.id == run_id)
                .values({_FLAG: pending, "timings": timings})
            )


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_runs.c.id, _runs.c.timings, _runs.c[_FLAG])).all()
    for run_id, timings, pending in rows:
        timings = {**_timings(timings), _FLAG: 1.0 if pending else 0.0}
        bind.execute(_runs.update().where(_runs.c.id == run_id).values(timings=timings))
    with op.batch_alter_table("recommendation_runs") as batch:
        batch.drop_column(_FLAG)
