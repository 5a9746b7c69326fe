"""The console's tables: signed-in sessions and failed sign-ins (both platform tables, core migration branch)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mediaplane.kit.db import Model


class ConsoleSession(Model):
    """A signed-in browser. The cookie carries a random id; the row keeps only its SHA-256, so a copy of the
    database signs nobody in."""

    __tablename__ = "console_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie's value
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]  # the absolute end, however active the session is


class SignInFailure(Model):
    """One failed sign-in; rows (not process memory) so the lockout holds across API processes."""

    __tablename__ = "console_sign_in_failures"
    __table_args__ = (Index("ix_console_sign_in_failures_who", "tenant_id", "username", "failed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(63))  # not a foreign key: unknown tenants are counted too
    username: Mapped[str] = mapped_column(String(100))
    failed_at: Mapped[datetime]
