"""The files the dashboard serves itself: recordings and snapshots (same origin, as the console's CSP wants media;
a `<video>` carries no API key), with Range requests, and the dashboard's script and style sheet."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.responses import FileResponse, Response

from mediaplane.console import ConsoleContext, CurrentConsole
from mediaplane.kit.errors import NotFound
from mediaplane.kit.storage import ObjectNotFound, range_response
from mediaplane.services.eyeson.console.data import meeting_id_of
from mediaplane.services.eyeson.recording.repository import RecordingRepository

router = APIRouter()
STATIC = {"eyeson.js": "text/javascript", "eyeson.css": "text/css"}
STATIC_DIR = Path(__file__).parent / "static"


async def _file(ctx: ConsoleContext, key: str | None, media_type: str, filename: str) -> Response:
    headers = {"Cache-Control": "private, no-cache"}
    if ctx.request.query_params.get("download"):
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    if not key:
        raise NotFound("The file is not ready.")
    try:
        return await range_response(
            ctx.runtime.storage, key, ctx.request.headers.get("range"), media_type, headers=headers
        )
    except ObjectNotFound:
        raise NotFound("The file is gone.") from None


@router.get("/recordings/{recording_id}/file")
async def recording_file(recording_id: str, ctx: CurrentConsole) -> Response:
    found = await RecordingRepository(ctx.session, ctx.instance.id).recording(meeting_id_of(recording_id))
    if found is None or found.status != "ready":
        raise NotFound("There is no such recording ready in this instance.")
    return await _file(ctx, found.storage_key, "video/webm", f"recording-{found.id}.webm")


@router.get("/snapshots/{snapshot_id}/file")
async def snapshot_file(snapshot_id: str, ctx: CurrentConsole) -> Response:
    found = await RecordingRepository(ctx.session, ctx.instance.id).snapshot(meeting_id_of(snapshot_id))
    if found is None:
        raise NotFound("There is no such snapshot in this instance.")
    return await _file(ctx, found.storage_key, "image/jpeg", f"snapshot-{found.id}.jpg")


@router.get("/static/{name}")
async def static(name: str) -> Response:
    if name not in STATIC:
        raise NotFound("No such file.")
    return FileResponse(STATIC_DIR / name, media_type=STATIC[name], headers={"Cache-Control": "no-cache"})
