"""The queries of recordings and snapshots, always scoped to one instance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.services.eyeson.models import EyesonMeeting, EyesonRecording, EyesonSnapshot, EyesonUser

PAGE_SIZE = 25
Stored = TypeVar("Stored", EyesonRecording, EyesonSnapshot)


@dataclass(frozen=True)
class Window:
    """A room's listing: which page (from 1), and the creation times or meeting start it is limited to."""

    page: int = 1
    since: datetime | None = None
    until: datetime | None = None
    meeting_ids: Sequence[str] | None = None


class RecordingRepository:
    def __init__(self, session: AsyncSession, instance_id: str) -> None:
        self.session = session
        self.instance_id = instance_id

    async def _get(self, model: type[Stored], object_id: str) -> Stored | None:
        found = await self.session.get(model, object_id) if len(object_id) <= 36 else None
        return found if found is not None and found.instance_id == self.instance_id else None

    async def recording(self, recording_id: str) -> EyesonRecording | None:
        return await self._get(EyesonRecording, recording_id)

    async def snapshot(self, snapshot_id: str) -> EyesonSnapshot | None:
        return await self._get(EyesonSnapshot, snapshot_id)

    async def active_recording(self, meeting_id: str) -> EyesonRecording | None:
        """The meeting's recording that is running (started, not asked to stop)."""
        query = select(EyesonRecording).where(
            EyesonRecording.instance_id == self.instance_id,
            EyesonRecording.meeting_id == meeting_id,
            EyesonRecording.status == "recording",
            EyesonRecording.stopped_at.is_(None),
        )
        return (await self.session.execute(query.limit(1))).scalar_one_or_none()

    async def _of_room(self, model: type[Stored], room_id: str, window: Window) -> Sequence[Stored]:
        query = select(model).where(model.instance_id == self.instance_id, model.room_id == room_id)
        if window.since is not None:
            query = query.where(model.created_at >= window.since)
        if window.until is not None:
            query = query.where(model.created_at <= window.until)
        if window.meeting_ids is not None:
            query = query.where(model.meeting_id.in_(list(window.meeting_ids)))
        query = query.order_by(model.created_at.desc(), model.id).offset((window.page - 1) * PAGE_SIZE)
        return (await self.session.execute(query.limit(PAGE_SIZE))).scalars().all()

    async def recordings_of_room(self, room_id: str, window: Window) -> Sequence[EyesonRecording]:
        return await self._of_room(EyesonRecording, room_id, window)

    async def snapshots_of_room(self, room_id: str, window: Window) -> Sequence[EyesonSnapshot]:
        return await self._of_room(EyesonSnapshot, room_id, window)

    async def meetings_started(self, room_id: str, started_at: datetime) -> Sequence[str]:
        """The ids of the room's meetings that started at that moment (to the millisecond, as eyeson shows it)."""
        query = select(EyesonMeeting).where(
            EyesonMeeting.instance_id == self.instance_id, EyesonMeeting.room_id == room_id
        )
        meetings = (await self.session.execute(query)).scalars().all()
        wanted = started_at.replace(microsecond=started_at.microsecond // 1000 * 1000)
        return [m.id for m in meetings if _ms(m.started_at) == wanted]

    async def meeting(self, meeting_id: str) -> EyesonMeeting | None:
        meeting = await self.session.get(EyesonMeeting, meeting_id)
        return meeting if meeting is not None and meeting.instance_id == self.instance_id else None

    async def user(self, meeting_id: str, user_id: str | None) -> EyesonUser | None:
        if user_id is None:
            return None
        query = select(EyesonUser).where(
            EyesonUser.instance_id == self.instance_id,
            EyesonUser.meeting_id == meeting_id,
            EyesonUser.user_id == user_id,
        )
        return (await self.session.execute(query)).scalar_one_or_none()


def _ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
