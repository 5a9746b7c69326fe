"""The live parts of the dashboard: server-sent events with the fleet's state (read again about once a second,
sent when it changes), and the HLS video of a live point, served here to the signed-in owner (the console's
CSP plays only its own origin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response, StreamingResponse

from mediaplane.console import CurrentConsole
from mediaplane.console.live import event_stream, live_events
from mediaplane.services.gosd import live
from mediaplane.services.gosd.console.data import id_of, is_video, live_state
from mediaplane.services.gosd.errors import GosdError
from mediaplane.services.gosd.models import GosdPoint
from mediaplane.services.gosd.repository import PointRepository

router = APIRouter()
NO_CACHE = {"Cache-Control": "no-cache"}


@router.get("/events")
async def events(ctx: CurrentConsole) -> StreamingResponse:
    async def snapshot(session: AsyncSession) -> Any:
        return await live_state(session, ctx.runtime, ctx.instance)

    return live_events(event_stream(ctx.request, ctx.runtime, snapshot))


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
