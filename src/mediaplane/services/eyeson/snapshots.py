"""Snapshots: a JPEG of the room's last composed picture, stored like recordings; read, listed and deleted."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from av import VideoFrame

from mediaplane.core.runtime import Runtime
from mediaplane.services.eyeson import events, webhooks
from mediaplane.services.eyeson.errors import EyesonError, not_found
from mediaplane.services.eyeson.keys import object_id
from mediaplane.services.eyeson.media import media_rooms
from mediaplane.services.eyeson.models import EyesonMeeting, EyesonSnapshot, EyesonUser
from mediaplane.services.eyeson.recording.links import instance_base, storage_key
from mediaplane.services.eyeson.recording.repository import RecordingRepository
from mediaplane.services.eyeson.recording.views import describe_snapshot
from mediaplane.services.eyeson.recordings import listing_window
from mediaplane.services.eyeson.rooms import RoomService

JPEG_QUALITY = 90
PICTURE_WAIT = 2.0
"""Seconds a snapshot waits for the room's first picture (a room that has just started, or that forwards video
instead of composing: sfu.py)."""


def jpeg(frame: VideoFrame) -> bytes:
    out = io.BytesIO()
    frame.to_image().save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


async def room_picture(runtime: Runtime, meeting: EyesonMeeting) -> VideoFrame:
    room = await media_rooms(runtime).ensure(meeting)
    picture = await room.fresh_picture(PICTURE_WAIT)
    if picture is None:
        raise EyesonError(409, "the room has no picture yet")
    return picture


class SnapshotService:
    def __init__(self, rooms: RoomService) -> None:
        self.rooms = rooms
        self.runtime = rooms.runtime
        self.repo = RecordingRepository(rooms.session, rooms.instance.id)

    async def take(self, meeting: EyesonMeeting, user: EyesonUser, base: str) -> dict[str, Any]:
        """POST /rooms/:access_key/snapshot: the picture now, stored; observers get a snapshot_update with it."""
        picture = await room_picture(self.runtime, meeting)
        data = await asyncio.to_thread(jpeg, picture)
        now = self.rooms.now()
        snapshot = EyesonSnapshot(
            id=object_id(),
            instance_id=meeting.instance_id,
            meeting_id=meeting.id,
            room_id=meeting.room_id,
            user_id=user.user_id,
            name=str(int(now.timestamp())),
            created_at=now,
        )
        key = storage_key(meeting.instance_id, "snapshots", snapshot.id)
        info = await self.runtime.storage.put_bytes(key, data)
        snapshot.storage_key, snapshot.size = key, info.size
        self.rooms.session.add(snapshot)
        await self.rooms.session.flush()
        await self.rooms.repo.touch(meeting.id, now)
        instance = self.rooms.instance
        hooked = await describe_snapshot(self.repo, self.runtime, snapshot, instance_base(self.runtime, instance))
        await webhooks.emit(self.rooms.session, self.runtime, instance, "snapshot_update", snapshot=hooked)
        await events.publish(self.runtime, meeting.id, {"type": "snapshot_update", "snapshots": [hooked]})
        return await describe_snapshot(self.repo, self.runtime, snapshot, base)

    async def get(self, snapshot_id: str, meeting: EyesonMeeting | None = None) -> EyesonSnapshot:
        """A snapshot of the instance (of the meeting's room, when one is given); 404 otherwise."""
        snapshot = await self.repo.snapshot(snapshot_id)
        if snapshot is None or (meeting is not None and snapshot.room_id != meeting.room_id):
            raise not_found("unknown snapshot")
        return snapshot

    async def describe(self, snapshot: EyesonSnapshot, base: str) -> dict[str, Any]:
        return await describe_snapshot(self.repo, self.runtime, snapshot, base)

    async def delete(self, snapshot: EyesonSnapshot) -> None:
        if snapshot.storage_key:
            await self.runtime.storage.delete(snapshot.storage_key)
        await self.rooms.session.delete(snapshot)
        await self.rooms.session.flush()

    async def of_room(self, room_id: str, params: dict[str, Any], base: str) -> list[dict[str, Any]]:
        """GET /rooms/:room_id/snapshots: newest first, 25 a page."""
        await self.rooms.meeting_of_room(room_id)
        window = await listing_window(self.repo, room_id, params)
        found = await self.repo.snapshots_of_room(room_id, window)
        return [await describe_snapshot(self.repo, self.runtime, s, base) for s in found]
