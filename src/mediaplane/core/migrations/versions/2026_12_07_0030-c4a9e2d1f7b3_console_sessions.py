"""console sessions and failed sign-ins

Revision ID: c4a9e2d1f7b3
Revises: 1f8d612b3020
Create Date: 2026-12-07 00:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mediaplane.kit.db.base

revision: str = "c4a9e2d1f7b3"
down_revision: str | None = "1f8d612b3020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_console_sessions_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_console_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sessions")),
    )
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "console_sign_in_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("failed_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sign_in_failures")),
    )
    with op.batch_alter_table("console_sign_in_failures", schema=None) as batch_op:
        batch_op.create_index("ix_console_sign_in_failures_who", ["tenant_id", "username", "failed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("console_sign_in_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_console_sign_in_failures_who")

    op.drop_table("console_sign_in_failures")
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_sessions_user_id"))

    op.drop_table("console_sessions")
