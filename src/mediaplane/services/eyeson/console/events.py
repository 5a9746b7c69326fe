"""The live parts of the dashboard: server-sent events with the rooms' state (the rows read again about once a
second, sent when they change)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from starlette.responses import StreamingResponse

from mediaplane.console import CurrentConsole
from mediaplane.core.runtime import Runtime
from mediaplane.kit.errors import NotFound
from mediaplane.services.eyeson.console.data import live_state, recordings_of, room_rows

router = APIRouter()
POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
# A stream of events ends after this long; the browser reconnects at once, and the reconnect checks the
# session again (a signed-out session gets no more events).
LIFETIME_SECONDS = 300.0


async def state_events(
    request: Request, runtime: Runtime, instance_id: str, meeting_id: str | None
) -> AsyncIterator[str]:
    yield "retry: 1000\n\n"
    sent = None
    started = last = time.monotonic()
    while time.monotonic() - started < LIFETIME_SECONDS:
        async with runtime.db.session() as session:  # one short read each time: no transaction held open
            rows = await room_rows(session, instance_id, meeting_id)
            recordings = (
                await recordings_of(session, instance_id, rows[0].meeting.room_id) if meeting_id and rows else []
            )
            state = json.dumps(live_state(rows, recordings))
        if state != sent:
            yield f"event: state\ndata: {state}\n\n"
            sent, last = state, time.monotonic()
        elif time.monotonic() - last >= KEEPALIVE_SECONDS:
            yield ": keepalive\n\n"
            last = time.monotonic()
        if await request.is_disconnected():
            return
        await asyncio.sleep(POLL_SECONDS)


def _event_stream(ctx: CurrentConsole, meeting_id: str | None) -> StreamingResponse:
    events = state_events(ctx.request, ctx.runtime, ctx.instance.id, meeting_id)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)


@router.get("/events")
async def all_rooms(ctx: CurrentConsole) -> StreamingResponse:
    return _event_stream(ctx, None)


@router.get("/rooms/{meeting_id}/events")
async def one_room(meeting_id: str, ctx: CurrentConsole) -> StreamingResponse:
    if not await room_rows(ctx.session, ctx.instance.id, meeting_id):
        raise NotFound("There is no such room in this instance.")
    return _event_stream(ctx, meeting_id)
