"""What the dashboard reads: the instance's running meetings with their users, recordings, snapshots and
broadcasts, and the live state the pages update from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.console.render import when
from mediaplane.kit.errors import NotFound
from mediaplane.services.eyeson.broadcast.state import BroadcastRepository
from mediaplane.services.eyeson.models import (
    EyesonBroadcast,
    EyesonMeeting,
    EyesonRecording,
    EyesonSnapshot,
    EyesonUser,
)
from mediaplane.services.eyeson.recording.repository import RecordingRepository
from mediaplane.services.eyeson.repository import EyesonRepository

LISTED = 50  # recordings and snapshots shown on a room's page (newest first)


@dataclass
class RoomRow:
    meeting: EyesonMeeting
    users: list[EyesonUser] = field(default_factory=list)
    recording: EyesonRecording | None = None
    broadcasts: Sequence[EyesonBroadcast] = ()

    @property
    def online(self) -> list[EyesonUser]:
        return [u for u in self.users if u.online]

    @property
    def state(self) -> str:
        if self.meeting.shutdown_at is not None:
            return "ended"
        return "ready" if self.meeting.ready_at is not None else "starting"

    @property
    def senders(self) -> list[EyesonUser]:
        """Who the owner may send a message as: the users made with the API key (a guest's access key went only
        to the guest)."""
        return [u for u in self.users if not u.guest]


def meeting_id_of(value: str) -> str:
    """A meeting id from a path, or 404 (a value no database would take is no id)."""
    if not (0 < len(value) <= 36 and value.isascii() and value.isprintable()):
        raise NotFound("There is no such room in this instance.")
    return value


async def room_rows(session: AsyncSession, instance_id: str, meeting_id: str | None = None) -> list[RoomRow]:
    """The running meetings (or the one with `meeting_id`, running or not), oldest first, with their users."""
    repo = EyesonRepository(session, instance_id)
    if meeting_id is None:
        meetings = list(await repo.running_meetings())
    else:
        found = await repo.meeting(meeting_id_of(meeting_id))
        meetings = [found] if found is not None else []
    recordings = RecordingRepository(session, instance_id)
    broadcasts = BroadcastRepository(session, instance_id)
    rows = []
    for meeting in meetings:
        users = [u for u in await repo.users(meeting.id) if u.kicked_at is None or u.online]
        rows.append(
            RoomRow(
                meeting,
                users,
                await recordings.active_recording(meeting.id),
                await broadcasts.active(meeting.id),
            )
        )
    return rows


async def recordings_of(session: AsyncSession, instance_id: str, room_id: str) -> Sequence[EyesonRecording]:
    query = (
        select(EyesonRecording)
        .where(EyesonRecording.instance_id == instance_id, EyesonRecording.room_id == room_id)
        .order_by(EyesonRecording.created_at.desc())
        .limit(LISTED)
    )
    return (await session.scalars(query)).all()


async def snapshots_of(session: AsyncSession, instance_id: str, room_id: str) -> Sequence[EyesonSnapshot]:
    query = (
        select(EyesonSnapshot)
        .where(EyesonSnapshot.instance_id == instance_id, EyesonSnapshot.room_id == room_id)
        .order_by(EyesonSnapshot.created_at.desc())
        .limit(LISTED)
    )
    return (await session.scalars(query)).all()


def _user_state(user: EyesonUser) -> dict[str, Any]:
    return {"id": user.user_id, "name": user.name, "guest": user.guest, "online": user.online}


def _recording_state(recording: EyesonRecording) -> dict[str, Any]:
    return {"id": recording.id, "status": recording.status, "duration": recording.duration}


def live_state(rows: Sequence[RoomRow], recordings: Sequence[EyesonRecording] = ()) -> dict[str, Any]:
    """What the pages update: each room's state, users and running recording/broadcasts (no keys or URLs), and
    what the list needs to add a room started elsewhere."""
    return {
        "rooms": [
            {
                "id": row.meeting.id,
                "name": row.meeting.name,
                "started": when(row.meeting.started_at),
                "state": row.state,
                "users": [_user_state(u) for u in row.users],
                "online": len(row.online),
                "recording": None if row.recording is None else _recording_state(row.recording),
                "broadcasts": [{"platform": b.platform, "status": b.status} for b in row.broadcasts],
            }
            for row in rows
        ],
        "recordings": [_recording_state(r) for r in recordings],
    }
