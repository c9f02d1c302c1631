"""The initial records schema: trainees, class sessions and their levels, runs.

Revision ID: 0001
Revises:
Create Date: 2026-05-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trainees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("name_key", sa.String(160), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_trainees"),
        sa.UniqueConstraint("name", name="uq_trainees_name"),
        sa.UniqueConstraint("name_key", name="uq_trainees_name_key"),
    )
    op.create_table(
        "class_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(6), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_class_sessions"),
        sa.UniqueConstraint("code", name="uq_class_sessions_code"),
    )
    op.create_table(
        "class_levels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("class_session_id", sa.Integer(), nullable=False),
        sa.Column("level_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_session_id"],
            ["class_sessions.id"],
            name="fk_class_levels_class_session_id_class_sessions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_class_levels"),
        sa.UniqueConstraint("class_session_id", "position", name="uq_class_levels_class_session_id_position"),
        sa.UniqueConstraint("class_session_id", "level_id", name="uq_class_levels_class_session_id_level_id"),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_uuid", sa.String(36), nullable=False),
        sa.Column("trainee_id", sa.Integer(), nullable=True),
        sa.Column("class_session_id", sa.Integer(), nullable=True),
        sa.Column("level_id", sa.String(64), nullable=False),
        sa.Column("level_sha256", sa.String(64), nullable=True),
        sa.Column("app_version", sa.String(32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("fluoro_time_s", sa.Float(), nullable=False),
        sa.Column("air_kerma_mGy", sa.Float(), nullable=False),
        sa.Column("kap_Gycm2", sa.Float(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("replay_zlib", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["trainee_id"], ["trainees.id"], name="fk_runs_trainee_id_trainees"),
        sa.ForeignKeyConstraint(
            ["class_session_id"], ["class_sessions.id"], name="fk_runs_class_session_id_class_sessions"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        sa.UniqueConstraint("run_uuid", name="uq_runs_run_uuid"),
    )
    op.create_index("ix_runs_trainee_id_level_id", "runs", ["trainee_id", "level_id"])
    op.create_index("ix_runs_class_session_id", "runs", ["class_session_id"])


def downgrade() -> None:
    op.drop_table("runs")
    op.drop_table("class_levels")
    op.drop_table("class_sessions")
    op.drop_table("trainees")
