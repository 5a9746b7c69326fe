"""The rules of broadcasts: start one per platform (an RTMP or RTMPS URL to push the room to), change its
player URL, stop it. The media side runs where the meeting's room runs (a media request to start, a media
command to stop)."""

from __future__ import annotations

import re
from typing import Any, Final

from mediaplane.kit.rtmp import RtmpUrlError, parse_rtmp_url
from mediaplane.services.eyeson.broadcast.state import STOPPED, BroadcastRepository, publish_update, views
from mediaplane.services.eyeson.errors import EyesonError, bad_request, not_found
from mediaplane.services.eyeson.keys import object_id
from mediaplane.services.eyeson.media import media_command
from mediaplane.services.eyeson.models import EyesonBroadcast, EyesonMeeting, EyesonUser
from mediaplane.services.eyeson.requests import room_request
from mediaplane.services.eyeson.rooms import RoomService, text_param

GENERIC: Final = "generic"
MAX_BROADCASTS: Final = 5
"""Destinations per meeting: each is one more upload of the same encode."""
MAX_URL: Final = 2048
PLATFORM: Final = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


def platform_param(value: Any) -> str:
    platform = text_param(value, "platform", 32)
    if platform is None:
        return GENERIC
    platform = platform.lower()
    if not PLATFORM.match(platform):
        raise bad_request("platform must be up to 32 letters, digits, - and _")
    return platform


class BroadcastService:
    def __init__(self, rooms: RoomService) -> None:
        self.rooms = rooms
        self.session = rooms.session
        self.runtime = rooms.runtime
        self.repo = BroadcastRepository(rooms.session, rooms.instance.id)

    def check_available(self, meeting: EyesonMeeting) -> None:
        if not meeting.options.get("broadcast_available", True):
            raise EyesonError(405, "broadcasting is not available in this room")

    async def start(self, meeting: EyesonMeeting, user: EyesonUser, params: dict[str, Any]) -> dict[str, Any]:
        """POST /rooms/:access_key/broadcasts: the new broadcast, `starting`."""
        self.check_available(meeting)
        stream_url = text_param(params.get("stream_url"), "stream_url", MAX_URL, required=True)
        assert stream_url is not None
        try:
            parse_rtmp_url(stream_url)
        except RtmpUrlError as exc:
            raise bad_request(f"stream_url: {exc}") from None
        player_url = text_param(params.get("player_url"), "player_url", MAX_URL)
        platform = platform_param(params.get("platform"))
        running = await self.repo.active(meeting.id)
        if any(b.platform == platform for b in running):
            raise EyesonError(406, f"a {platform} broadcast is running already; stop it first")
        if len(running) >= MAX_BROADCASTS:
            raise EyesonError(406, f"at most {MAX_BROADCASTS} broadcasts run at once")
        broadcast = EyesonBroadcast(
            id=object_id(),
            instance_id=meeting.instance_id,
            meeting_id=meeting.id,
            platform=platform,
            stream_url=stream_url,
            player_url=player_url,
            user_id=user.user_id,
            status="starting",
            reconnects=0,
            started_at=self.rooms.now(),
        )
        self.session.add(broadcast)
        await self.session.flush()
        await publish_update(self.session, self.runtime, meeting)
        # The relay runs in the process that holds the room (it starts here when none does).
        await room_request(
            self.runtime,
            meeting,
            "broadcast_start",
            instance_id=meeting.instance_id,
            broadcast_id=broadcast.id,
            stream_url=stream_url,
        )
        return (await views(self.session, meeting, [broadcast]))[0]

    async def update(self, meeting: EyesonMeeting, platform: str, params: dict[str, Any]) -> dict[str, Any]:
        """PUT /rooms/:access_key/broadcasts/:platform: a new player URL for the running broadcast."""
        player_url = text_param(params.get("player_url"), "player_url", MAX_URL, required=True)
        broadcast = await self._running(meeting, platform_param(platform))
        broadcast.player_url = player_url
        await self.session.flush()
        await publish_update(self.session, self.runtime, meeting)
        return (await views(self.session, meeting, [broadcast]))[0]

    async def stop(self, meeting: EyesonMeeting, platform: str | None) -> None:
        """DELETE /rooms/:access_key/broadcasts[/:platform]: every running broadcast, or that platform's."""
        if platform is not None:
            running = [await self._running(meeting, platform_param(platform))]
        else:
            running = list(await self.repo.active(meeting.id))
            if not running:
                raise not_found("no broadcast is running")
        now = self.rooms.now()
        for broadcast in running:
            broadcast.status, broadcast.stopped_at = STOPPED, now
        await self.session.flush()
        ids = [b.id for b in running]
        await media_command(self.runtime, meeting.id, "broadcast_stop", broadcast_ids=ids)
        await publish_update(self.session, self.runtime, meeting)

    async def _running(self, meeting: EyesonMeeting, platform: str) -> EyesonBroadcast:
        for broadcast in await self.repo.active(meeting.id):
            if broadcast.platform == platform:
                return broadcast
        raise not_found(f"no {platform} broadcast is running")
