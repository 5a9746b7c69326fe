"""gosd jobs, node presence, live points

Revision ID: 7b2d4e8f1a63
Revises: 3a6f1c9e2b70
Create Date: 2026-12-06 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mediaplane.kit.db.base

revision: str = "7b2d4e8f1a63"
down_revision: str | None = "3a6f1c9e2b70"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gosd_nodes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("online", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("status", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("seen_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("gosd_points", schema=None) as batch_op:
        batch_op.add_column(sa.Column("live_since", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("live_node", sa.String(length=255), nullable=True))
    op.create_table(
        "gosd_jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("run_id", sa.String(length=36), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("created_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_gosd_jobs_instance_id_instances"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["gosd_plans.id"], name=op.f("fk_gosd_jobs_plan_id_gosd_plans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gosd_jobs")),
        sa.UniqueConstraint("plan_id", "job_id", name=op.f("uq_gosd_jobs_plan_id_job_id")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("gosd_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_gosd_jobs_node_state", ["node_id", "state"], unique=False)
        batch_op.create_index("ix_gosd_jobs_instance_id", ["instance_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("gosd_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_gosd_jobs_instance_id")
        batch_op.drop_index("ix_gosd_jobs_node_state")
    op.drop_table("gosd_jobs")
    with op.batch_alter_table("gosd_points", schema=None) as batch_op:
        batch_op.drop_column("live_node")
        batch_op.drop_column("live_since")
    with op.batch_alter_table("gosd_nodes", schema=None) as batch_op:
        batch_op.drop_column("seen_at")
        batch_op.drop_column("status")
        batch_op.drop_column("online")
