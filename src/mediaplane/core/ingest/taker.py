"""Publishers taken by this process (``RTMP_SERVER=python``): the relays read them without a second hop.

nginx, which otherwise takes them, would hand each stream over a loopback connection to the relay, and
that hop cost more CPU than the relaying itself. Here the platform's RTMP port is ours: a publish is
admitted by the same service hooks nginx's callbacks reach, its session relays the connection directly,
the heartbeat is a timer, and a drop closes the connection. nginx still runs, on a loopback port, for the
HLS previews.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from mediaplane.core.ingest.spec import Publish

if TYPE_CHECKING:
    from mediaplane.core.ingest.manager import IngestManager
    from mediaplane.kit.rtmp.server import PublishedStream, PublishRequest, PublishServer

log = logging.getLogger(__name__)


class PublisherTaker:
    """The RTMP server of an :class:`IngestManager` whose publishers are taken in process."""

    def __init__(self, manager: IngestManager) -> None:
        self.manager = manager
        self.server: PublishServer | None = None
        self._heartbeat: asyncio.Task[None] | None = None

    async def start(self, host: str, port: int) -> None:
        from mediaplane.kit.rtmp.server import PublishServer

        self.server = await PublishServer.start(host, port, admit=self._admit, on_stream=self._relay)
        every = self.manager.runtime.settings.rtmp_heartbeat_seconds
        self._heartbeat = asyncio.get_running_loop().create_task(self._beat(every), name="ingest heartbeat")

    async def stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        if self.server is not None:
            await self.server.close()

    async def _admit(self, request: PublishRequest) -> str | None:
        refused = await self.manager.open(_publish(request), taken=True)
        return None if refused is None else refused.message

    async def _relay(self, stream: PublishedStream) -> None:
        assert stream.request is not None
        publish = _publish(stream.request)
        session = self.manager.sessions.get((publish.app, publish.key))
        try:
            if session is not None and session.client_id == publish.client_id:
                await session.run_source(stream)
        finally:
            await self.manager.done(publish)

    async def _beat(self, every: float) -> None:
        """Asks each live publish's service again every `every` seconds; one no longer allowed is dropped."""
        while True:
            await asyncio.sleep(every)
            for (app, key), session in list(self.manager.sessions.items()):
                if session.taken and not await self.manager.still_allowed(session):
                    log.info("publish to %s/%s no longer allowed; dropped", app, session.ref)
                    await self.manager.drop(app, key)


def _publish(request: PublishRequest) -> Publish:
    return Publish(app=request.app, key=request.name, addr=request.addr, client_id=request.client_id, args=request.args)
