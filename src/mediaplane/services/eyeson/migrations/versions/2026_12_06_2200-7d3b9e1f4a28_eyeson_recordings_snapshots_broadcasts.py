"""eyeson recordings, snapshots, broadcasts; layers and playbacks of a meeting; moderation of users

Revision ID: 7d3b9e1f4a28
Revises: 4c8e2f6a9d17
Create Date: 2026-12-06 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mediaplane.kit.db.base

revision: str = "7d3b9e1f4a28"
down_revision: str | None = "4c8e2f6a9d17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = mediaplane.kit.db.base.UTCDateTime(timezone=True)


def _owned(name: str) -> list[sa.schema.SchemaItem]:
    """The id, instance and meeting columns and constraints every table here has."""
    return [
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f(f"fk_{name}_instance_id_instances"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["eyeson_meetings.id"],
            name=op.f(f"fk_{name}_meeting_id_eyeson_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    ]


def upgrade() -> None:
    with op.batch_alter_table("eyeson_meetings") as batch:
        batch.add_column(sa.Column("layers", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("playbacks", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("eyeson_users") as batch:
        batch.add_column(sa.Column("banned_at", UTC, nullable=True))
        batch.add_column(sa.Column("muted", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "eyeson_recordings",
        *_owned("eyeson_recordings"),
        sa.Column("room_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("stopped_at", UTC, nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("storage_key", sa.String(length=512), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_eyeson_recordings_instance_room", "eyeson_recordings", ["instance_id", "room_id", "created_at"])
    op.create_table(
        "eyeson_snapshots",
        *_owned("eyeson_snapshots"),
        sa.Column("room_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=True),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("storage_key", sa.String(length=512), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_eyeson_snapshots_instance_room", "eyeson_snapshots", ["instance_id", "room_id", "created_at"])
    op.create_table(
        "eyeson_broadcasts",
        *_owned("eyeson_broadcasts"),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("stream_url", sa.Text(), nullable=False),
        sa.Column("player_url", sa.Text(), nullable=True),
        sa.Column("user_id", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("reconnects", sa.Integer(), nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("stopped_at", UTC, nullable=True),
    )
    op.create_index("ix_eyeson_broadcasts_meeting", "eyeson_broadcasts", ["meeting_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_eyeson_broadcasts_meeting", table_name="eyeson_broadcasts")
    op.drop_table("eyeson_broadcasts")
    op.drop_index("ix_eyeson_snapshots_instance_room", table_name="eyeson_snapshots")
    op.drop_table("eyeson_snapshots")
    op.drop_index("ix_eyeson_recordings_instance_room", table_name="eyeson_recordings")
    op.drop_table("eyeson_recordings")
    with op.batch_alter_table("eyeson_users") as batch:
        batch.drop_column("muted")
        batch.drop_column("banned_at")
    with op.batch_alter_table("eyeson_meetings") as batch:
        batch.drop_column("playbacks")
        batch.drop_column("layers")
