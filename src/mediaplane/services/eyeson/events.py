"""Realtime events of a meeting, as eyeson's observer sends them, on the event bus (so an observer connected to
any API process sees them)."""

from __future__ import annotations

import logging
from typing import Any

from mediaplane.core.runtime import Runtime
from mediaplane.kit.events import EventBusError

log = logging.getLogger(__name__)


def room_channel(meeting_id: str) -> str:
    return f"eyeson.room.{meeting_id}"


def user_channel(meeting_id: str, user_id: str) -> str:
    return f"eyeson.room.{meeting_id}.user.{user_id}"


async def publish(runtime: Runtime, meeting_id: str, event: dict[str, Any], *, user_id: str | None = None) -> None:
    """Best effort, as eyeson's own observer: a bus that is down loses the event, never the request."""
    channel = room_channel(meeting_id) if user_id is None else user_channel(meeting_id, user_id)
    try:
        await runtime.events.publish(channel, event)
    except EventBusError as exc:
        log.warning("eyeson: event %s not published: %s", event.get("type"), exc)
