"""The rules of recordings: start and stop a meeting's recording, read, list and delete them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mediaplane.kit.railsparams import ParamsError, as_int
from mediaplane.services.eyeson import events
from mediaplane.services.eyeson.errors import EyesonError, bad_request, not_found
from mediaplane.services.eyeson.keys import object_id
from mediaplane.services.eyeson.media import media_command
from mediaplane.services.eyeson.models import EyesonMeeting, EyesonRecording, EyesonUser
from mediaplane.services.eyeson.recording.repository import RecordingRepository, Window
from mediaplane.services.eyeson.recording.views import describe_recording
from mediaplane.services.eyeson.requests import room_request
from mediaplane.services.eyeson.rooms import RoomService

MAX_PAGE = 1_000_000


class RecordingService:
    def __init__(self, rooms: RoomService) -> None:
        self.rooms = rooms
        self.runtime = rooms.runtime
        self.repo = RecordingRepository(rooms.session, rooms.instance.id)

    async def start(self, meeting: EyesonMeeting, user: EyesonUser, base: str) -> dict[str, Any]:
        """POST /rooms/:access_key/recording: 405 when recordings are off, 406 when one runs already. The recorder
        runs in the process that holds the room (it starts here when none does)."""
        if not meeting.options.get("recording_available", True):
            raise EyesonError(405, "recording is not available in this room")
        if await self.repo.active_recording(meeting.id) is not None:
            raise EyesonError(406, "a recording is running already")
        recording = EyesonRecording(
            id=object_id(),
            instance_id=meeting.instance_id,
            meeting_id=meeting.id,
            room_id=meeting.room_id,
            user_id=user.user_id,
            status="recording",
            created_at=self.rooms.now(),
        )
        self.rooms.session.add(recording)
        await self.rooms.session.flush()
        await self.rooms.repo.touch(meeting.id, self.rooms.now())
        # 406 when another request started one a moment ago: this one's row goes with the rollback.
        await room_request(
            self.runtime, meeting, "record_start", instance_id=meeting.instance_id, recording_id=recording.id
        )
        body = await describe_recording(self.repo, self.runtime, recording, base)
        await events.publish(self.runtime, meeting.id, {"type": "recording_update", "recording": body})
        return body

    async def stop(self, meeting: EyesonMeeting, base: str) -> dict[str, Any]:
        """DELETE /rooms/:access_key/recording: the running recording ends; 404 when none runs."""
        recording = await self.repo.active_recording(meeting.id)
        if recording is None:
            raise not_found("no recording is running")
        recording.stopped_at = self.rooms.now()
        await self.rooms.session.flush()
        await media_command(self.runtime, meeting.id, "record_stop", recording_id=recording.id)
        return await describe_recording(self.repo, self.runtime, recording, base)

    async def get(self, recording_id: str) -> EyesonRecording:
        recording = await self.repo.recording(recording_id)
        if recording is None:
            raise not_found("unknown recording")
        return recording

    async def describe(self, recording: EyesonRecording, base: str) -> dict[str, Any]:
        return await describe_recording(self.repo, self.runtime, recording, base)

    async def delete(self, recording: EyesonRecording) -> None:
        """The recording and its file; a running one is stopped and its file dropped."""
        if recording.status == "recording":
            await media_command(
                self.runtime, recording.meeting_id, "record_stop", recording_id=recording.id, discard=True
            )
        if recording.storage_key:
            await self.runtime.storage.delete(recording.storage_key)
        await self.rooms.session.delete(recording)
        await self.rooms.session.flush()

    async def of_room(self, room_id: str, params: dict[str, Any], base: str) -> list[dict[str, Any]]:
        """GET /rooms/:room_id/recordings: newest first, 25 a page."""
        await self.rooms.meeting_of_room(room_id)  # 404 for a room id that never had a meeting
        window = await listing_window(self.repo, room_id, params)
        found = await self.repo.recordings_of_room(room_id, window)
        return [await describe_recording(self.repo, self.runtime, r, base) for r in found]


def moment(value: Any, field: str) -> datetime | None:
    """An ISO 8601 time (or unix seconds) from the query; 400 when it is not one."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    try:
        if text.isascii() and text.isdigit():
            return datetime.fromtimestamp(int(text), UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise bad_request(f"{field} must be an ISO 8601 time") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


async def listing_window(repo: RecordingRepository, room_id: str, params: dict[str, Any]) -> Window:
    """`page` (from 1), `since`, `until` and `started_at` (one meeting of the room) of a room's listing."""
    try:
        page = as_int(params.get("page"), 1)
    except ParamsError:
        raise bad_request("page must be a number") from None
    page = min(max(page, 1), MAX_PAGE)  # far past the end is empty; an offset must fit a BIGINT
    started = moment(params.get("started_at"), "started_at")
    meeting_ids = None if started is None else await repo.meetings_started(room_id, started)
    return Window(page, moment(params.get("since"), "since"), moment(params.get("until"), "until"), meeting_ids)
