"""One live publish: its service's handler, the relay feeding its outputs (and its HLS preview while
watched, and readers in this process such as HTTP-FLV viewers), and the relay's state reports."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from mediaplane.core.ingest.preview import PREVIEW_HOLD, PREVIEW_SINK, PreviewMirror
from mediaplane.core.ingest.spec import IngestHandler, Output, OutputState

if TYPE_CHECKING:
    from mediaplane.core.runtime import Runtime
    from mediaplane.kit.rtmp import Sink, SinkState
    from mediaplane.kit.rtmp.watch import Watcher

log = logging.getLogger(__name__)
RELAY_RESTART_PAUSE = 2.0
STOP_WAIT = 10.0
STATS_EVERY = 30.0


def _changed(before: OutputState, after: OutputState) -> bool:
    """Anything but a new bitrate (a first one counts)."""
    return (before.status, before.last_error, before.reconnects, before.url, not before.bitrate_kbps) != (
        after.status,
        after.last_error,
        after.reconnects,
        after.url,
        not after.bitrate_kbps,
    )


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
        preview_url: str | None = None,
        mirror: PreviewMirror | None = None,
        taken: bool = False,
    ) -> None:
        self.runtime = runtime
        self.handler = handler
        self.key = key
        self.ref = ref
        self.client_id = client_id
        self.source_url = source_url
        self._make_relay = make_relay  # (source_url, sinks, on_state, source=None) -> Relay | FFmpegRelay
        self.taken = taken  # the publisher is taken in this process: run_source() relays it
        self._outputs: tuple[Output, ...] = ()
        self._relay: Any = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._preview_url = preview_url
        self._preview_until = 0.0
        self._preview_timer: asyncio.TimerHandle | None = None
        self._mirror = mirror
        self._mirroring: asyncio.Task[None] | None = None
        self._reported: dict[str, tuple[OutputState, float]] = {}
        self._watchers: set[Watcher] = set()
        # Readers in this process need the fan-out relay (FFmpeg relays keep the media in their processes).
        self.watchable = runtime.settings.relay_engine == "fanout"

    @property
    def app(self) -> str:
        return self.handler.app

    def set_outputs(self, outputs: tuple[Output, ...]) -> None:
        self._outputs = outputs
        self._update()

    def want_preview(self, mirror: bool = False) -> None:
        """Someone watches: write the HLS preview until PREVIEW_HOLD seconds after the last call; with
        `mirror`, also copy it into the storage (the one watching is served by another process)."""
        if self._preview_url is None or self._closed:
            return
        loop = asyncio.get_running_loop()
        self._preview_until = loop.time() + PREVIEW_HOLD
        if self._preview_timer is None:
            self._preview_timer = loop.call_later(PREVIEW_HOLD, self._preview_check)
            self._update()
        if mirror and self._mirror is not None and self._mirroring is None:
            self._mirroring = loop.create_task(self._mirror.run(), name=f"preview copy {self.app}/{self.ref}")

    def watch(self, watcher: Watcher, max_watchers: int) -> bool:
        """Feeds `watcher` from this session's relay (started for it where the relay plays from nginx);
        False when it cannot: closed, FFmpeg relays, or `max_watchers` readers already."""
        if self._closed or not self.watchable or len(self._watchers) >= max_watchers:
            return False
        self._watchers.add(watcher)
        if self._relay is not None:
            self._relay.watch(watcher)
        else:
            self._update()
        return True

    def unwatch(self, watcher: Watcher) -> None:
        self._watchers.discard(watcher)
        if self._relay is not None:
            self._relay.unwatch(watcher)

    @property
    def watchers(self) -> int:
        return len(self._watchers)

    def _attach_watchers(self) -> None:
        """A new relay feeds the readers still open (those of an ended relay were closed by it)."""
        for watcher in list(self._watchers):
            if watcher.closed:
                self._watchers.discard(watcher)
            else:
                self._relay.watch(watcher)

    @property
    def previewing(self) -> bool:
        return self._preview_timer is not None

    def _preview_check(self) -> None:
        loop = asyncio.get_running_loop()
        left = self._preview_until - loop.time()
        if left > 0:
            self._preview_timer = loop.call_later(left, self._preview_check)
            return
        self._preview_timer = None
        self._stop_mirror()
        self._update()

    def _stop_mirror(self) -> None:
        if self._mirroring is not None:
            self._mirroring.cancel()  # it removes its copy as it ends
            self._mirroring = None

    def _update(self) -> None:
        if self._closed:
            return
        if self._relay is not None:
            self._relay.set_sinks(self._sinks())
        elif (self._outputs or self.previewing or self._watchers) and self._task is None and not self.taken:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"relay {self.app}/{self.ref}")

    def _sinks(self) -> list[Sink]:
        from mediaplane.kit.rtmp import Sink

        sinks = [Sink(o.id, o.url) for o in self._outputs]
        if self.previewing and self._preview_url is not None:
            sinks.append(Sink(PREVIEW_SINK, self._preview_url))
        return sinks

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
        states = self._relay.states() if self._relay is not None else []
        return [state for state in states if state.id != PREVIEW_SINK]

    async def run_source(self, stream: Any) -> None:
        """Relays a publisher taken in this process until it leaves or the session closes. The relay
        reads it even with no outputs: nothing else drains its socket."""
        if self._closed:
            return
        self._relay = self._make_relay(self.source_url, self._sinks(), self._on_state, stream=stream)
        self._attach_watchers()
        try:
            await self._relay.run()
        finally:
            self._relay = None

    async def _run(self) -> None:
        """The relay ends when its source does; while the publisher is still here, start it again."""
        try:
            while not self._closed and (self._outputs or self.previewing or self._watchers):
                self._relay = self._make_relay(self.source_url, self._sinks(), self._on_state)
                self._attach_watchers()
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
        """Changes of status, error or reconnects go to the service at once; a new bitrate alone at most
        every STATS_EVERY seconds (the relay measures it every few seconds, and each report is a write)."""
        if state.id == PREVIEW_SINK:
            return
        loop = asyncio.get_running_loop()
        last = self._reported.get(state.id)
        if last is not None and not _changed(last[0], state) and loop.time() - last[1] < STATS_EVERY:
            return
        self._reported[state.id] = (state, loop.time())
        try:
            await self.handler.output_changed(self.runtime, self.ref, state, last[0] if last else previous)
        except Exception:
            log.exception("%s could not record the state of output %s", self.app, state.id)

    async def close(self) -> None:
        self._closed = True
        for watcher in self._watchers:
            watcher.close()  # a relay closes them too as it ends; this covers a session that never had one
        if self._preview_timer is not None:
            self._preview_timer.cancel()
            self._preview_timer = None
        self._stop_mirror()
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
