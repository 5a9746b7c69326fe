"""The Forward API for the room's composed picture (upstream §1.2): a WHIP endpoint gets the "one view"."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from mediaplane.kit.railsparams import as_list
from mediaplane.services.eyeson.deps import ApiKeyInstance, Params, Rooms
from mediaplane.services.eyeson.errors import EyesonError, bad_request, not_found
from mediaplane.services.eyeson.forward import ForwardError, forwards
from mediaplane.services.eyeson.media import media_rooms
from mediaplane.services.eyeson.models import EyesonMeeting
from mediaplane.services.eyeson.rooms import text_param

router = APIRouter()
KINDS = ("audio", "video")


async def running_meeting(rooms: Rooms, room_id: str) -> EyesonMeeting:
    meeting = await rooms.repo.running_meeting(room_id) if len(room_id) <= 128 else None
    if meeting is None:
        raise not_found("no meeting is running in this room")
    return meeting


def parse_kinds(value: Any) -> tuple[str, ...]:
    kinds = [str(k).strip() for k in as_list(value)] if value not in (None, "") else list(KINDS)
    if not kinds or any(k not in KINDS for k in kinds):
        raise bad_request("type is audio, video or audio,video")
    return tuple(k for k in KINDS if k in kinds)


@router.post("/rooms/{room_id}/forward/mcu", status_code=201, summary="Forward the room's picture to a WHIP URL")
async def forward_mcu(room_id: str, instance: ApiKeyInstance, rooms: Rooms, params: Params) -> Response:
    meeting = await running_meeting(rooms, room_id)
    forward_id = text_param(params.get("forward_id"), "forward_id", 128, required=True)
    url = text_param(params.get("url"), "url", 2048, required=True)
    assert forward_id is not None and url is not None
    if not url.startswith(("http://", "https://")):
        raise bad_request("url is a WHIP endpoint: http(s)://…")
    kinds = parse_kinds(params.get("type"))
    running = forwards(rooms.runtime)
    if running.has(meeting.id, forward_id):
        raise EyesonError(409, f"forward {forward_id} runs already")
    room = await media_rooms(rooms.runtime).ensure(meeting)
    try:
        await running.start(room, meeting.id, forward_id, url, kinds)
    except ForwardError as exc:
        raise bad_request(str(exc)) from None
    await rooms.repo.touch(meeting.id, rooms.now())
    return Response(status_code=201)


@router.delete("/rooms/{room_id}/forward/{forward_id}", summary="Stop a forward")
async def stop_forward(room_id: str, forward_id: str, instance: ApiKeyInstance, rooms: Rooms) -> Response:
    meeting = await running_meeting(rooms, room_id)
    if not await forwards(rooms.runtime).stop(meeting.id, forward_id):
        raise not_found("no forward of that id runs")
    return Response(status_code=200)
