"""The Forward API's rules: which meeting, which media, and the answers for what cannot be forwarded."""

from __future__ import annotations

from typing import Any, Literal

from mediaplane.kit.railsparams import as_list
from mediaplane.services.eyeson.errors import bad_request, not_found
from mediaplane.services.eyeson.models import EyesonMeeting
from mediaplane.services.eyeson.requests import start_forward, stop_forward
from mediaplane.services.eyeson.rooms import MAX_ID, RoomService, text_param

__all__ = ["KINDS", "ForwardService", "What", "parse_kinds"]

KINDS = ("audio", "video")
What = Literal["mcu", "source", "playback"]


def parse_kinds(value: Any) -> tuple[str, ...]:
    kinds = [str(k).strip() for k in as_list(value)] if value not in (None, "") else list(KINDS)
    if not kinds or any(k not in KINDS for k in kinds):
        raise bad_request("type is audio, video or audio,video")
    return tuple(k for k in KINDS if k in kinds)


class ForwardService:
    def __init__(self, rooms: RoomService) -> None:
        self.rooms = rooms
        self.runtime = rooms.runtime

    async def running_meeting(self, room_id: str) -> EyesonMeeting:
        meeting = await self.rooms.repo.running_meeting(room_id) if len(room_id) <= MAX_ID else None
        if meeting is None:
            raise not_found("no meeting is running in this room")
        return meeting

    async def start(self, room_id: str, what: What, params: dict[str, Any]) -> None:
        """POST /rooms/:room_id/forward/{mcu,source,playback}."""
        meeting = await self.running_meeting(room_id)
        forward_id = text_param(params.get("forward_id"), "forward_id", MAX_ID, required=True)
        source_field = {"mcu": None, "source": "user_id", "playback": "play_id"}[what]
        source_id = text_param(params.get(source_field), source_field, MAX_ID, required=True) if source_field else ""
        url = text_param(params.get("url"), "url", 2048, required=True)
        assert forward_id is not None and source_id is not None and url is not None
        if not url.startswith(("http://", "https://")):
            raise bad_request("url is a WHIP endpoint: http(s)://…")
        kinds = parse_kinds(params.get("type"))
        # In the process that holds the room, wherever that is (requests.py; answers.py gives 400/404/409).
        await start_forward(self.runtime, meeting, forward_id, url, kinds, what=what, source_id=source_id)
        await self.rooms.repo.touch(meeting.id, self.rooms.now())

    async def stop(self, room_id: str, forward_id: str) -> None:
        """DELETE /rooms/:room_id/forward/:forward_id, whichever kind it is."""
        meeting = await self.running_meeting(room_id)
        if not await stop_forward(self.runtime, meeting, forward_id):
            raise not_found("no forward of that id runs")
