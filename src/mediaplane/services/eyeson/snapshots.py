"""Snapshots: a JPEG of the room's last composed picture, stored like recordings; read, listed and deleted."""

from __future__ import annotations

import base64
from typing import Any

from mediaplane.core.runtime import Runtime
from mediaplane.services.eyeson import events, webhooks
from mediaplane.services.eyeson.errors import not_found
from mediaplane.services.eyeson.keys import object_id
from mediaplane.services.eyeson.models import EyesonMeeting, EyesonSnapshot, EyesonUser
from mediaplane.services.eyeson.recording.links import instance_base, storage_key
from mediaplane.services.eyeson.recording.repository import RecordingRepository
from mediaplane.services.eyeson.recording.views import describe_snapshot
from mediaplane.services.eyeson.recordings import listing_window
from mediaplane.services.eyeson.requests import room_request
from mediaplane.services.eyeson.rooms import RoomService


async def room_jpeg(runtime: Runtime, meeting: EyesonMeeting) -> bytes:
    """The room's picture now as a JPEG, from the process that holds the room (answers.py: 409 when it has no
    picture yet)."""
    result = await room_request(runtime, meeting, "snapshot")
    return base64.b64decode(result["jpeg"])


class SnapshotService:
    def __init__(self, rooms: RoomService) -> None:
        self.rooms = rooms
        self.runtime = rooms.runtime
        self.repo = RecordingRepository(rooms.session, rooms.instance.id)

    async def take(self, meeting: EyesonMeeting, user: EyesonUser, base: str) -> dict[str, Any]:
        """POST /rooms/:access_key/snapshot: the picture now, stored; observers get a snapshot_update with it."""
        data = await room_jpeg(self.runtime, meeting)
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
