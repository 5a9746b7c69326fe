"""rig accounts, streams and destinations

Revision ID: 5c0e7a2b9d41
Revises:
Create Date: 2026-11-24 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mediaplane.kit.db.base

revision: str = "5c0e7a2b9d41"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("rig",)
# The rows point at instances, so the core branch must be there first.
depends_on: str | Sequence[str] | None = "1f8d612b3020"


def upgrade() -> None:
    op.create_table(
        "rig_accounts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_rig_accounts_instance_id_instances"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rig_accounts")),
        sa.UniqueConstraint("instance_id", "email", name=op.f("uq_rig_accounts_instance_id_email")),
        sa.UniqueConstraint("instance_id", "username", name=op.f("uq_rig_accounts_instance_id_username")),
    )
    op.create_table(
        "rig_streams",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("stream_key", sa.String(length=64), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("is_streaming", sa.Boolean(), nullable=False),
        sa.Column("live_node", sa.String(length=255), nullable=True),
        sa.Column("live_client", sa.String(length=64), nullable=True),
        sa.Column("live_since", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("live_seen_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["rig_accounts.id"], name=op.f("fk_rig_streams_account_id_rig_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_rig_streams_instance_id_instances"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rig_streams")),
        sa.UniqueConstraint("stream_key", name=op.f("uq_rig_streams_stream_key")),
    )
    with op.batch_alter_table("rig_streams", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rig_streams_instance_account", ["instance_id", "account_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_rig_streams_live_node", ["live_node", "is_streaming"], unique=False)

    op.create_table(
        "rig_destinations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("stream_id", sa.String(length=36), nullable=False),
        sa.Column("service", sa.String(length=32), nullable=False),
        sa.Column("base_url", sa.String(length=1024), nullable=False),
        sa.Column("stream_key", sa.String(length=512), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("bitrate_kbps", sa.Float(), nullable=False),
        sa.Column("reconnects", sa.Integer(), nullable=False),
        sa.Column("status_changed_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error_since", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instances.id"],
            name=op.f("fk_rig_destinations_instance_id_instances"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["stream_id"],
            ["rig_streams.id"],
            name=op.f("fk_rig_destinations_stream_id_rig_streams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rig_destinations")),
    )
    with op.batch_alter_table("rig_destinations", schema=None) as batch_op:
        batch_op.create_index("ix_rig_destinations_stream_id", ["stream_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rig_destinations", schema=None) as batch_op:
        batch_op.drop_index("ix_rig_destinations_stream_id")

    op.drop_table("rig_destinations")
    with op.batch_alter_table("rig_streams", schema=None) as batch_op:
        batch_op.drop_index("ix_rig_streams_live_node")
        batch_op.drop_index("ix_rig_streams_instance_account")

    op.drop_table("rig_streams")
    op.drop_table("rig_accounts")
