"""encore jobs and segments

Revision ID: 8dd72a415646
Revises:
Create Date: 2026-11-23 11:02:53.812341
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mediaplane.kit.db.base

revision: str = "8dd72a415646"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("encore",)
# The jobs point at instances, so the core branch must be there first.
depends_on: str | Sequence[str] | None = "1f8d612b3020"


def upgrade() -> None:
    op.create_table(
        "encore_jobs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("profile", sa.String(length=200), nullable=False),
        sa.Column("base_name", sa.String(length=500), nullable=False),
        sa.Column("external_id", sa.String(length=500), nullable=True),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("created", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_encore_jobs_instance_id_instances"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_encore_jobs")),
    )
    with op.batch_alter_table("encore_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_encore_jobs_instance_created", ["instance_id", "created"], unique=False)
        batch_op.create_index("ix_encore_jobs_instance_status", ["instance_id", "status"], unique=False)

    op.create_table(
        "encore_segments",
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("lease_until", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["encore_jobs.id"], name=op.f("fk_encore_segments_job_id_encore_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", "index", name=op.f("pk_encore_segments")),
    )


def downgrade() -> None:
    op.drop_table("encore_segments")
    with op.batch_alter_table("encore_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_encore_jobs_instance_status")
        batch_op.drop_index("ix_encore_jobs_instance_created")

    op.drop_table("encore_jobs")
