"""The live parts of the dashboard: server-sent events with the fleet's state (read again about once a second,
sent when it changes), and the HLS video of a live point, served here to the signed-in owner (the console's
CSP plays only its own origin)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from mediaplane.console import CurrentConsole
from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.services.gosd import live
from mediaplane.services.gosd.console.data import id_of, is_video, live_state
from mediaplane.services.gosd.errors import GosdError
from mediaplane.services.gosd.models import GosdPoint
from mediaplane.services.gosd.repository import PointRepository

router = APIRouter()
POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
# A stream of events ends after this long; the browser reconnects at once and the session is checked again.
LIFETIME_SECONDS = 300.0
NO_CACHE = {"Cache-Control": "no-cache"}


async def state_events(request: Request, runtime: Runtime, instance: Instance) -> AsyncIterator[str]:
    yield "retry: 1000\n\n"
    sent = None
    started = last = time.monotonic()
    while time.monotonic() - started < LIFETIME_SECONDS:
        async with runtime.db.session() as session:  # one short read each time: no transaction held open
            state = json.dumps(await live_state(session, runtime, instance))
        if state != sent:
            yield f"event: state\ndata: {state}\n\n"
            sent, last = state, time.monotonic()
        elif time.monotonic() - last >= KEEPALIVE_SECONDS:
            yield ": keepalive\n\n"
            last = time.monotonic()
        if await request.is_disconnected():
            return
        await asyncio.sleep(POLL_SECONDS)


@router.get("/events")
async def events(ctx: CurrentConsole) -> StreamingResponse:
    stream = state_events(ctx.request, ctx.runtime, ctx.instance)
    return StreamingResponse(stream, media_type="text/event-stream", headers={**NO_CACHE, "X-Accel-Buffering": "no"})


def _not_yet(message: str) -> Response:
    # The player retries: a point just gone live has no playlist for a few seconds.
    return Response(message, status_code=404, media_type="text/plain", headers=NO_CACHE)


async def _live_point(ctx: CurrentConsole, point_id: str) -> GosdPoint | None:
    point = await PointRepository(ctx.session).get_in(ctx.instance.id, id_of(point_id, "point"))
    if point is None or not is_video(point):
        return None
    return point if live.is_live(point, ctx.runtime.settings, ctx.runtime.clock.now()) else None


@router.get("/points/{point_id}/video/index.m3u8")
async def video_playlist(point_id: str, ctx: CurrentConsole) -> Response:
    point = await _live_point(ctx, point_id)
    if point is None:
        return _not_yet("This point is not live.")
    try:
        text = await live.playlist(ctx.runtime, point)
    except GosdError as exc:
        return _not_yet(exc.message)
    return Response(text, media_type="application/vnd.apple.mpegurl", headers=NO_CACHE)


@router.get("/points/{point_id}/video/{name}")
async def video_segment(point_id: str, name: str, ctx: CurrentConsole) -> Response:
    point = await _live_point(ctx, point_id)
    if point is None:
        return _not_yet("This point is not live.")
    try:
        data = await live.segment(ctx.runtime, point, name)
    except GosdError as exc:
        return _not_yet(exc.message)
    return Response(data, media_type="video/mp2t", headers=NO_CACHE)
