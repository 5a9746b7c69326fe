"""`/preview/{token}`: a live stream's HLS preview (player page, playlist, segments) by signed link."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.core.ingest import want_preview
from mediaplane.services.rig import preview
from mediaplane.services.rig.deps import RigInstance
from mediaplane.services.rig.errors import Code, RigError
from mediaplane.services.rig.live import is_live
from mediaplane.services.rig.models import RigStream
from mediaplane.services.rig.repository import StreamRepository

router = APIRouter(prefix="/preview/{token}", tags=["preview"])
NO_CACHE = {"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"}


async def _live_stream(token: str, instance: RigInstance, session: SessionDep, runtime: RuntimeDep) -> RigStream:
    stream_id = preview.stream_of(runtime, instance, token)
    stream = await StreamRepository(session).get_in(instance.id, stream_id)
    if stream is None:
        raise RigError(Code.NOT_FOUND, "This stream no longer exists")
    if not is_live(stream, runtime):
        raise RigError(Code.NOT_FOUND, "This stream is not live (no preview yet)")
    return stream


@router.get("", summary="A page that plays the live preview", response_class=HTMLResponse)
async def player(token: str, request: Request, instance: RigInstance, runtime: RuntimeDep) -> HTMLResponse:
    try:
        preview.stream_of(runtime, instance, token)  # a bad link fails here, not in the player
    except RigError as exc:  # a person opened this link: a page, not rig's JSON
        return HTMLResponse(preview.refused_page(exc.message), status_code=exc.status_code)
    playlist = str(request.url.replace(query="")).rstrip("/") + "/index.m3u8"
    return HTMLResponse(preview.player_page(playlist, runtime.settings.base_url), headers={"Cache-Control": "no-cache"})


@router.get("/index.m3u8", summary="The live HLS playlist")
async def playlist(token: str, instance: RigInstance, session: SessionDep, runtime: RuntimeDep) -> Response:
    stream = await _live_stream(token, instance, session, runtime)
    await want_preview(runtime, preview.APP, stream.stream_key)
    text = await preview.playlist(runtime, stream)
    return Response(text, media_type="application/vnd.apple.mpegurl", headers=NO_CACHE)


@router.get("/{name}", summary="One HLS segment")
async def segment(name: str, token: str, instance: RigInstance, session: SessionDep, runtime: RuntimeDep) -> Response:
    stream = await _live_stream(token, instance, session, runtime)
    return Response(await preview.segment(runtime, stream, name), media_type="video/mp2t", headers=NO_CACHE)
