"""The JSON shapes of recordings and snapshots (eyeson's, §1.4 of the upstream notes), with fresh links."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.core.runtime import Runtime
from mediaplane.services.eyeson.models import EyesonMeeting, EyesonRecording, EyesonSnapshot, EyesonUser
from mediaplane.services.eyeson.recording.links import download_url
from mediaplane.services.eyeson.recording.repository import RecordingRepository
from mediaplane.services.eyeson.views import iso, room_info, user_info


def recording_view(
    recording: EyesonRecording, meeting: EyesonMeeting, user: EyesonUser | None, base: str, download: str | None
) -> dict[str, Any]:
    """`{id, created_at (unix), duration (s), links{self, download}, user, room}`: duration and download are null
    until the file is finished and stored. `status` (recording, stopped, ready, failed) is ours."""
    duration = None if recording.duration is None else round(recording.duration)
    return {
        "id": recording.id,
        "created_at": int(recording.created_at.timestamp()),
        "duration": duration,
        "status": recording.status,
        "links": {"self": f"{base}recordings/{recording.id}", "download": download},
        "user": None if user is None else user_info(user),
        "room": room_info(meeting),
    }


def snapshot_view(
    snapshot: EyesonSnapshot, meeting: EyesonMeeting, user: EyesonUser | None, base: str, download: str | None
) -> dict[str, Any]:
    """`{id, name (unix time as a string), links{self, download}, creator, created_at (ISO), room}`."""
    return {
        "id": snapshot.id,
        "name": snapshot.name,
        "links": {"self": f"{base}snapshots/{snapshot.id}", "download": download},
        "creator": None if user is None else user_info(user),
        "created_at": iso(snapshot.created_at),
        "room": room_info(meeting),
    }


async def describe_recording(
    repo: RecordingRepository, runtime: Runtime, recording: EyesonRecording, base: str
) -> dict[str, Any]:
    meeting = await repo.meeting(recording.meeting_id)
    assert meeting is not None  # a recording goes with its meeting (ON DELETE CASCADE)
    user = await repo.user(meeting.id, recording.user_id)
    download = None
    if recording.status == "ready" and recording.storage_key:
        download = await download_url(
            runtime, recording.instance_id, base, "recordings", recording.id, recording.storage_key
        )
    return recording_view(recording, meeting, user, base, download)


async def describe_snapshot(
    repo: RecordingRepository, runtime: Runtime, snapshot: EyesonSnapshot, base: str
) -> dict[str, Any]:
    meeting = await repo.meeting(snapshot.meeting_id)
    assert meeting is not None
    user = await repo.user(meeting.id, snapshot.user_id)
    download = None
    if snapshot.storage_key:
        download = await download_url(
            runtime, snapshot.instance_id, base, "snapshots", snapshot.id, snapshot.storage_key
        )
    return snapshot_view(snapshot, meeting, user, base, download)


async def running_recording(
    session: AsyncSession, runtime: Runtime, meeting: EyesonMeeting, base: str
) -> dict[str, Any] | None:
    """The `recording` of the room response and of room_update: the one running, else null."""
    if meeting.shutdown_at is not None:
        return None
    repo = RecordingRepository(session, meeting.instance_id)
    recording = await repo.active_recording(meeting.id)
    return None if recording is None else await describe_recording(repo, runtime, recording, base)
