"""Encore's tables: one row per job, the whole EncoreJob in `data`, searchable fields beside it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mediaplane.kit.clock import utcnow
from mediaplane.kit.db import Model


class EncoreJobRow(Model):
    __tablename__ = "encore_jobs"
    __table_args__ = (
        Index("ix_encore_jobs_instance_created", "instance_id", "created"),
        Index("ix_encore_jobs_instance_status", "instance_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    profile: Mapped[str] = mapped_column(String(200))
    base_name: Mapped[str] = mapped_column(String(500))
    external_id: Mapped[str | None] = mapped_column(String(500), default=None)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    # The platform job that runs it now (kit.jobs); a lost worker's job is taken over under the same id.
    run_id: Mapped[str | None] = mapped_column(String(36), default=None)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class EncoreSegmentRow(Model):
    """One piece of a segmented job: any worker may claim it; a claim with a lapsed lease may be taken over."""

    __tablename__ = "encore_segments"

    job_id: Mapped[str] = mapped_column(ForeignKey("encore_jobs.id", ondelete="CASCADE"), primary_key=True)
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    worker: Mapped[str | None] = mapped_column(String(200), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    progress: Mapped[int] = mapped_column(Integer, default=0)
