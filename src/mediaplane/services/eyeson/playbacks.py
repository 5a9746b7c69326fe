"""Playbacks: a hosted video (MP4, WebM; or MP3 with `audio`) played into the meeting — in place of a user's
picture (`replacement_id`) or in a podium spot of its own — with its audio in everyone's mix when `audio` is
true, `loop_count` times more (-1: until stopped). The meeting's `playbacks` list what plays; observers get
`playback_update` when one starts and when one ends (stopped, or its file ended)."""

from __future__ import annotations

import contextlib
from typing import Any

from mediaplane.kit.railsparams import ParamsError, as_bool, as_int
from mediaplane.services.eyeson.errors import EyesonError, bad_request, not_found
from mediaplane.services.eyeson.images import check_url
from mediaplane.services.eyeson.keys import object_id
from mediaplane.services.eyeson.media import media_command
from mediaplane.services.eyeson.models import EyesonMeeting
from mediaplane.services.eyeson.requests import NoRoom, media_request
from mediaplane.services.eyeson.rooms import MAX_ID, MAX_NAME, RoomService, text_param
from mediaplane.services.eyeson.scene import publish_playing

MAX_LOOPS = 1000


def parse_playback(params: dict[str, Any]) -> dict[str, Any]:
    """The playback a request asks for: `playback[...]` or flat parameters."""
    nested = params.get("playback")
    given: dict[str, Any] = nested if isinstance(nested, dict) else params
    url = text_param(given.get("url"), "url", 2048, required=True)
    assert url is not None
    try:
        audio = as_bool(given.get("audio"), False, name="audio")
        loops = as_int(given.get("loop_count"), 0, name="loop_count")
    except ParamsError as exc:
        raise bad_request(str(exc)) from None
    if not -1 <= loops <= MAX_LOOPS:
        raise bad_request(f"loop_count must be -1 (until stopped), 0 (once) or up to {MAX_LOOPS}")
    return {
        "url": check_url(url, "url"),
        "play_id": text_param(given.get("play_id"), "play_id", MAX_ID) or object_id(),
        "replacement_id": text_param(given.get("replacement_id"), "replacement_id", MAX_ID),
        "name": text_param(given.get("name"), "name", MAX_NAME),
        "audio": audio,
        "loop_count": loops,
    }


class PlaybackService:
    def __init__(self, rooms: RoomService) -> None:
        self.rooms = rooms
        self.runtime = rooms.runtime

    async def start(self, meeting: EyesonMeeting, params: dict[str, Any]) -> dict[str, Any]:
        """POST /rooms/:access_key/playbacks: plays once the room could open the file (400 when it cannot)."""
        entry = parse_playback(params)
        if any(p.get("play_id") == entry["play_id"] for p in meeting.playbacks or []):
            raise EyesonError(409, f"playback {entry['play_id']} is playing already")
        # The room (in whichever process holds it) opens the file before this returns: a URL that does not play
        # is the caller's 400. Without a room it is only noted: the room plays it when it starts (scene.py).
        with contextlib.suppress(NoRoom):
            await media_request(
                self.runtime, meeting.id, "playback_start", instance_id=meeting.instance_id, playback=entry
            )
        meeting.playbacks = [*(meeting.playbacks or []), entry]
        await self.rooms.session.flush()
        await publish_playing(self.runtime, meeting)
        return entry

    async def stop(self, meeting: EyesonMeeting, play_id: str) -> None:
        """DELETE /rooms/:access_key/playbacks/:play_id."""
        left = [p for p in meeting.playbacks or [] if p.get("play_id") != play_id]
        if len(left) == len(meeting.playbacks or []):
            raise not_found("no playback of that play_id is playing")
        meeting.playbacks = left
        await self.rooms.session.flush()
        await media_command(self.runtime, meeting.id, "playback_stop", play_id=play_id)
        await publish_playing(self.runtime, meeting)
