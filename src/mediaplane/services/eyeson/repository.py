"""All of eyeson's queries, always scoped to one instance."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.services.eyeson.models import EyesonMeeting, EyesonUser, EyesonWebhook


class EyesonRepository:
    def __init__(self, session: AsyncSession, instance_id: str) -> None:
        self.session = session
        self.instance_id = instance_id

    async def running_meeting(self, room_id: str) -> EyesonMeeting | None:
        query = select(EyesonMeeting).where(
            EyesonMeeting.instance_id == self.instance_id,
            EyesonMeeting.room_id == room_id,
            EyesonMeeting.shutdown_at.is_(None),
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def running_meetings(self) -> Sequence[EyesonMeeting]:
        query = (
            select(EyesonMeeting)
            .where(EyesonMeeting.instance_id == self.instance_id, EyesonMeeting.shutdown_at.is_(None))
            .order_by(EyesonMeeting.started_at)
        )
        return (await self.session.execute(query)).scalars().all()

    async def latest_meeting(self, room_id: str) -> EyesonMeeting | None:
        query = (
            select(EyesonMeeting)
            .where(EyesonMeeting.instance_id == self.instance_id, EyesonMeeting.room_id == room_id)
            .order_by(EyesonMeeting.started_at.desc())
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def meeting(self, meeting_id: str) -> EyesonMeeting | None:
        meeting = await self.session.get(EyesonMeeting, meeting_id)
        return meeting if meeting is not None and meeting.instance_id == self.instance_id else None

    async def meeting_by_guest_token(self, token: str) -> EyesonMeeting | None:
        query = select(EyesonMeeting).where(
            EyesonMeeting.instance_id == self.instance_id, EyesonMeeting.guest_token == token
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def user_by_access_key(self, access_key: str) -> EyesonUser | None:
        query = select(EyesonUser).where(
            EyesonUser.instance_id == self.instance_id, EyesonUser.access_key == access_key
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def user(self, meeting_id: str, user_id: str) -> EyesonUser | None:
        query = select(EyesonUser).where(
            EyesonUser.instance_id == self.instance_id,
            EyesonUser.meeting_id == meeting_id,
            EyesonUser.user_id == user_id,
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def users(self, meeting_id: str, online: bool | None = None) -> Sequence[EyesonUser]:
        query = select(EyesonUser).where(
            EyesonUser.instance_id == self.instance_id, EyesonUser.meeting_id == meeting_id
        )
        if online is not None:
            query = query.where(EyesonUser.online.is_(online))
        return (await self.session.execute(query.order_by(EyesonUser.joined_at, EyesonUser.id))).scalars().all()

    async def touch(self, meeting_id: str, now: datetime) -> None:
        await self.session.execute(
            update(EyesonMeeting)
            .where(EyesonMeeting.id == meeting_id, EyesonMeeting.instance_id == self.instance_id)
            .values(last_active_at=now)
        )

    async def webhook(self) -> EyesonWebhook | None:
        query = select(EyesonWebhook).where(EyesonWebhook.instance_id == self.instance_id)
        return (await self.session.execute(query)).scalar_one_or_none()
