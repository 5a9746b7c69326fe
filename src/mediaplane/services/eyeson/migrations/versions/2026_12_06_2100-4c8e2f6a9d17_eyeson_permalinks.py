"""eyeson permalinks and their hosts

Revision ID: 4c8e2f6a9d17
Revises: 9e4a1c7d5b20
Create Date: 2026-12-06 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mediaplane.kit.db.base

revision: str = "4c8e2f6a9d17"
down_revision: str | None = "9e4a1c7d5b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = mediaplane.kit.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "eyeson_permalinks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("guest_token", sa.String(length=32), nullable=False),
        sa.Column("expires_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instances.id"],
            name=op.f("fk_eyeson_permalinks_instance_id_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eyeson_permalinks")),
        sa.UniqueConstraint("guest_token", name=op.f("uq_eyeson_permalinks_guest_token")),
    )
    op.create_index("ix_eyeson_permalinks_instance_created", "eyeson_permalinks", ["instance_id", "created_at"])
    op.create_table(
        "eyeson_permalink_users",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("permalink_id", sa.String(length=36), nullable=False),
        sa.Column("user_token", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("avatar", sa.Text(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instances.id"],
            name=op.f("fk_eyeson_permalink_users_instance_id_instances"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["permalink_id"],
            ["eyeson_permalinks.id"],
            name=op.f("fk_eyeson_permalink_users_permalink_id_eyeson_permalinks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eyeson_permalink_users")),
        sa.UniqueConstraint("user_token", name=op.f("uq_eyeson_permalink_users_user_token")),
        sa.UniqueConstraint("permalink_id", "user_id", name=op.f("uq_eyeson_permalink_users_permalink_id_user_id")),
    )


def downgrade() -> None:
    op.drop_table("eyeson_permalink_users")
    op.drop_index("ix_eyeson_permalinks_instance_created", table_name="eyeson_permalinks")
    op.drop_table("eyeson_permalinks")
