"""Moderation eyeson's users ask for and eyeson lacks: mute and unmute a participant from the API (the room leaves
them out of everyone's mix), kick with a ban (the user cannot connect or enter again in this meeting), and unlock
a locked meeting. Any user of the meeting may moderate, as anyone may kick and lock in eyeson."""

from __future__ import annotations

from typing import Any

from mediaplane.services.eyeson import events
from mediaplane.services.eyeson.errors import EyesonError, not_found
from mediaplane.services.eyeson.media import media_command
from mediaplane.services.eyeson.models import EyesonMeeting, EyesonUser
from mediaplane.services.eyeson.rooms import RoomService
from mediaplane.services.eyeson.views import participant


def moderated(user: EyesonUser, meeting: EyesonMeeting) -> dict[str, Any]:
    """A participant_update's participant, with what moderation changed."""
    return {**participant(user, meeting), "muted": user.muted, "banned": user.banned_at is not None}


class ModerationService:
    def __init__(self, rooms: RoomService) -> None:
        self.rooms = rooms
        self.runtime = rooms.runtime

    async def _user(self, meeting: EyesonMeeting, user_id: str) -> EyesonUser:
        user = await self.rooms.repo.user(meeting.id, user_id) if len(user_id) <= 128 else None
        if user is None:
            raise not_found("unknown user")
        return user

    async def _tell(self, meeting: EyesonMeeting, user: EyesonUser) -> None:
        body = moderated(user, meeting)
        await events.publish(self.runtime, meeting.id, {"type": "participant_update", "participant": body})

    async def mute(self, meeting: EyesonMeeting, user_id: str, muted: bool) -> None:
        user = await self._user(meeting, user_id)
        user.muted = muted
        await self.rooms.session.flush()
        await media_command(self.runtime, meeting.id, "mute", user_id=user.user_id, muted=muted)
        await self._tell(meeting, user)

    async def kick(self, meeting: EyesonMeeting, user_id: str, *, ban: bool) -> None:
        """Kicks the user (403 when kick is not available); with `ban` they cannot come back in this meeting."""
        await self.rooms.kick(meeting, user_id)
        if ban:
            user = await self._user(meeting, user_id)
            user.banned_at = self.rooms.now()
            await self.rooms.session.flush()
            await self._tell(meeting, user)
        await self.rooms.room_update(meeting)

    async def unban(self, meeting: EyesonMeeting, user_id: str) -> None:
        if not meeting.options.get("kick_available", True):
            raise EyesonError(403, "kick is not available in this room")
        user = await self._user(meeting, user_id)
        user.banned_at = None
        await self.rooms.session.flush()
        await self._tell(meeting, user)

    async def unlock(self, meeting: EyesonMeeting) -> None:
        if not meeting.options.get("lock_available", False):
            raise EyesonError(403, "lock is not available in this room")
        meeting.locked = False
        await self.rooms.session.flush()
        await self.rooms.room_update(meeting)
