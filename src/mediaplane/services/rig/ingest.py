"""rig's side of the platform's RTMP ingest: rtmp://HOST:PORT/rig/<streamKey>.

Every method opens its own transaction and may run twice without harm: the ingest retries, and a process
that restarts reports its sessions gone with `reset`.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.core.ingest import (
    Admission,
    IngestHandler,
    Output,
    OutputState,
    Publish,
    Refused,
    SessionEnd,
    node_name,
)
from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.services.rig import webhooks
from mediaplane.services.rig.live import heartbeat_timeout, mark_offline, reset_outputs
from mediaplane.services.rig.models import RigDestination, RigStream
from mediaplane.services.rig.repository import DestinationRepository, StreamRepository
from mediaplane.services.rig.schemas import INGEST_APP


def _outputs(destinations: list[RigDestination]) -> tuple[Output, ...]:
    return tuple(Output(id=str(d.id), url=d.rtmp_url) for d in destinations if d.is_active)


class RigIngest(IngestHandler):
    app = INGEST_APP

    async def admit(self, runtime: Runtime, publish: Publish) -> Admission:
        node, now = node_name(runtime), runtime.clock.now()
        async with runtime.db.session() as session:
            streams = StreamRepository(session)
            stream = await streams.by_key(publish.key) if publish.key and "\x00" not in publish.key else None
            if stream is None:
                raise Refused("unknown", "No stream has this key")
            if not stream.is_active:
                raise Refused("inactive", "This stream is not active")
            if not await streams.claim_live(
                stream.id, node, publish.client_id[:64], now, now - heartbeat_timeout(runtime)
            ):
                raise Refused("in_use", "This stream is already live")
            await session.refresh(stream)
            destinations = list(await DestinationRepository(session).of_stream(stream.id))
            reset_outputs(destinations, now)
            await self._emit(session, runtime, stream, "stream.live")
            return Admission(ref=stream.id, outputs=_outputs(destinations))

    async def outputs(self, runtime: Runtime, key: str, ref: str) -> tuple[Output, ...]:
        async with runtime.db.session() as session:
            stream = await StreamRepository(session).get(ref)
            if stream is None or stream.stream_key != key or not stream.is_active:
                return ()
            return _outputs(list(await DestinationRepository(session).of_stream(stream.id, active_only=True)))

    async def still_allowed(self, runtime: Runtime, key: str, ref: str) -> bool:
        async with runtime.db.session() as session:
            stream = await StreamRepository(session).get(ref)
            if not self._holds(runtime, stream, key):
                return False
            assert stream is not None
            stream.live_seen_at = runtime.clock.now()
            return True

    async def ended(self, runtime: Runtime, key: str, ref: str, end: SessionEnd) -> None:
        async with runtime.db.session() as session:
            stream = await StreamRepository(session).get(ref)
            # A session the API already ended (new key, deactivated) or one admitted again elsewhere: not ours.
            if stream is None or stream.stream_key != key or not stream.is_streaming:
                return
            if stream.live_node != node_name(runtime):
                return
            await self._offline(session, runtime, stream, end.reason)

    async def output_changed(
        self, runtime: Runtime, ref: str, state: OutputState, previous: OutputState | None
    ) -> None:
        if not state.id.isdigit():
            return
        now = runtime.clock.now()
        async with runtime.db.session() as session:
            stream = await StreamRepository(session).get(ref)
            destination = await DestinationRepository(session).get_of_stream(ref, int(state.id))
            if stream is None or destination is None or not stream.is_streaming:
                return  # removed meanwhile, or a late report after the session ended
            was = destination.status
            if state.status != was:
                destination.status_changed_at = state.since or now
            destination.status = state.status
            destination.last_error = state.last_error
            destination.bitrate_kbps = float(state.bitrate_kbps)
            destination.reconnects = state.reconnects
            if state.status == "error" and was != "error":
                destination.error_since = destination.error_since or now
                await self._emit(session, runtime, stream, "destination.error", destination)
            elif state.status == "live" and destination.error_since is not None:
                destination.error_since = None
                await self._emit(session, runtime, stream, "destination.recovered", destination)

    async def reset(self, runtime: Runtime, node: str) -> None:
        async with runtime.db.session() as session:
            for stream in await StreamRepository(session).live_on(node):
                await self._offline(session, runtime, stream, "lost")

    # -- helpers ------------------------------------------------------------------------------------------

    @staticmethod
    def _holds(runtime: Runtime, stream: RigStream | None, key: str) -> bool:
        """Whether the session on `key` at this node is still this stream's live session."""
        return (
            stream is not None
            and stream.stream_key == key
            and stream.is_active
            and stream.is_streaming
            and stream.live_node == node_name(runtime)
        )

    async def _offline(self, session: AsyncSession, runtime: Runtime, stream: RigStream, reason: str) -> None:
        destinations = await DestinationRepository(session).of_stream(stream.id)
        mark_offline(stream, destinations, runtime.clock.now())
        await self._emit(session, runtime, stream, "stream.offline", reason=reason)

    @staticmethod
    async def _emit(
        session: AsyncSession,
        runtime: Runtime,
        stream: RigStream,
        type_: webhooks.EventType,
        destination: RigDestination | None = None,
        **extra: str,
    ) -> None:
        instance = await session.get(Instance, stream.instance_id)
        if instance is not None:
            await webhooks.emit(session, runtime, instance, type_, stream, destination, **extra)
