"""One live publish: its service's handler, the relay feeding its outputs, and the relay's state reports."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from mediaplane.core.ingest.spec import IngestHandler, Output, OutputState

if TYPE_CHECKING:
    from mediaplane.core.runtime import Runtime
    from mediaplane.kit.rtmp import Sink, SinkState

log = logging.getLogger(__name__)
RELAY_RESTART_PAUSE = 2.0
STOP_WAIT = 10.0


class LiveSession:
    """Runs a relay while the publisher is live and there is somewhere to send the stream."""

    def __init__(
        self,
        runtime: Runtime,
        handler: IngestHandler,
        key: str,
        ref: str,
        client_id: str,
        source_url: str,
        make_relay: Any,
    ) -> None:
        self.runtime = runtime
        self.handler = handler
        self.key = key
        self.ref = ref
        self.client_id = client_id
        self.source_url = source_url
        self._make_relay = make_relay  # (source_url, sinks, on_state) -> Relay | FFmpegRelay
        self._outputs: tuple[Output, ...] = ()
        self._relay: Any = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def app(self) -> str:
        return self.handler.app

    def set_outputs(self, outputs: tuple[Output, ...]) -> None:
        self._outputs = outputs
        if self._closed:
            return
        if self._relay is not None:
            self._relay.set_sinks(self._sinks())
        elif outputs and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"relay {self.app}/{self.ref}")

    def _sinks(self) -> list[Sink]:
        from mediaplane.kit.rtmp import Sink

        return [Sink(o.id, o.url) for o in self._outputs]

    async def source_ready(self, within: float) -> bool:
        """Waits until the relay plays the stream: asked before the publish is let in, so that the relay
        sees it from its very first frame (nginx-rtmp keeps no GOP for players that join late)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline and self._task is not None:
            source = getattr(self._relay, "source", None)
            if source is not None and source.connected:
                return True
            await asyncio.sleep(0.01)
        return False

    def states(self) -> list[OutputState]:
        return list(self._relay.states()) if self._relay is not None else []

    async def _run(self) -> None:
        """The relay ends when its source does; while the publisher is still here, start it again."""
        try:
            while not self._closed and self._outputs:
                self._relay = self._make_relay(self.source_url, self._sinks(), self._on_state)
                try:
                    await self._relay.run()
                except Exception:
                    log.exception("relay of %s/%s failed", self.app, self.ref)
                if self._closed:
                    break
                await asyncio.sleep(RELAY_RESTART_PAUSE)
        finally:
            self._task = None

    async def _on_state(self, state: SinkState, previous: SinkState | None) -> None:
        try:
            await self.handler.output_changed(self.runtime, self.ref, state, previous)
        except Exception:
            log.exception("%s could not record the state of output %s", self.app, state.id)

    async def close(self) -> None:
        self._closed = True
        relay, task = self._relay, self._task
        if relay is not None:
            try:
                async with asyncio.timeout(STOP_WAIT):
                    await relay.stop()
            except TimeoutError:
                log.warning("relay of %s/%s did not stop in %gs; cancelled", self.app, self.ref, STOP_WAIT)
            except Exception:
                log.exception("relay of %s/%s failed to stop", self.app, self.ref)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
