"""Runs get a ``result_hash`` column (filled in from each stored result) and a leaderboard index.

The hash of the final simulation state lets an instructor match a stored run with a re-simulated replay; the
index on (level_id, score) serves the per-level leaderboard.

Revision ID: 0002
Revises: 0001
Create Date: 2026-05-20
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_runs = sa.table("runs", sa.column("id", sa.Integer()), sa.column("result", sa.JSON()), sa.column("result_hash"))


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("result_hash", sa.String(64), nullable=True))
    op.create_index("ix_runs_result_hash", "runs", ["result_hash"])
    op.create_index("ix_runs_level_id_score", "runs", ["level_id", "score"])
    bind = op.get_bind()
    for run_id, result in bind.execute(sa.select(_runs.c.id, _runs.c.result)).all():
        value = _hash_of(result)
        if value is not None:
            bind.execute(sa.update(_runs).where(_runs.c.id == run_id).values(result_hash=value))


def downgrade() -> None:
    op.drop_index("ix_runs_level_id_score", table_name="runs")
    op.drop_index("ix_runs_result_hash", table_name="runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("result_hash")


def _hash_of(result: object) -> str | None:
    if isinstance(result, str):  # a JSON column read back as text by some drivers
        result = json.loads(result)
    value = result.get("result_hash") if isinstance(result, dict) else None
    return value[:64] if isinstance(value, str) and value else None
