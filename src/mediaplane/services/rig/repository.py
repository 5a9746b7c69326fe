"""Queries on rig's tables. Everything an API call reads is scoped to its instance; only the ingest looks a
stream up by key or node alone, because keys are unique across instances."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, or_, select, update

from mediaplane.kit.db import RepositoryBase
from mediaplane.services.rig.models import RigAccount, RigDestination, RigStream


class AccountRepository(RepositoryBase[RigAccount]):
    model = RigAccount

    async def get_in(self, instance_id: str, account_id: str) -> RigAccount | None:
        return await self.get_one_or_none(
            select(RigAccount).where(RigAccount.instance_id == instance_id, RigAccount.id == account_id)
        )

    async def by_username(self, instance_id: str, username: str) -> RigAccount | None:
        return await self.get_one_or_none(
            select(RigAccount).where(RigAccount.instance_id == instance_id, RigAccount.username == username)
        )

    async def taken(self, instance_id: str, username: str, email: str) -> bool:
        statement = select(RigAccount).where(
            RigAccount.instance_id == instance_id, or_(RigAccount.username == username, RigAccount.email == email)
        )
        return await self.get_one_or_none(statement) is not None


class StreamRepository(RepositoryBase[RigStream]):
    model = RigStream

    async def get_in(self, instance_id: str, stream_id: str) -> RigStream | None:
        return await self.get_one_or_none(
            select(RigStream).where(RigStream.instance_id == instance_id, RigStream.id == stream_id)
        )

    async def of_account(self, instance_id: str, account_id: str) -> Sequence[RigStream]:
        return await self.get_all(
            select(RigStream)
            .where(RigStream.instance_id == instance_id, RigStream.account_id == account_id)
            .order_by(RigStream.created_at, RigStream.id)
        )

    async def by_key_in(self, instance_id: str, stream_key: str) -> RigStream | None:
        return await self.get_one_or_none(
            select(RigStream).where(RigStream.instance_id == instance_id, RigStream.stream_key == stream_key)
        )

    async def live_in(self, instance_id: str) -> Sequence[RigStream]:
        return await self.get_all(
            select(RigStream).where(RigStream.instance_id == instance_id, RigStream.is_streaming.is_(True))
        )

    async def key_exists(self, stream_key: str) -> bool:
        return await self.get_one_or_none(select(RigStream).where(RigStream.stream_key == stream_key)) is not None

    # -- the ingest: by key or node, across instances -----------------------------------------------------

    async def by_key(self, stream_key: str) -> RigStream | None:
        return await self.get_one_or_none(select(RigStream).where(RigStream.stream_key == stream_key))

    async def get(self, stream_id: str) -> RigStream | None:
        return await self.session.get(RigStream, stream_id)

    async def live_on(self, node: str) -> Sequence[RigStream]:
        return await self.get_all(
            select(RigStream).where(RigStream.live_node == node, RigStream.is_streaming.is_(True))
        )

    async def claim_live(self, stream_id: str, node: str, client: str, now: datetime, stale_before: datetime) -> bool:
        """Marks the stream live on `node` in one conditional UPDATE, so two publishes racing for one key cannot
        both win: only when it is not live, its heartbeat went stale, or it is this same publish again."""
        same_publish = and_(RigStream.live_node == node, RigStream.live_client == client) if client else None
        free = or_(
            RigStream.is_streaming.is_(False),
            RigStream.live_seen_at.is_(None),
            RigStream.live_seen_at < stale_before,
            *([same_publish] if same_publish is not None else []),
        )
        result = await self.session.execute(
            update(RigStream)
            .where(RigStream.id == stream_id, RigStream.is_active.is_(True), free)
            .values(is_streaming=True, live_node=node, live_client=client or None, live_since=now, live_seen_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)


class DestinationRepository(RepositoryBase[RigDestination]):
    model = RigDestination

    async def of_stream(self, stream_id: str, *, active_only: bool = False) -> Sequence[RigDestination]:
        statement = select(RigDestination).where(RigDestination.stream_id == stream_id)
        if active_only:
            statement = statement.where(RigDestination.is_active.is_(True))
        return await self.get_all(statement.order_by(RigDestination.id))

    async def get_of_stream(self, stream_id: str, destination_id: int) -> RigDestination | None:
        return await self.get_one_or_none(
            select(RigDestination).where(RigDestination.stream_id == stream_id, RigDestination.id == destination_id)
        )

    async def delete_of_stream(self, stream_id: str) -> None:
        await self.session.execute(delete(RigDestination).where(RigDestination.stream_id == stream_id))
