"""rig's tables: accounts, streams (with their live state) and destinations; every row carries instance_id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mediaplane.kit.clock import utcnow
from mediaplane.kit.db import Model, new_id


class RigAccount(Model):
    """A user of one rig instance: rig's own accounts, not the platform's."""

    __tablename__ = "rig_accounts"
    __table_args__ = (UniqueConstraint("instance_id", "username"), UniqueConstraint("instance_id", "email"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RigStream(Model):
    """One ingest: publish to rtmp://HOST:PORT/rig/<stream_key>. Keys are unique across every instance,
    because the ingest finds a stream by its key alone."""

    __tablename__ = "rig_streams"
    __table_args__ = (
        Index("ix_rig_streams_instance_account", "instance_id", "account_id", "created_at"),
        Index("ix_rig_streams_live_node", "live_node", "is_streaming"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    account_id: Mapped[str] = mapped_column(ForeignKey("rig_accounts.id", ondelete="CASCADE"))
    stream_key: Mapped[str] = mapped_column(String(64), unique=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Live state, written by the ingest: live_node and live_seen_at stay after the session (provisionStatus).
    is_streaming: Mapped[bool] = mapped_column(Boolean, default=False)
    live_node: Mapped[str | None] = mapped_column(String(255), default=None)
    live_client: Mapped[str | None] = mapped_column(String(64), default=None)
    live_since: Mapped[datetime | None] = mapped_column(default=None)
    live_seen_at: Mapped[datetime | None] = mapped_column(default=None)


class RigDestination(Model):
    """Where a stream is relayed. Ids come from one sequence for all streams, as in rig."""

    __tablename__ = "rig_destinations"
    __table_args__ = (Index("ix_rig_destinations_stream_id", "stream_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    stream_id: Mapped[str] = mapped_column(ForeignKey("rig_streams.id", ondelete="CASCADE"))
    service: Mapped[str] = mapped_column(String(32))
    # The service's ingest URL when the destination was added; rtmpUrl is this plus "/" plus the key.
    base_url: Mapped[str] = mapped_column(String(1024))
    stream_key: Mapped[str] = mapped_column(String(512))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The relay's view of this output while the stream is live.
    status: Mapped[str] = mapped_column(String(16), default="idle")
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    bitrate_kbps: Mapped[float] = mapped_column(Float, default=0.0)
    reconnects: Mapped[int] = mapped_column(Integer, default=0)
    status_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    # Set when the output failed and not cleared until it is live again (destination.recovered).
    error_since: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def rtmp_url(self) -> str:
        return f"{self.base_url}/{self.stream_key}" if self.stream_key else self.base_url
