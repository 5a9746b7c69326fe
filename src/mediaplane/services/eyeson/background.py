"""What eyeson runs beside the API in a serving process: the media commands of other processes, and the
lifecycle sweep that ends meetings nobody is in (after eyeson_departure_timeout once someone had joined with
media, after eyeson_empty_timeout when nobody ever did)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy import exists, select, update

from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.services.eyeson.media import MEDIA_CHANNEL, media_rooms
from mediaplane.services.eyeson.models import EyesonMeeting, EyesonUser
from mediaplane.services.eyeson.recording.recorder import fail_unfinished
from mediaplane.services.eyeson.rooms import RoomService

log = logging.getLogger(__name__)
SWEEP_SECONDS = 1.0


async def sweep(runtime: Runtime) -> int:
    """Ends every meeting whose time without participants is up; returns how many."""
    settings = runtime.settings
    now = runtime.clock.now()
    online = exists().where(EyesonUser.meeting_id == EyesonMeeting.id, EyesonUser.online.is_(True))
    query = select(EyesonMeeting).where(EyesonMeeting.shutdown_at.is_(None), ~online)
    ended = 0
    async with runtime.db.session() as session:
        for meeting in (await session.execute(query)).scalars().all():
            timeout = settings.eyeson_departure_timeout if meeting.had_media else settings.eyeson_empty_timeout
            if meeting.last_active_at > now - timedelta(seconds=timeout):
                continue
            instance = await session.get(Instance, meeting.instance_id)
            if instance is not None and await RoomService(session, runtime, instance).shutdown(meeting):
                ended += 1
    return ended


async def reset_media_state(runtime: Runtime) -> None:
    """A single serving process (no Redis) holds every room's media: after a restart nobody is connected."""
    if runtime.settings.redis_url:
        return
    async with runtime.db.session() as session:
        await session.execute(update(EyesonUser).where(EyesonUser.online.is_(True)).values(online=False))


async def _listen(runtime: Runtime) -> None:
    rooms = media_rooms(runtime)
    async with runtime.events.subscribe(MEDIA_CHANNEL) as commands:
        async for command in commands:
            try:
                await rooms.apply({**command, "relayed": True})
            except Exception:
                log.exception("eyeson: media command %s failed", command.get("op"))


async def _sweep_forever(runtime: Runtime) -> None:
    while True:
        try:
            await sweep(runtime)
        except Exception:
            log.exception("eyeson: the lifecycle sweep failed")
        await asyncio.sleep(SWEEP_SECONDS)


@asynccontextmanager
async def eyeson_background(runtime: Runtime) -> AsyncIterator[None]:
    await reset_media_state(runtime)
    await fail_unfinished(runtime)
    tasks = [asyncio.create_task(_listen(runtime)), asyncio.create_task(_sweep_forever(runtime))]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await media_rooms(runtime).close()
