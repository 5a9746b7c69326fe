"""The broadcasts of the meetings whose media runs in this process.

Per meeting, one picture tap of its room feeds one encode (:class:`FlvEncoder`, in a thread of its own) and one
:class:`~mediaplane.kit.rtmp.Relay` pushes the result to every destination of that meeting: each broadcast is
a sink of the relay, so a second broadcast (another platform) costs sending, not encoding. The relay brings
what a destination needs: (re)connecting with exponential backoff (1, 2, 4 … 30 s), a destination that
reconnects starts with the headers and the current GOP, one that stops taking data is cut and retried, and
none ever holds back the room or the others.

What the relay reports becomes the broadcast's `status` in the database (starting → live → reconnecting →
live …) and a `broadcasts_update` event on each change. Stopping never waits on the database or the network:
the relay winds down in a task of its own, so a request (or the meeting's shutdown) that stops a broadcast
returns at once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, cast

from mediaplane.core.runtime import Runtime
from mediaplane.kit.mcu import McuRoom
from mediaplane.kit.rtmp import Relay, RetryPolicy, RtmpConnection, Sink, SinkState
from mediaplane.services.eyeson.broadcast.encoder import FlvEncoder
from mediaplane.services.eyeson.broadcast.source import EncodedSource
from mediaplane.services.eyeson.broadcast.state import BroadcastRepository, publish_update
from mediaplane.services.eyeson.models import EyesonBroadcast
from mediaplane.services.eyeson.repository import EyesonRepository

__all__ = ["Broadcasters", "broadcasters"]

log = logging.getLogger(__name__)
EXTRAS_KEY = "eyeson.broadcasts"
ROW_WAIT = 5.0
"""Seconds a broadcast's state waits for its row (the starting request's transaction may still be open)."""


@dataclass
class _Cast:
    """One meeting's encode and relay."""

    instance_id: str
    meeting_id: str
    relay: Relay
    source: EncodedSource
    sinks: dict[str, Sink] = field(default_factory=dict)
    stopping: bool = False


class Broadcasters:
    def __init__(self, runtime: Runtime, *, policy: RetryPolicy | None = None, connect_timeout: float = 15.0) -> None:
        self.runtime = runtime
        self.policy = policy or RetryPolicy()  # 1, 2, 4 … 30 s, a little less at random
        self.connect_timeout = connect_timeout
        self.casts: dict[str, _Cast] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self, room: McuRoom, instance_id: str, meeting_id: str, broadcast_id: str, stream_url: str) -> None:
        """Push the room to `stream_url` as broadcast `broadcast_id` (again: the URL is replaced)."""
        sink = Sink(broadcast_id, stream_url)
        current = self.casts.get(meeting_id)
        if current is not None:
            current.sinks[broadcast_id] = sink
            current.relay.set_sinks(current.sinks.values())
            return
        c = room.config
        source = EncodedSource(room.tap(pictures=True), FlvEncoder(c.width, c.height, c.fps), name=meeting_id)
        relay = Relay(
            f"rtmp://mcu/eyeson/{meeting_id}",  # a name for the logs: the source is the room, in this process
            [sink],
            on_state=lambda state, _previous: self._report(instance_id, meeting_id, state),
            policy=self.policy,
            connect_timeout=self.connect_timeout,
            read_interval=0,  # the source hands over what it encoded as it has it
            # The relay reads the room as it reads a publisher's connection (read_batch, abort, close).
            source=cast(RtmpConnection, source),
        )
        made = self.casts[meeting_id] = _Cast(instance_id, meeting_id, relay, source, {broadcast_id: sink})
        self._spawn(self._run(made))

    def stop(self, meeting_id: str, broadcast_ids: list[str] | None = None) -> None:
        """Stop those broadcasts of the meeting (None: all); the relay ends with its last sink."""
        current = self.casts.get(meeting_id)
        if current is None:
            return
        for broadcast_id in broadcast_ids if broadcast_ids is not None else list(current.sinks):
            current.sinks.pop(broadcast_id, None)
        if current.sinks:
            current.relay.set_sinks(current.sinks.values())
            return
        current.stopping = True
        del self.casts[meeting_id]
        self._spawn(current.relay.stop())

    def stop_meeting(self, meeting_id: str) -> None:
        """The meeting's media is going: every broadcast ends, and is recorded as stopped."""
        current = self.casts.get(meeting_id)
        if current is None:
            return
        self.stop(meeting_id)
        self._spawn(self._stopped(current.instance_id, meeting_id, None))

    async def close(self) -> None:
        """Stop everything and wait for it (the process is going)."""
        for meeting_id in list(self.casts):
            self.stop_meeting(meeting_id)
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, work: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(self, current: _Cast) -> None:
        try:
            await current.relay.run()
        except Exception:
            log.exception("eyeson broadcast of meeting %s failed", current.meeting_id)
        if current.stopping:
            return
        # The room closed under it, or the encoder failed: the broadcasts are over.
        if self.casts.get(current.meeting_id) is current:
            del self.casts[current.meeting_id]
        reason = current.source.end_reason
        await self._stopped(current.instance_id, current.meeting_id, None if reason == "the room closed" else reason)

    async def _stopped(self, instance_id: str, meeting_id: str, error: str | None) -> None:
        try:
            async with self.runtime.db.session() as session:
                if await BroadcastRepository(session, instance_id).stop(meeting_id, self.runtime.clock.now(), error):
                    meeting = await EyesonRepository(session, instance_id).meeting(meeting_id)
                    if meeting is not None:
                        await publish_update(session, self.runtime, meeting)
        except Exception:
            log.exception("eyeson: the end of meeting %s's broadcasts was not recorded", meeting_id)

    async def _report(self, instance_id: str, meeting_id: str, state: SinkState) -> None:
        """A destination's state from the relay: its status, and observers told when that changed."""
        if state.status == "idle":
            return  # ended: whoever stopped it recorded that
        if state.status == "live":
            status = "live"
        elif state.status == "connecting" and not state.reconnects:
            status = "starting"
        else:
            status = "reconnecting"
        error = state.last_error if status == "reconnecting" else None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ROW_WAIT
        while True:
            async with self.runtime.db.session() as session:
                if await BroadcastRepository(session, instance_id).set_state(state.id, status, error, state.reconnects):
                    meeting = await EyesonRepository(session, instance_id).meeting(meeting_id)
                    if meeting is not None:
                        await publish_update(session, self.runtime, meeting)
                    return
                if await session.get(EyesonBroadcast, state.id) is not None or loop.time() > deadline:
                    return
            await asyncio.sleep(0.2)  # not there yet: the request that started it (another process) has not committed


def broadcasters(runtime: Runtime) -> Broadcasters:
    current = runtime.extras.get(EXTRAS_KEY)
    if not isinstance(current, Broadcasters):
        current = Broadcasters(runtime)
        runtime.extras[EXTRAS_KEY] = current
    return current
