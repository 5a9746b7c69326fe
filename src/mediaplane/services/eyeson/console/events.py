"""The live parts of the dashboard: server-sent events with the rooms' state (the rows read again about once a
second, sent when they change)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import StreamingResponse

from mediaplane.console import CurrentConsole
from mediaplane.console.live import event_stream, live_events
from mediaplane.core.runtime import Runtime
from mediaplane.kit.errors import NotFound
from mediaplane.services.eyeson.console.data import live_state, recordings_of, room_rows

router = APIRouter()


def state_events(request: Request, runtime: Runtime, instance_id: str, meeting_id: str | None) -> AsyncIterator[str]:
    """The rooms' state (or one room's, with its recordings), as server-sent events (console/live.py)."""

    async def snapshot(session: AsyncSession) -> Any:
        rows = await room_rows(session, instance_id, meeting_id)
        room_id = rows[0].meeting.room_id if meeting_id and rows else None
        return live_state(rows, await recordings_of(session, instance_id, room_id) if room_id else [])

    return event_stream(request, runtime, snapshot)


def _event_stream(ctx: CurrentConsole, meeting_id: str | None) -> StreamingResponse:
    return live_events(state_events(ctx.request, ctx.runtime, ctx.instance.id, meeting_id))


@router.get("/events")
async def all_rooms(ctx: CurrentConsole) -> StreamingResponse:
    return _event_stream(ctx, None)


@router.get("/rooms/{meeting_id}/events")
async def one_room(meeting_id: str, ctx: CurrentConsole) -> StreamingResponse:
    if not await room_rows(ctx.session, ctx.instance.id, meeting_id):
        raise NotFound("There is no such room in this instance.")
    return _event_stream(ctx, meeting_id)
