"""The rules of rooms: create or join a meeting, guests, access keys, lock, kick, messages and shutdown."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.services.eyeson import events, webhooks
from mediaplane.services.eyeson.broadcast.state import running_views
from mediaplane.services.eyeson.errors import EyesonError, bad_request, gone, not_found, unauthorized
from mediaplane.services.eyeson.keys import access_key, guest_token, object_id
from mediaplane.services.eyeson.media import media_command
from mediaplane.services.eyeson.models import EyesonMeeting, EyesonUser
from mediaplane.services.eyeson.options import EyesonOptions
from mediaplane.services.eyeson.recording.links import instance_base
from mediaplane.services.eyeson.recording.views import running_recording
from mediaplane.services.eyeson.repository import EyesonRepository
from mediaplane.services.eyeson.roomopts import room_options
from mediaplane.services.eyeson.views import room_content, room_info

MAX_ID = 128
MAX_NAME = 255
MAX_CHAT = 32 * 1024
MESSAGE_TYPES = ("chat", "custom")


def text_param(value: Any, field: str, limit: int, *, required: bool = False) -> str | None:
    if isinstance(value, bool | int | float):
        value = str(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise bad_request(f"{field} is required")
        return None
    if not isinstance(value, str):
        raise bad_request(f"{field} must be a string")
    value = value.strip()
    if len(value) > limit or any(ord(c) < 32 for c in value):
        raise bad_request(f"{field} must be at most {limit} printable characters")
    return value


class RoomService:
    def __init__(self, session: AsyncSession, runtime: Runtime, instance: Instance) -> None:
        self.session = session
        self.runtime = runtime
        self.instance = instance
        self.repo = EyesonRepository(session, instance.id)

    @property
    def options(self) -> EyesonOptions:
        return EyesonOptions.of(self.instance.options, self.instance.name)

    def now(self) -> Any:
        return self.runtime.clock.now()

    # -- meetings and users

    async def create_or_join(self, params: dict[str, Any]) -> tuple[EyesonMeeting, EyesonUser]:
        """POST /rooms: the running meeting of `id` (a new one when none runs), with this user in it."""
        user_params = params.get("user")
        if not isinstance(user_params, dict):
            raise bad_request("user[name] is required")
        name = text_param(user_params.get("name"), "user[name]", MAX_NAME, required=True)
        user_id = text_param(user_params.get("id"), "user[id]", MAX_ID)
        avatar = text_param(user_params.get("avatar"), "user[avatar]", 2048)
        room_id = text_param(params.get("id"), "id", MAX_ID) or object_id()
        room_name = text_param(params.get("name"), "name", MAX_NAME)
        options = room_options(params.get("options"))
        meeting = await self.repo.running_meeting(room_id)
        if meeting is None:
            meeting = await self._start(room_id, room_name or room_id, options)
        assert name is not None
        user = await self._enter(meeting, user_id, name, avatar, guest=False)
        return meeting, user

    async def _start(self, room_id: str, name: str, options: dict[str, Any]) -> EyesonMeeting:
        now = self.now()
        layout = {"layout": "auto", "users": [], "show_names": options["show_names"]}
        meeting = EyesonMeeting(
            instance_id=self.instance.id,
            room_id=room_id,
            name=name,
            guest_token=guest_token(),
            options=options,
            layout=layout,
            started_at=now,
            last_active_at=now,
        )
        try:
            async with self.session.begin_nested():
                self.session.add(meeting)
        except IntegrityError:
            # Another request started this room's meeting at the same moment: join that one.
            running = await self.repo.running_meeting(room_id)
            if running is None:
                raise
            return running
        return meeting

    async def _enter(
        self, meeting: EyesonMeeting, user_id: str | None, name: str, avatar: str | None, *, guest: bool
    ) -> EyesonUser:
        user = await self.repo.user(meeting.id, user_id) if user_id else None
        if user is not None and user.banned_at is not None:
            raise EyesonError(403, "this user is banned from the meeting")
        if user is not None:
            user.name, user.avatar = name, avatar or user.avatar
            await self.repo.touch(meeting.id, self.now())
            return user
        if meeting.locked:
            raise EyesonError(423, "meeting is locked")
        user = EyesonUser(
            instance_id=self.instance.id,
            meeting_id=meeting.id,
            user_id=user_id or object_id(),
            name=name,
            avatar=avatar,
            guest=guest,
            access_key=access_key(),
            joined_at=self.now(),
        )
        self.session.add(user)
        await self.session.flush()
        await self.repo.touch(meeting.id, self.now())
        return user

    async def join_guest(
        self, token: str, params: dict[str, Any], meeting: EyesonMeeting | None = None
    ) -> tuple[EyesonMeeting, EyesonUser]:
        """POST /guests/:guest_token: a guest in the running meeting of that token (or the `meeting` given, that
        a permalink's guest token leads to)."""
        if meeting is None:
            meeting = await self.repo.meeting_by_guest_token(token) if len(token) <= 64 else None
        if meeting is None or not meeting.options.get("guest_token_available", True):
            raise unauthorized("unknown guest token")
        if meeting.shutdown_at is not None:
            raise gone("meeting has ended")
        raw = params.get("user")
        nested: dict[str, Any] = raw if isinstance(raw, dict) else {}
        name = text_param(params.get("name", nested.get("name")), "name", MAX_NAME, required=True)
        user_id = text_param(params.get("id", nested.get("id")), "id", MAX_ID)
        avatar = text_param(params.get("avatar", nested.get("avatar")), "avatar", 2048)
        assert name is not None
        return meeting, await self._enter(meeting, user_id, name, avatar, guest=True)

    async def by_access_key(self, key: str) -> tuple[EyesonMeeting, EyesonUser]:
        """The user of an access key and their meeting: 404 unknown, 410 once the meeting ended."""
        user = await self.repo.user_by_access_key(key) if 0 < len(key) <= 64 else None
        meeting = await self.repo.meeting(user.meeting_id) if user is not None else None
        if user is None or meeting is None:
            raise not_found("unknown access key")
        if meeting.shutdown_at is not None:
            raise gone("meeting has ended")
        return meeting, user

    async def meeting_of_room(self, room_id: str) -> EyesonMeeting:
        meeting = await self.repo.running_meeting(room_id) or await self.repo.latest_meeting(room_id)
        if meeting is None:
            raise not_found("unknown room")
        return meeting

    # -- what happens in a meeting

    async def room_update(self, meeting: EyesonMeeting) -> None:
        users = list(await self.repo.users(meeting.id))
        base = instance_base(self.runtime, self.instance)
        content = room_content(
            meeting,
            users,
            broadcasts=await running_views(self.session, meeting),
            recording=await running_recording(self.session, self.runtime, meeting, base),
        )
        await events.publish(self.runtime, meeting.id, {"type": "room_update", "content": content})

    async def mark_ready(self, meeting: EyesonMeeting) -> None:
        if meeting.ready_at is None:
            meeting.ready_at = self.now()
            await self.session.flush()
            await self.room_update(meeting)
            await webhooks.emit(self.session, self.runtime, self.instance, "room_update", room=room_info(meeting))

    async def shutdown(self, meeting: EyesonMeeting) -> bool:
        """Ends the meeting (False when it had ended): users offline, media stopped, observers told."""
        if meeting.shutdown_at is not None:
            return False
        now = self.now()
        # Conditional, so that two processes ending the same meeting tell the world once.
        ended = await self.session.execute(
            update(EyesonMeeting)
            .where(EyesonMeeting.id == meeting.id, EyesonMeeting.shutdown_at.is_(None))
            .values(shutdown_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(ended, "rowcount", 0) != 1:
            return False
        meeting.shutdown_at = now
        for user in await self.repo.users(meeting.id, online=True):
            user.online, user.left_at = False, self.now()
        await self.session.flush()
        await self.room_update(meeting)
        await media_command(self.runtime, meeting.id, "shutdown")
        await webhooks.emit(self.session, self.runtime, self.instance, "room_update", room=room_info(meeting))
        return True

    async def kick(self, meeting: EyesonMeeting, user_id: str) -> None:
        if not meeting.options.get("kick_available", True):
            raise EyesonError(403, "kick is not available in this room")
        user = await self.repo.user(meeting.id, user_id)
        if user is None:
            raise not_found("unknown user")
        user.kicked_at = self.now()
        await self.session.flush()
        await media_command(self.runtime, meeting.id, "disconnect", user_id=user.user_id)

    async def lock(self, meeting: EyesonMeeting) -> None:
        if not meeting.options.get("lock_available", False):
            raise EyesonError(403, "lock is not available in this room")
        meeting.locked = True
        await self.session.flush()
        await self.room_update(meeting)

    async def message(self, meeting: EyesonMeeting, user: EyesonUser, params: dict[str, Any]) -> dict[str, Any]:
        type_ = text_param(params.get("type"), "type", 32, required=True)
        content = params.get("content")
        if isinstance(content, int | float) and not isinstance(content, bool):
            content = str(content)
        if not isinstance(content, str) or not content:
            raise bad_request("content is required")
        if type_ not in MESSAGE_TYPES:
            raise bad_request("type must be chat or custom")
        if len(content.encode()) > MAX_CHAT:
            raise bad_request("content is longer than 32 kB")
        now = self.now()
        event = {
            "type": type_,
            "content": content,
            "cid": user.user_id,
            "user_id": user.user_id,
            "created_at": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
        await self.repo.touch(meeting.id, now)
        await events.publish(self.runtime, meeting.id, event)
        return event


async def end_all_meetings(session: AsyncSession, runtime: Runtime, instance: Instance) -> None:
    """The instance is going: every running meeting ends (media stopped, observers told)."""
    service = RoomService(session, runtime, instance)
    for meeting in await service.repo.running_meetings():
        await service.shutdown(meeting)
