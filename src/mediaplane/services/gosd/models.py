"""gosd's tables: the instance's users, OAuth tokens and failed logins; nodes and their points; blobs; plans.

Every row carries instance_id. Ids are integers from one sequence per table for all instances, as gosd's
serial ids (never reused: AUTOINCREMENT on SQLite too).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mediaplane.kit.clock import utcnow
from mediaplane.kit.db import Model

NEVER_REUSED = {"sqlite_autoincrement": True}


class GosdUser(Model):
    """A user of one gosd instance; the first comes from the instance options `username` and `password`."""

    __tablename__ = "gosd_users"
    __table_args__ = (UniqueConstraint("instance_id", "username"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(255))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class GosdToken(Model):
    """An OAuth access token: only its SHA-256 is kept."""

    __tablename__ = "gosd_tokens"
    __table_args__ = (Index("ix_gosd_tokens_instance_expires", "instance_id", "expires_at"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("gosd_users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(default=utcnow)


class GosdLoginFailure(Model):
    """One refused password for a username; enough of them in the window lock the username for a while."""

    __tablename__ = "gosd_login_failures"
    __table_args__ = (Index("ix_gosd_login_failures_lookup", "instance_id", "username", "failed_at"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(255))
    failed_at: Mapped[datetime] = mapped_column(default=utcnow)


class GosdNode(Model):
    """A device (drone, depot): its points say what it offers; its secret (hashed) is for the node agent."""

    __tablename__ = "gosd_nodes"
    __table_args__ = (Index("ix_gosd_nodes_instance_id", "instance_id", "id"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    type_name: Mapped[str] = mapped_column(String(32))
    secret_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    secret_set_at: Mapped[datetime | None] = mapped_column(default=None)
    # Presence, from the node's retained `nodes/{id}/status` (its last will says offline).
    online: Mapped[bool] = mapped_column(default=False)
    status: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    seen_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class GosdPoint(Model):
    """One feature of a node (a live stream, a status panel, a map...), of one of the point types."""

    __tablename__ = "gosd_points"
    __table_args__ = (Index("ix_gosd_points_node_id", "node_id", "id"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    node_id: Mapped[int] = mapped_column(ForeignKey("gosd_nodes.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(1024))
    point_type_id: Mapped[int] = mapped_column(Integer)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A live point's video: since when the node publishes it, and on which ingest.
    live_since: Mapped[datetime | None] = mapped_column(default=None)
    live_node: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class GosdBlob(Model):
    """A stored file: the bytes are in the platform storage under `storage_key` (instance folder)."""

    __tablename__ = "gosd_blobs"
    __table_args__ = (Index("ix_gosd_blobs_instance_id", "instance_id", "id"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(1024))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    checksum: Mapped[str] = mapped_column(String(64))  # SHA-256, hex
    storage_key: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class GosdPlan(Model):
    """What to run on a node: files (blobs by role, e.g. `lua`) and extra values. Files are GosdPlanFile rows."""

    __tablename__ = "gosd_plans"
    __table_args__ = (Index("ix_gosd_plans_instance_id", "instance_id", "id"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    node_id: Mapped[int] = mapped_column(ForeignKey("gosd_nodes.id"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    extra: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class GosdPlanFile(Model):
    """One entry of a plan's `files`: its key (the file's role) and the blob; a blob in use cannot be deleted."""

    __tablename__ = "gosd_plan_files"
    __table_args__ = (UniqueConstraint("plan_id", "name"), Index("ix_gosd_plan_files_blob_id", "blob_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("gosd_plans.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    blob_id: Mapped[int] = mapped_column(ForeignKey("gosd_blobs.id"))


class GosdJob(Model):
    """One run of a plan (gosd's `plan_logs`): `job_id` counts per plan; the state and times are mediaplane's.

    `files` maps keys to blob ids (the job's inputs, and its outputs such as the script log `luavm`)."""

    __tablename__ = "gosd_jobs"
    __table_args__ = (
        UniqueConstraint("plan_id", "job_id"),
        Index("ix_gosd_jobs_node_state", "node_id", "state"),
        Index("ix_gosd_jobs_instance_id", "instance_id", "id"),
        NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("gosd_plans.id", ondelete="CASCADE"))
    job_id: Mapped[int] = mapped_column(Integer)
    node_id: Mapped[int] = mapped_column(Integer)  # the plan's node when the job was made
    files: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    extra: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="queued")  # queued|running|succeeded|failed|cancelled
    error: Mapped[str | None] = mapped_column(Text, default=None)
    run_id: Mapped[str | None] = mapped_column(String(36), default=None)  # the platform's durable job
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
