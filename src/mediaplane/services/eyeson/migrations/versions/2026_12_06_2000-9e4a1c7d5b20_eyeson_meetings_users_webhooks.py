"""eyeson meetings, users and webhooks

Revision ID: 9e4a1c7d5b20
Revises:
Create Date: 2026-12-06 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mediaplane.kit.db.base

revision: str = "9e4a1c7d5b20"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("eyeson",)
# The rows point at instances, so the core branch must be there first.
depends_on: str | Sequence[str] | None = "1f8d612b3020"

UTC = mediaplane.kit.db.base.UTCDateTime(timezone=True)
RUNNING = sa.text("shutdown_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "eyeson_meetings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("room_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("guest_token", sa.String(length=32), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("layout", sa.JSON(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("ready_at", UTC, nullable=True),
        sa.Column("last_active_at", UTC, nullable=False),
        sa.Column("had_media", sa.Boolean(), nullable=False),
        sa.Column("shutdown_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_eyeson_meetings_instance_id_instances"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eyeson_meetings")),
        sa.UniqueConstraint("guest_token", name=op.f("uq_eyeson_meetings_guest_token")),
    )
    op.create_index(
        "uq_eyeson_meetings_running_room",
        "eyeson_meetings",
        ["instance_id", "room_id"],
        unique=True,
        sqlite_where=RUNNING,
        postgresql_where=RUNNING,
    )
    op.create_index("ix_eyeson_meetings_instance_started", "eyeson_meetings", ["instance_id", "started_at"])
    op.create_table(
        "eyeson_users",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("avatar", sa.Text(), nullable=True),
        sa.Column("guest", sa.Boolean(), nullable=False),
        sa.Column("access_key", sa.String(length=32), nullable=False),
        sa.Column("joined_at", UTC, nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("online_at", UTC, nullable=True),
        sa.Column("left_at", UTC, nullable=True),
        sa.Column("kicked_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_eyeson_users_instance_id_instances"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["eyeson_meetings.id"],
            name=op.f("fk_eyeson_users_meeting_id_eyeson_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eyeson_users")),
        sa.UniqueConstraint("access_key", name=op.f("uq_eyeson_users_access_key")),
        sa.UniqueConstraint("meeting_id", "user_id", name=op.f("uq_eyeson_users_meeting_id_user_id")),
    )
    op.create_index("ix_eyeson_users_instance_access_key", "eyeson_users", ["instance_id", "access_key"])
    op.create_table(
        "eyeson_webhooks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("types", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("last_request_sent_at", UTC, nullable=True),
        sa.Column("last_response_code", sa.String(length=8), nullable=True),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_eyeson_webhooks_instance_id_instances"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eyeson_webhooks")),
        sa.UniqueConstraint("instance_id", name=op.f("uq_eyeson_webhooks_instance_id")),
    )


def downgrade() -> None:
    op.drop_table("eyeson_webhooks")
    op.drop_index("ix_eyeson_users_instance_access_key", table_name="eyeson_users")
    op.drop_table("eyeson_users")
    op.drop_index("ix_eyeson_meetings_instance_started", table_name="eyeson_meetings")
    op.drop_index("uq_eyeson_meetings_running_room", table_name="eyeson_meetings")
    op.drop_table("eyeson_meetings")
