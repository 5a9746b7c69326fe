"""What is known of a meeting's broadcasts: their rows (scoped to the instance), their eyeson shape, and the
`broadcasts_update` event that tells observers. Shared by the routes' service and the broadcaster."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.core.runtime import Runtime
from mediaplane.services.eyeson import events
from mediaplane.services.eyeson.models import EyesonBroadcast, EyesonMeeting, EyesonUser
from mediaplane.services.eyeson.repository import EyesonRepository
from mediaplane.services.eyeson.views import iso, room_info, user_info

STOPPED = "stopped"


class BroadcastRepository:
    def __init__(self, session: AsyncSession, instance_id: str) -> None:
        self.session = session
        self.instance_id = instance_id

    async def active(self, meeting_id: str) -> Sequence[EyesonBroadcast]:
        """The meeting's broadcasts not stopped, oldest first."""
        query = (
            select(EyesonBroadcast)
            .where(
                EyesonBroadcast.instance_id == self.instance_id,
                EyesonBroadcast.meeting_id == meeting_id,
                EyesonBroadcast.stopped_at.is_(None),
            )
            .order_by(EyesonBroadcast.started_at, EyesonBroadcast.id)
        )
        return (await self.session.execute(query)).scalars().all()

    async def set_state(self, broadcast_id: str, status: str, error: str | None, reconnects: int) -> bool:
        """What the broadcaster saw, unless the broadcast was stopped; True when its status changed."""
        running = (
            EyesonBroadcast.id == broadcast_id,
            EyesonBroadcast.instance_id == self.instance_id,
            EyesonBroadcast.stopped_at.is_(None),
        )
        values = {"status": status, "error": error, "reconnects": reconnects}
        changed = await self.session.execute(
            update(EyesonBroadcast).where(*running, EyesonBroadcast.status != status).values(**values)
        )
        if getattr(changed, "rowcount", 0) == 1:
            return True
        await self.session.execute(update(EyesonBroadcast).where(*running).values(**values))
        return False

    async def stop(self, meeting_id: str, now: datetime, error: str | None = None) -> int:
        """Every running broadcast of the meeting stopped (the meeting ended); how many were."""
        stopped = await self.session.execute(
            update(EyesonBroadcast)
            .where(
                EyesonBroadcast.instance_id == self.instance_id,
                EyesonBroadcast.meeting_id == meeting_id,
                EyesonBroadcast.stopped_at.is_(None),
            )
            .values(status=STOPPED, stopped_at=now, error=error)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(stopped, "rowcount", 0) or 0)


def broadcast_view(broadcast: EyesonBroadcast, meeting: EyesonMeeting, user: EyesonUser | None) -> dict[str, Any]:
    """eyeson's `{id, platform, player_url, user, room}`, with the broadcast's state: `status` (starting, live,
    reconnecting, stopped), the last connection `error` while reconnecting, `reconnects`, `started_at`."""
    return {
        "id": broadcast.id,
        "platform": broadcast.platform,
        "player_url": broadcast.player_url,
        "user": user_info(user) if user is not None else None,
        "room": room_info(meeting),
        "status": broadcast.status,
        "error": broadcast.error,
        "reconnects": broadcast.reconnects,
        "started_at": iso(broadcast.started_at),
    }


async def views(
    session: AsyncSession, meeting: EyesonMeeting, broadcasts: Iterable[EyesonBroadcast]
) -> list[dict[str, Any]]:
    broadcasts = list(broadcasts)
    if not broadcasts:
        return []
    users = {u.user_id: u for u in await EyesonRepository(session, meeting.instance_id).users(meeting.id)}
    return [broadcast_view(b, meeting, users.get(b.user_id or "")) for b in broadcasts]


async def running_views(session: AsyncSession, meeting: EyesonMeeting) -> list[dict[str, Any]]:
    """The `broadcasts` of the room response and of `broadcasts_update`: those not stopped."""
    if meeting.shutdown_at is not None:
        return []
    return await views(session, meeting, await BroadcastRepository(session, meeting.instance_id).active(meeting.id))


async def publish_update(session: AsyncSession, runtime: Runtime, meeting: EyesonMeeting) -> None:
    broadcasts = await running_views(session, meeting)
    await events.publish(runtime, meeting.id, {"type": "broadcasts_update", "broadcasts": broadcasts})
