"""What the rig API does with streams and destinations, and how each change reaches a live session.

A change that ends a session (new key, stream deactivated or deleted) marks the stream offline at once, so
the publisher can come back (with the new key) without waiting for the ingest, and asks the ingest to drop
the publisher. A change to the outputs of a live stream asks the ingest to read them again. Both requests go
out after the commit.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.core.ingest import ingest_control
from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.services.rig import webhooks
from mediaplane.services.rig.errors import Code, RigError
from mediaplane.services.rig.inputs import Flag, Text, read
from mediaplane.services.rig.live import is_live, mark_offline, reset_outputs
from mediaplane.services.rig.models import RigAccount, RigDestination, RigStream
from mediaplane.services.rig.options import RigOptions
from mediaplane.services.rig.repository import DestinationRepository, StreamRepository
from mediaplane.services.rig.schemas import INGEST_APP
from mediaplane.services.rig.targets import KEY_MAX, check_key, read_new


def new_stream_key() -> str:
    """22 URL-safe characters, the shape of rig's keys (`_mYrirpvU-OkH5LoVDci4g`)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()


def _uuid(value: str) -> str | None:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


class StreamService:
    """The streams of one account of one instance."""

    def __init__(self, session: AsyncSession, runtime: Runtime, instance: Instance, account: RigAccount) -> None:
        self.session = session
        self.runtime = runtime
        self.instance = instance
        self.account = account
        self.streams = StreamRepository(session)
        self.destinations = DestinationRepository(session)

    # -- streams ------------------------------------------------------------------------------------------

    async def create(self) -> RigStream:
        stream = RigStream(
            instance_id=self.instance.id,
            account_id=self.account.id,
            stream_key=await self._unused_key(),
            is_active=True,
            is_streaming=False,
            created_at=self.runtime.clock.now(),
        )
        return await self.streams.create(stream)

    async def list(self) -> Sequence[RigStream]:
        return await self.streams.of_account(self.instance.id, self.account.id)

    async def get(self, stream_id: str) -> RigStream:
        """1008 for an unknown stream (or not a UUID), 1005 for another account's, as rig answers."""
        canonical = _uuid(stream_id)
        stream = await self.streams.get_in(self.instance.id, canonical) if canonical else None
        if stream is None:
            raise RigError(Code.FETCH_FAILED)
        if stream.account_id != self.account.id:
            raise RigError(Code.INVALID_INPUT)
        return stream

    async def change_key(self, stream_id: str) -> RigStream:
        stream = await self.get(stream_id)
        old_key = stream.stream_key
        stream.stream_key = await self._unused_key()
        await self._end_session(stream, old_key, "key_changed")
        await self.session.flush()
        return stream

    async def update(self, stream_id: str, body: dict[str, Any]) -> RigStream:
        stream = await self.get(stream_id)
        active = read(body, Flag("isActive"))["isActive"]
        stream.is_active = active
        if not active:
            await self._end_session(stream, stream.stream_key, "deactivated")
        await self.session.flush()
        return stream

    async def delete(self, stream_id: str) -> None:
        stream = await self.get(stream_id)
        await self._end_session(stream, stream.stream_key, "deleted")
        await self.destinations.delete_of_stream(stream.id)
        await self.streams.delete(stream)

    # -- destinations -------------------------------------------------------------------------------------

    async def destinations_of(self, stream: RigStream) -> Sequence[RigDestination]:
        return await self.destinations.of_stream(stream.id)

    async def add_destination(self, stream_id: str, body: dict[str, Any]) -> RigDestination:
        stream = await self.get(stream_id)
        service, base, key = read_new(body, RigOptions.of(self.instance.options))
        destination = RigDestination(
            instance_id=self.instance.id,
            stream_id=stream.id,
            service=service,
            base_url=base,
            stream_key=key,
            is_active=True,
            created_at=self.runtime.clock.now(),
            status="idle",
            bitrate_kbps=0.0,
            reconnects=0,
        )
        await self.destinations.create(destination)
        await self._outputs_changed(stream)
        return destination

    async def update_destination(self, stream_id: str, destination_id: str, body: dict[str, Any]) -> RigDestination:
        stream = await self.get(stream_id)
        destination = await self._destination(stream, destination_id)
        values = read(body, Flag("isActive", required=False), Text("streamKey", max=KEY_MAX, required=False))
        if "streamKey" in values:
            check_key(destination.service, values["streamKey"])
            destination.stream_key = values["streamKey"]
        if "isActive" in values:
            destination.is_active = values["isActive"]
            if not destination.is_active:
                reset_outputs([destination], self.runtime.clock.now())
        await self.session.flush()
        if values:
            await self._outputs_changed(stream)
        return destination

    async def remove_destination(self, stream_id: str, destination_id: str) -> None:
        stream = await self.get(stream_id)
        destination = await self._destination(stream, destination_id)
        await self.destinations.delete(destination)
        await self._outputs_changed(stream)

    # -- helpers ------------------------------------------------------------------------------------------

    async def _destination(self, stream: RigStream, destination_id: str) -> RigDestination:
        found = None
        if destination_id.isascii() and destination_id.isdigit() and len(destination_id) < 19:
            found = await self.destinations.get_of_stream(stream.id, int(destination_id))
        if found is None:
            raise RigError(Code.FETCH_FAILED)
        return found

    async def _unused_key(self) -> str:
        while True:  # 128 random bits: a second round is all but impossible
            key = new_stream_key()
            if not await self.streams.key_exists(key):
                return key

    async def _end_session(self, stream: RigStream, key: str, reason: str) -> None:
        if not stream.is_streaming:
            return
        mark_offline(stream, await self.destinations.of_stream(stream.id), self.runtime.clock.now())
        await webhooks.emit(self.session, self.runtime, self.instance, "stream.offline", stream, reason=reason)
        await ingest_control(self.runtime).drop(self.session, INGEST_APP, key)

    async def _outputs_changed(self, stream: RigStream) -> None:
        if stream.is_streaming:
            await ingest_control(self.runtime).refresh(self.session, INGEST_APP, stream.stream_key)


async def agent_config(session: AsyncSession, runtime: Runtime, instance: Instance, stream_key: str) -> list[Any]:
    """Every destination of the stream with this key (inactive ones too), unless the stream is live."""
    stream = await StreamRepository(session).by_key_in(instance.id, stream_key) if "\x00" not in stream_key else None
    if stream is None:
        raise RigError(Code.FETCH_FAILED)
    if is_live(stream, runtime):
        raise RigError(Code.IN_USE)
    return list(await DestinationRepository(session).of_stream(stream.id))


async def drop_live_streams(session: AsyncSession, runtime: Runtime, instance: Instance) -> None:
    """The instance is going away: its publishers go with it."""
    for stream in await StreamRepository(session).live_in(instance.id):
        await ingest_control(runtime).drop(session, INGEST_APP, stream.stream_key)
