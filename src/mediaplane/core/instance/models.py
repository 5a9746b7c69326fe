from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mediaplane.kit.clock import utcnow
from mediaplane.kit.db import Model, TimestampMixin, UUIDMixin

INSTANCE_NAME_PATTERN = r"^[a-z0-9]+$"
INSTANCE_STATES = ("starting", "running", "stopped", "failed")


class Instance(UUIDMixin, TimestampMixin, Model):
    """One isolated deployment of a service for a tenant; every service row points here."""

    __tablename__ = "instances"
    __table_args__ = (UniqueConstraint("tenant_id", "service_id", "name"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    service_id: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(63))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="starting")

    @property
    def key(self) -> str:
        """`<tenant>-<name>`: the instance's label in URLs."""
        return f"{self.tenant_id}-{self.name}"


class InstanceLog(Model):
    __tablename__ = "instance_logs"
    __table_args__ = (Index("ix_instance_logs_instance_id_id", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    level: Mapped[str] = mapped_column(String(10), default="INFO")
    message: Mapped[str] = mapped_column(Text)
