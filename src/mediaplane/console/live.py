"""Live pages for dashboards: server-sent events carrying a snapshot of what a page shows. The snapshot is read
again about once a second, each time in a short transaction of its own (none held open between reads), and sent
only when it changed; a comment keeps idle connections open. A stream ends when the client goes, or after
LIFETIME_SECONDS: the browser then reconnects at once, and the reconnection checks the session again (a
signed-out session gets no more events).

    @router.get("/events")
    async def events(ctx: CurrentConsole) -> StreamingResponse:
        snapshot = lambda session: my_state(session, ctx.instance.id)
        return live_events(event_stream(ctx.request, ctx.runtime, snapshot))
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import StreamingResponse

from mediaplane.core.runtime import Runtime

__all__ = ["LIFETIME_SECONDS", "Snapshot", "event_stream", "live_events"]

POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
LIFETIME_SECONDS = 300.0

Snapshot = Callable[[AsyncSession], Awaitable[Any]]
"""The page's state (JSON-serialisable), read with the session it is given."""


def live_events(events: AsyncIterator[str]) -> StreamingResponse:
    """The response that sends `events` (from event_stream) as they come."""
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # no proxy may hold them back
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)


async def event_stream(
    request: Request, runtime: Runtime, snapshot: Snapshot, event: str = "state"
) -> AsyncIterator[str]:
    """`event: <event>` messages whose data is the snapshot as JSON, until the client goes or LIFETIME_SECONDS."""
    yield "retry: 1000\n\n"
    sent = None
    started = last = time.monotonic()
    while time.monotonic() - started < LIFETIME_SECONDS:
        async with runtime.db.session() as session:
            state = json.dumps(await snapshot(session))
        if state != sent:
            yield f"event: {event}\ndata: {state}\n\n"
            sent, last = state, time.monotonic()
        elif time.monotonic() - last >= KEEPALIVE_SECONDS:
            yield ": keepalive\n\n"
            last = time.monotonic()
        if await request.is_disconnected():
            return
        await asyncio.sleep(POLL_SECONDS)
