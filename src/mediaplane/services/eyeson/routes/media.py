"""The media connections of a user: one WebRTC offer/answer exchange (the GUI's signaling). The offer comes as
`application/sdp` (WHIP-style) or JSON `{"type": "offer", "sdp": ...}`; the answer comes back the same way.
`?source=screen` is the user's screen share, a second connection that only sends video (services/eyeson/screen.py)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from mediaplane.services.eyeson.deps import Rooms
from mediaplane.services.eyeson.errors import EyesonError, bad_request
from mediaplane.services.eyeson.media import media_command, media_rooms
from mediaplane.services.eyeson.routes.rooms import start_media
from mediaplane.services.eyeson.screen import connect_screen, source_of, stop_screen

router = APIRouter()
MAX_SDP = 64 * 1024


async def read_offer(request: Request) -> tuple[str, bool]:
    """(SDP, whether the caller speaks JSON)."""
    body = await request.body()
    if len(body) > MAX_SDP:
        raise EyesonError(413, "the offer is larger than 64 kB")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/sdp":
        return body.decode("utf-8", "replace"), False
    try:
        data: Any = json.loads(body or b"null")
    except ValueError:
        raise bad_request("send the offer as application/sdp or JSON {type: offer, sdp}") from None
    if not isinstance(data, dict) or data.get("type", "offer") != "offer" or not isinstance(data.get("sdp"), str):
        raise bad_request("send the offer as application/sdp or JSON {type: offer, sdp}")
    return data["sdp"], True


@router.post(
    "/rooms/{access_key}/webrtc", status_code=201, summary="Connect the user's media (or screen): offer in, answer out"
)
async def connect(request: Request, access_key: str, rooms: Rooms, source: str | None = None) -> Response:
    meeting, user = await rooms.by_access_key(access_key)
    screen = source_of(source) == "screen"
    sdp, as_json = await read_offer(request)
    if not sdp.startswith("v=0"):
        raise bad_request("the offer is not an SDP session description")
    await start_media(rooms, meeting)
    media = media_rooms(rooms.runtime)
    if screen:
        answer = await connect_screen(media, rooms.repo, meeting, user, sdp)
    else:
        answer = await media.connect(meeting, user, sdp)
    await rooms.repo.touch(meeting.id, rooms.now())
    if as_json:
        return JSONResponse({"type": "answer", "sdp": answer}, status_code=201)
    return Response(answer, status_code=201, media_type="application/sdp")


@router.delete("/rooms/{access_key}/webrtc", summary="Disconnect the user's media (leave the meeting), or their screen")
async def disconnect(access_key: str, rooms: Rooms, source: str | None = None) -> Response:
    meeting, user = await rooms.by_access_key(access_key)
    if source_of(source) == "screen":
        await stop_screen(rooms.runtime, meeting, user)
    else:  # their screen share goes with it (MediaRooms, on the room's "disconnected")
        await media_command(rooms.runtime, meeting.id, "disconnect", user_id=user.user_id)
    return Response(status_code=200)
