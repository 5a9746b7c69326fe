"""The live parts of the dashboard: server-sent events with the streams' state (the rows read again about once
a second, sent when they change), and the HLS preview of a live stream, served to the signed-in owner."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response, StreamingResponse

from mediaplane.console import CurrentConsole
from mediaplane.console.live import event_stream, live_events
from mediaplane.core.ingest import preview_playlist, preview_segment, renamed_segments, want_preview
from mediaplane.core.runtime import Runtime
from mediaplane.kit.errors import NotFound
from mediaplane.services.rig.console.data import live_state, stream_id_of, stream_rows
from mediaplane.services.rig.live import is_live
from mediaplane.services.rig.preview import APP, SEGMENT
from mediaplane.services.rig.repository import StreamRepository

router = APIRouter()
NO_CACHE = {"Cache-Control": "no-cache"}


def state_events(request: Request, runtime: Runtime, instance_id: str, stream_id: str | None) -> AsyncIterator[str]:
    """The streams' state (or one stream's), as server-sent events (console/live.py)."""

    async def snapshot(session: AsyncSession) -> Any:
        return live_state(await stream_rows(session, runtime, instance_id, stream_id))

    return event_stream(request, runtime, snapshot)


def _event_stream(ctx: CurrentConsole, stream_id: str | None) -> StreamingResponse:
    return live_events(state_events(ctx.request, ctx.runtime, ctx.instance.id, stream_id))


@router.get("/events")
async def all_streams(ctx: CurrentConsole) -> StreamingResponse:
    return _event_stream(ctx, None)


@router.get("/streams/{stream_id}/events")
async def one_stream(stream_id: str, ctx: CurrentConsole) -> StreamingResponse:
    if await StreamRepository(ctx.session).get_in(ctx.instance.id, stream_id_of(stream_id)) is None:
        raise NotFound("There is no such stream in this instance.")
    return _event_stream(ctx, stream_id)


async def _live_key(ctx: CurrentConsole, stream_id: str) -> str | None:
    stream = await StreamRepository(ctx.session).get_in(ctx.instance.id, stream_id_of(stream_id))
    if stream is None or not is_live(stream, ctx.runtime):
        return None
    return stream.stream_key


def _not_yet(message: str) -> Response:
    # The player retries: a stream just admitted has no playlist for a few seconds.
    return Response(message, status_code=404, media_type="text/plain", headers=NO_CACHE)


@router.get("/streams/{stream_id}/preview/index.m3u8")
async def preview_index(stream_id: str, ctx: CurrentConsole) -> Response:
    key = await _live_key(ctx, stream_id)
    if key is None:
        return _not_yet("This stream is not live.")
    await want_preview(ctx.runtime, APP, key)
    found = await preview_playlist(ctx.runtime, APP, key)
    if found is None:
        return _not_yet("The preview is starting.")
    return Response(renamed_segments(*found), media_type="application/vnd.apple.mpegurl", headers=NO_CACHE)


@router.get("/streams/{stream_id}/preview/{name}")
async def preview_piece(stream_id: str, name: str, ctx: CurrentConsole) -> Response:
    key = await _live_key(ctx, stream_id)
    match = SEGMENT.match(name)
    data = await preview_segment(ctx.runtime, APP, key, match[1]) if key is not None and match else None
    if data is None:
        return _not_yet("No such preview segment (it may have rotated out).")
    return Response(data, media_type="video/mp2t", headers=NO_CACHE)
