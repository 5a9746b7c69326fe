"""POST /rooms/:access_key/layout: auto or custom podium, named or mapped layouts, names shown or hidden."""

from __future__ import annotations

from fastapi import APIRouter, Response

from mediaplane.kit.mcu import McuLayoutError
from mediaplane.services.eyeson import events
from mediaplane.services.eyeson.deps import Params, Rooms
from mediaplane.services.eyeson.errors import EyesonError, bad_request
from mediaplane.services.eyeson.layouts import parse_layout
from mediaplane.services.eyeson.media import media_command, media_rooms, placement
from mediaplane.services.eyeson.roomopts import public_options

router = APIRouter()


@router.post("/rooms/{access_key}/layout", summary="Set the room's layout")
async def set_layout(access_key: str, rooms: Rooms, params: Params) -> Response:
    meeting, _user = await rooms.by_access_key(access_key)
    if not meeting.options.get("layout_available", True):
        raise EyesonError(405, "layout is not available in this room")
    layout = parse_layout(params, meeting.layout)
    canvas = media_rooms(rooms.runtime).config(meeting)
    try:
        placement(layout, canvas.width, canvas.height)
    except McuLayoutError as exc:
        raise bad_request(str(exc)) from None
    meeting.layout = layout
    await rooms.session.flush()
    await media_command(rooms.runtime, meeting.id, "layout", layout=meeting.layout)
    options = public_options(meeting.options, meeting.layout)
    await events.publish(rooms.runtime, meeting.id, {"type": "options_update", "options": options})
    return Response(status_code=200)
