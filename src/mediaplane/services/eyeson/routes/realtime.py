"""The realtime websocket (`links.websocket`): Rails ActionCable as eyeson speaks it. A user connects with
`?access_key=`, the team with `?room_id=` and its API key (Authorization header, `api_key` query or a
subprotocol). `RoomChannel` streams the meeting's events, starting with a room_update; `UserChannel` the user's
own. The connection ends when the meeting does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, WebSocket

from mediaplane.core.deps import get_runtime
from mediaplane.core.instance.dispatch import INSTANCE_SCOPE_KEY
from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.kit.cable import CableConnection, Message, Source, offered_subprotocols, refuse
from mediaplane.services.eyeson.broadcast.state import running_views
from mediaplane.services.eyeson.deps import key_matches, links_for
from mediaplane.services.eyeson.errors import EyesonError
from mediaplane.services.eyeson.events import room_channel, user_channel
from mediaplane.services.eyeson.models import EyesonMeeting, EyesonUser
from mediaplane.services.eyeson.recording.views import running_recording
from mediaplane.services.eyeson.repository import EyesonRepository
from mediaplane.services.eyeson.rooms import RoomService
from mediaplane.services.eyeson.views import room_content

router = APIRouter()
ROOM_CHANNEL = "RoomChannel"
USER_CHANNEL = "UserChannel"


async def find_meeting(
    websocket: WebSocket, runtime: Runtime, instance: Instance
) -> tuple[EyesonMeeting, EyesonUser | None] | None:
    query = websocket.query_params
    async with runtime.db.session() as session:
        rooms = RoomService(session, runtime, instance)
        if query.get("access_key"):
            try:
                return await rooms.by_access_key(query["access_key"])
            except EyesonError:
                return None
        room_id = query.get("room_id")
        offered = offered_subprotocols(websocket)
        keys = [websocket.headers.get("authorization"), query.get("api_key"), *offered]
        if room_id and any(key_matches(instance, k) for k in keys):
            meeting = await rooms.repo.running_meeting(room_id)
            return (meeting, None) if meeting is not None else None
    return None


@router.websocket("/rt")
async def realtime(websocket: WebSocket) -> None:
    instance = websocket.scope.get(INSTANCE_SCOPE_KEY)
    if not isinstance(instance, Instance):
        await refuse(websocket, "unauthorized")
        return
    runtime = get_runtime(websocket)
    extra = [p for p in offered_subprotocols(websocket) if key_matches(instance, p)]
    found = await find_meeting(websocket, runtime, instance)
    if found is None:
        await refuse(websocket, "unauthorized", extra_subprotocols=extra)
        return
    meeting, user = found
    base = links_for(websocket, runtime, instance).base
    connection: CableConnection | None = None
    closing: list[asyncio.Task[None]] = []  # held, so the task is not collected before it runs

    @asynccontextmanager
    async def room_source() -> AsyncIterator[AsyncIterator[Message]]:
        async with runtime.events.subscribe(room_channel(meeting.id)) as subscription:
            yield room_stream(subscription)

    async def room_stream(subscription: AsyncIterator[Message]) -> AsyncIterator[Message]:
        yield {"type": "room_update", "content": await snapshot(runtime, meeting, base)}
        async for event in subscription:
            yield event
            if event.get("type") == "room_update" and event.get("content", {}).get("shutdown"):
                if connection is not None:
                    closing.append(asyncio.create_task(_disconnect(connection)))
                return

    def subscribe(identifier: dict[str, Any]) -> Source | None:
        channel = identifier.get("channel")
        if channel == ROOM_CHANNEL:
            return room_source()
        if channel == USER_CHANNEL and user is not None:
            return runtime.events.subscribe(user_channel(meeting.id, user.user_id))
        return None

    async def perform(identifier: dict[str, Any], action: str, data: dict[str, Any]) -> None:
        if action == "user_joins":  # eyeson-js keeps the meeting alive with this every 30 s
            async with runtime.db.session() as session:
                await EyesonRepository(session, instance.id).touch(meeting.id, runtime.clock.now())

    connection = CableConnection(websocket, subscribe=subscribe, perform=perform, extra_subprotocols=extra)
    await connection.run()


async def _disconnect(connection: CableConnection) -> None:
    """After the final room_update has gone out."""
    await asyncio.sleep(0.2)
    await connection.disconnect("meeting_ended")


async def snapshot(runtime: Runtime, meeting: EyesonMeeting, base: str) -> dict[str, Any]:
    async with runtime.db.session() as session:
        repo = EyesonRepository(session, meeting.instance_id)
        current = await repo.meeting(meeting.id) or meeting
        broadcasts = await running_views(session, current)
        recording = await running_recording(session, runtime, current, base)
        users = list(await repo.users(meeting.id))
        return room_content(current, users, broadcasts=broadcasts, recording=recording)
