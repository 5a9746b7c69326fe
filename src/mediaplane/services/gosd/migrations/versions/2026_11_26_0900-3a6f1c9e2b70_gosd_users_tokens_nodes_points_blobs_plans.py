"""gosd users, tokens, nodes, points, blobs, plans

Revision ID: 3a6f1c9e2b70
Revises:
Create Date: 2026-11-26 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mediaplane.kit.db.base

revision: str = "3a6f1c9e2b70"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("gosd",)
# The rows point at instances, so the core branch must be there first.
depends_on: str | Sequence[str] | None = "1f8d612b3020"


def upgrade() -> None:
    op.create_table(
        "gosd_blobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("filename", sa.String(length=1024), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("created_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_gosd_blobs_instance_id_instances"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gosd_blobs")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("gosd_blobs", schema=None) as batch_op:
        batch_op.create_index("ix_gosd_blobs_instance_id", ["instance_id", "id"], unique=False)

    op.create_table(
        "gosd_login_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("failed_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instances.id"],
            name=op.f("fk_gosd_login_failures_instance_id_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gosd_login_failures")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("gosd_login_failures", schema=None) as batch_op:
        batch_op.create_index("ix_gosd_login_failures_lookup", ["instance_id", "username", "failed_at"], unique=False)

    op.create_table(
        "gosd_nodes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("type_name", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("secret_set_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_gosd_nodes_instance_id_instances"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gosd_nodes")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("gosd_nodes", schema=None) as batch_op:
        batch_op.create_index("ix_gosd_nodes_instance_id", ["instance_id", "id"], unique=False)

    op.create_table(
        "gosd_users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_gosd_users_instance_id_instances"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gosd_users")),
        sa.UniqueConstraint("instance_id", "username", name=op.f("uq_gosd_users_instance_id_username")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "gosd_plans",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("created_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_gosd_plans_instance_id_instances"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["node_id"], ["gosd_nodes.id"], name=op.f("fk_gosd_plans_node_id_gosd_nodes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gosd_plans")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("gosd_plans", schema=None) as batch_op:
        batch_op.create_index("ix_gosd_plans_instance_id", ["instance_id", "id"], unique=False)

    op.create_table(
        "gosd_points",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("point_type_id", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_gosd_points_instance_id_instances"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["node_id"], ["gosd_nodes.id"], name=op.f("fk_gosd_points_node_id_gosd_nodes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gosd_points")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("gosd_points", schema=None) as batch_op:
        batch_op.create_index("ix_gosd_points_node_id", ["node_id", "id"], unique=False)

    op.create_table(
        "gosd_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", mediaplane.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_gosd_tokens_instance_id_instances"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["gosd_users.id"], name=op.f("fk_gosd_tokens_user_id_gosd_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gosd_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_gosd_tokens_token_hash")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("gosd_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_gosd_tokens_instance_expires", ["instance_id", "expires_at"], unique=False)

    op.create_table(
        "gosd_plan_files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("blob_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["blob_id"], ["gosd_blobs.id"], name=op.f("fk_gosd_plan_files_blob_id_gosd_blobs")),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_gosd_plan_files_instance_id_instances"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["gosd_plans.id"], name=op.f("fk_gosd_plan_files_plan_id_gosd_plans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gosd_plan_files")),
        sa.UniqueConstraint("plan_id", "name", name=op.f("uq_gosd_plan_files_plan_id_name")),
    )
    with op.batch_alter_table("gosd_plan_files", schema=None) as batch_op:
        batch_op.create_index("ix_gosd_plan_files_blob_id", ["blob_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("gosd_plan_files", schema=None) as batch_op:
        batch_op.drop_index("ix_gosd_plan_files_blob_id")

    op.drop_table("gosd_plan_files")
    with op.batch_alter_table("gosd_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_gosd_tokens_instance_expires")

    op.drop_table("gosd_tokens")
    with op.batch_alter_table("gosd_points", schema=None) as batch_op:
        batch_op.drop_index("ix_gosd_points_node_id")

    op.drop_table("gosd_points")
    with op.batch_alter_table("gosd_plans", schema=None) as batch_op:
        batch_op.drop_index("ix_gosd_plans_instance_id")

    op.drop_table("gosd_plans")
    op.drop_table("gosd_users")
    with op.batch_alter_table("gosd_nodes", schema=None) as batch_op:
        batch_op.drop_index("ix_gosd_nodes_instance_id")

    op.drop_table("gosd_nodes")
    with op.batch_alter_table("gosd_login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_gosd_login_failures_lookup")

    op.drop_table("gosd_login_failures")
    with op.batch_alter_table("gosd_blobs", schema=None) as batch_op:
        batch_op.drop_index("ix_gosd_blobs_instance_id")

    op.drop_table("gosd_blobs")
