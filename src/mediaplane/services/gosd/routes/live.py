"""`/gosd/live/<name>.flv` (HTTP-FLV) and `/gosd/live/<name>/index.m3u8` (HLS): a live point's video.

No token: SDWC's players (flv.js, hls.js) cannot send one, so the name is the credential (live.play_name).
Any origin may read them (flv.js and hls.js fetch across origins).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse

from mediaplane.core.deps import RuntimeDep
from mediaplane.core.ingest import node_name
from mediaplane.core.ingest.watch import Unwatchable, check_watchable, flv_stream
from mediaplane.core.urls import base_url, instance_url
from mediaplane.services.gosd import live
from mediaplane.services.gosd.deps import GosdInstance
from mediaplane.services.gosd.errors import GosdError
from mediaplane.services.gosd.routes import PREFIX

router = APIRouter(prefix=f"{PREFIX}/live", tags=["live"])
HEADERS = {"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"}


def play_urls(request: Request, instance: GosdInstance, runtime: RuntimeDep) -> live.PlayUrls:
    """The play URLs of this instance's points, for the point JSON."""
    settings = runtime.settings
    url = instance_url(settings, base_url(settings, request), "gosd", instance.tenant_id, instance.name)
    return live.play_urls(runtime, url)


Play = Annotated[live.PlayUrls, Depends(play_urls)]


@router.get("/{name}.flv", summary="A live point's video as HTTP-FLV (flv.js, isLive)")
async def flv(name: str, instance: GosdInstance, runtime: RuntimeDep) -> StreamingResponse:
    point = await live.live_point(runtime, instance, name)
    key = str(point.id)
    try:
        check_watchable(runtime, live.INGEST_APP, key, live.MAX_VIEWERS)
    except Unwatchable as exc:
        if exc.reason == "not_live" and point.live_node not in (None, node_name(runtime)):
            raise GosdError(503, f"HTTP-FLV of this point is served by ingest {point.live_node}") from exc
        raise GosdError(404 if exc.reason == "not_live" else 503, f"HTTP-FLV: {exc.message}") from exc
    stream = flv_stream(runtime, live.INGEST_APP, key, max_viewers=live.MAX_VIEWERS, max_bytes=live.VIEWER_BYTES)
    return StreamingResponse(stream, media_type="video/x-flv", headers=HEADERS)


@router.get("/{name}/index.m3u8", summary="A live point's video as HLS: the playlist")
async def playlist(name: str, instance: GosdInstance, runtime: RuntimeDep) -> Response:
    point = await live.live_point(runtime, instance, name)
    text = await live.playlist(runtime, point)
    return Response(text, media_type="application/vnd.apple.mpegurl", headers=HEADERS)


@router.get("/{name}/{segment}", summary="A live point's video as HLS: one segment")
async def segment(name: str, segment: str, instance: GosdInstance, runtime: RuntimeDep) -> Response:
    point = await live.live_point(runtime, instance, name)
    return Response(await live.segment(runtime, point, segment), media_type="video/mp2t", headers=HEADERS)
