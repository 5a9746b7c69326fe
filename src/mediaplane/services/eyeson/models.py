"""eyeson's tables: meetings (one row per meeting of a room id: a room hosts consecutive meetings), their users,
and the team's webhook. Every row carries instance_id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from mediaplane.kit.clock import utcnow
from mediaplane.kit.db import Model, new_id

RUNNING = text("shutdown_at IS NULL")


class EyesonMeeting(Model):
    """One meeting of a room: from its first user to its shutdown. At most one runs per room id."""

    __tablename__ = "eyeson_meetings"
    __table_args__ = (
        Index(
            "uq_eyeson_meetings_running_room",
            "instance_id",
            "room_id",
            unique=True,
            sqlite_where=RUNNING,
            postgresql_where=RUNNING,
        ),
        Index("ix_eyeson_meetings_instance_started", "instance_id", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    room_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(255))
    guest_token: Mapped[str] = mapped_column(String(32), unique=True)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # {"layout": "auto"|"custom", "name": str|None, "users": [...], "map": [...]|None, "show_names": bool}
    layout: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the room's media is up (the meeting is `ready`); last activity keeps an empty meeting alive.
    ready_at: Mapped[datetime | None] = mapped_column(default=None)
    last_active_at: Mapped[datetime] = mapped_column(default=utcnow)
    had_media: Mapped[bool] = mapped_column(Boolean, default=False)
    shutdown_at: Mapped[datetime | None] = mapped_column(default=None)
    # What the composer shows besides the participants: {"1": layer, "-1": layer} and the playbacks running.
    layers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    playbacks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class EyesonUser(Model):
    """A user of one meeting, with the access key that is their credential for it."""

    __tablename__ = "eyeson_users"
    __table_args__ = (
        UniqueConstraint("meeting_id", "user_id"),
        Index("ix_eyeson_users_instance_access_key", "instance_id", "access_key"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    meeting_id: Mapped[str] = mapped_column(ForeignKey("eyeson_meetings.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(255))
    avatar: Mapped[str | None] = mapped_column(Text, default=None)
    guest: Mapped[bool] = mapped_column(Boolean, default=False)
    access_key: Mapped[str] = mapped_column(String(32), unique=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Media state, written by the room's media engine: online while the user's WebRTC connection is up.
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    online_at: Mapped[datetime | None] = mapped_column(default=None)
    left_at: Mapped[datetime | None] = mapped_column(default=None)
    kicked_at: Mapped[datetime | None] = mapped_column(default=None)
    # Moderation: a banned user may not connect again in this meeting; a muted one is not heard.
    banned_at: Mapped[datetime | None] = mapped_column(default=None)
    muted: Mapped[bool] = mapped_column(Boolean, default=False)


class EyesonWebhook(Model):
    """The team's webhook (one per API key, as eyeson: a new one replaces it) and its last delivery."""

    __tablename__ = "eyeson_webhooks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), unique=True)
    url: Mapped[str] = mapped_column(Text)
    types: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_request_sent_at: Mapped[datetime | None] = mapped_column(default=None)
    last_response_code: Mapped[str | None] = mapped_column(String(8), default=None)


class EyesonPermalink(Model):
    """A room defined ahead of its meetings: its id is the room id, its guest token lasts; hosts start it."""

    __tablename__ = "eyeson_permalinks"
    __table_args__ = (Index("ix_eyeson_permalinks_instance_created", "instance_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    guest_token: Mapped[str] = mapped_column(String(32), unique=True)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EyesonPermalinkUser(Model):
    """A host of a permalink, with the user token that starts or joins its meeting."""

    __tablename__ = "eyeson_permalink_users"
    __table_args__ = (UniqueConstraint("permalink_id", "user_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    permalink_id: Mapped[str] = mapped_column(ForeignKey("eyeson_permalinks.id", ondelete="CASCADE"))
    user_token: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(255))
    avatar: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EyesonRecording(Model):
    """A recording of a meeting's composed picture and mixed audio: recording → stopped → ready (or failed)."""

    __tablename__ = "eyeson_recordings"
    __table_args__ = (Index("ix_eyeson_recordings_instance_room", "instance_id", "room_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    meeting_id: Mapped[str] = mapped_column(ForeignKey("eyeson_meetings.id", ondelete="CASCADE"))
    room_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str | None] = mapped_column(String(128), default=None)  # who started it
    status: Mapped[str] = mapped_column(String(16), default="recording")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(default=None)
    duration: Mapped[float | None] = mapped_column(Float, default=None)
    storage_key: Mapped[str | None] = mapped_column(String(512), default=None)
    size: Mapped[int | None] = mapped_column(BigInteger, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)


class EyesonSnapshot(Model):
    """A still of a meeting's composed picture."""

    __tablename__ = "eyeson_snapshots"
    __table_args__ = (Index("ix_eyeson_snapshots_instance_room", "instance_id", "room_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    meeting_id: Mapped[str] = mapped_column(ForeignKey("eyeson_meetings.id", ondelete="CASCADE"))
    room_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str | None] = mapped_column(String(128), default=None)  # who took it
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    storage_key: Mapped[str | None] = mapped_column(String(512), default=None)
    size: Mapped[int | None] = mapped_column(BigInteger, default=None)


class EyesonBroadcast(Model):
    """The composed picture pushed to an RTMP(S) server while the meeting runs."""

    __tablename__ = "eyeson_broadcasts"
    __table_args__ = (Index("ix_eyeson_broadcasts_meeting", "meeting_id", "started_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    meeting_id: Mapped[str] = mapped_column(ForeignKey("eyeson_meetings.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32), default="generic")
    stream_url: Mapped[str] = mapped_column(Text)
    player_url: Mapped[str | None] = mapped_column(Text, default=None)
    user_id: Mapped[str | None] = mapped_column(String(128), default=None)
    status: Mapped[str] = mapped_column(String(16), default="starting")
    error: Mapped[str | None] = mapped_column(Text, default=None)
    reconnects: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(default=None)
