"""The fan-out relay: read a stream once, send its RTMP messages on to every destination.

    relay = Relay("rtmp://127.0.0.1:1935/live/key", [Sink("yt", "rtmp://a.rtmp.youtube.com/live2/…")])
    task = asyncio.create_task(relay.run())      # ends when the publisher leaves
    relay.set_sinks([...])                       # add, remove, change destinations while it runs
    await relay.stop()                           # returns within a second or two, whatever the sinks do

The source is played once (from the local ingest, over loopback); each message goes to every sink as it
is, re-chunked with a fresh timestamp base per destination connection: no demuxing, no decoding. While
a destination keeps up, the source's task writes to it directly; when its socket is full, messages wait
in a queue bounded in bytes for the sink's own task, and a sink that falls too far behind skips to the
next key frame. No sink ever holds back the source or the others. A sink that (re)connects first gets
the metadata, the sequence headers and the current GOP, so it starts at a key frame.
Readers in this process (an HTTP-FLV viewer) get the same messages through :meth:`Relay.watch`
(kit.rtmp.watch), with the same start and the same skipping when they fall behind.

At the end every live sink sends what it still holds and closes politely, within a bound. After
:meth:`stop`, the source is read on briefly to its end (the usual stop comes as the publisher leaves,
with its last frames on the way), sinks still connecting or waiting to retry end at once, and a sink
that cannot flush in time is cut.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass

from mediaplane.kit.rtmp.cache import DEFAULT_GOP_BYTES, DEFAULT_GOP_MS, StreamCache
from mediaplane.kit.rtmp.chunks import Message
from mediaplane.kit.rtmp.client import RtmpConnection
from mediaplane.kit.rtmp.errors import RtmpError
from mediaplane.kit.rtmp.fanout import FRAMES, Encoded, Item, Output, item
from mediaplane.kit.rtmp.media import Kind, audio_codec, kind_of, metadata_fields, publishable_data, video_codec
from mediaplane.kit.rtmp.poller import poller_for
from mediaplane.kit.rtmp.runner import SinkRunner
from mediaplane.kit.rtmp.sinks import RetryPolicy, Sink, StateCallback
from mediaplane.kit.rtmp.supervision import RelayBase
from mediaplane.kit.rtmp.watch import Watcher

__all__ = ["Relay", "SourceStats"]

log = logging.getLogger(__name__)

DEFAULT_QUEUE_BYTES = 8 * 1024 * 1024
SOURCE_DRAIN = 0.5
"""Seconds the source is still read after :meth:`Relay.stop`, up to its end: a publisher that just left
(the usual reason to stop) sent its last frames before the ingest said so, and they are on their way."""


@dataclass(frozen=True)
class SourceStats:
    connected: bool
    bitrate_kbps: float
    """Kilobits per second read over the last statistics interval."""
    bytes_in: int
    frames_in: int
    """Video frames read."""
    audio_frames_in: int
    video_codec: str | None
    audio_codec: str | None
    width: int | None
    height: int | None
    fps: float | None


class _RtmpSink(SinkRunner):
    def __init__(self, sink: Sink, relay: Relay, **kwargs: object) -> None:
        super().__init__(sink, **kwargs)  # type: ignore[arg-type]
        self.relay = relay
        self.output: Output | None = None

    def wake(self) -> None:
        if self.output is not None:
            self.output.wake()
        elif self.stopping.is_set() and self.status != "live":
            self.kick("stopped")  # connecting: nothing to send yet, so nothing to wait for

    async def session(self) -> None:
        relay = self.relay
        conn = await RtmpConnection.open(
            self.sink.url,
            ssl_context=relay.ssl_context,
            connect_timeout=relay.connect_timeout,
            chunk_size=relay.chunk_size,
            send_buffer=relay.send_buffer,
        )
        polite = False
        try:
            await conn.publish(wait=relay.connect_timeout)
            output = self.output = relay._subscribe(self, conn)
            conn.on_lost = output.wake
            try:
                await self._pump(conn, output)
                polite = True
            finally:
                relay._unsubscribe(output)
                self.output = None
        finally:
            if polite:
                try:
                    await conn.close()
                except BaseException:
                    conn.abort()  # cut short (stop's grace ran out): drop what the socket still holds
                    raise
            else:
                conn.abort()

    async def _pump(self, conn: RtmpConnection, output: Output) -> None:
        """Write what the source queued while the socket was full; the source writes the rest itself."""
        while True:
            if output.error is not None:
                raise output.error
            if conn.failure is not None:
                raise conn.failure
            if output.blocked:
                await conn.drain()
                output.blocked = False
                self.last_output = time.monotonic()
            if output.queue:
                output.flush()
                continue
            if self.stopping.is_set():
                return
            output.event.clear()
            await output.event.wait()


class Relay(RelayBase):
    """Relays the RTMP stream at ``source_url`` to every sink; see the module docs."""

    def __init__(
        self,
        source_url: str,
        sinks: Iterable[Sink] = (),
        *,
        on_state: StateCallback | None = None,
        policy: RetryPolicy = RetryPolicy(),
        stale_after: float = 10.0,
        stats_interval: float = 5.0,
        connect_timeout: float = 15.0,
        source_wait: float = 5.0,
        source_timeout: float = 30.0,
        queue_bytes: int = DEFAULT_QUEUE_BYTES,
        gop_bytes: int = DEFAULT_GOP_BYTES,
        gop_ms: int = DEFAULT_GOP_MS,
        chunk_size: int = 4096,
        ssl_context: ssl.SSLContext | None = None,
        send_buffer: int | None = None,
        read_interval: float = 0.2,
        source: RtmpConnection | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """``source_wait``: how long to keep trying to reach the source at the start; ``source_timeout``:
        how long it may send nothing before the relay counts it as gone. ``ssl_context`` is for
        ``rtmps://`` sinks (the system's trust store by default). ``send_buffer`` caps each sink
        socket's send buffer (bytes): less data hides in the operating system, so a destination that
        slows down or hangs is noticed, skipped ahead or reconnected sooner. ``read_interval``: the source
        is read at most this often (seconds; 0 reads as data arrives), which adds that much latency and
        saves most of the CPU. ``source``: a connection that already receives the stream (a publisher
        taken by :class:`~mediaplane.kit.rtmp.server.PublishServer`), read instead of playing ``source_url``
        and closed at the relay's end.
        """
        self.source_url = source_url
        self.source_wait = source_wait
        self.source_timeout = source_timeout
        self.queue_bytes = queue_bytes
        self.chunk_size = chunk_size
        self.ssl_context = ssl_context
        self.send_buffer = send_buffer
        self.read_interval = read_interval
        self._given_source = source
        self._cache = StreamCache(max_bytes=gop_bytes, max_ms=gop_ms)
        self._outputs: set[Output] = set()
        self._watchers: set[Watcher] = set()
        self._ended = False
        self._source: RtmpConnection | None = None
        self._drain: asyncio.TimerHandle | None = None
        self._last_in = time.monotonic()
        self._bytes_in = self._frames_in = self._audio_in = 0
        self._sample = (time.monotonic(), 0)
        self._bitrate_in = 0.0
        self._codecs: tuple[str | None, str | None] = (None, None)
        self._meta: dict[str, object] = {}
        super().__init__(
            sinks,
            on_state=on_state,
            policy=policy,
            stale_after=stale_after,
            stats_interval=stats_interval,
            connect_timeout=connect_timeout,
            rng=rng,
        )

    @property
    def source(self) -> SourceStats:
        meta = self._meta

        def number(key: str) -> float | None:
            value = meta.get(key)
            return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

        width, height = number("width"), number("height")
        return SourceStats(
            connected=self._source is not None and not self._source.closed,
            bitrate_kbps=round(self._bitrate_in, 1),
            bytes_in=self._bytes_in,
            frames_in=self._frames_in,
            audio_frames_in=self._audio_in,
            video_codec=self._codecs[0],
            audio_codec=self._codecs[1],
            width=int(width) if width else None,
            height=int(height) if height else None,
            fps=number("framerate") or number("fps"),
        )

    def _make_runner(self, sink: Sink) -> SinkRunner:
        return _RtmpSink(sink, self, policy=self.policy, notifier=self._notifier, rng=self._rng)

    # -- the source ------------------------------------------------------------------------------

    async def _serve(self) -> None:
        try:
            await self._serve_source()
        finally:
            self._ended = True
            for watcher in self._watchers:
                watcher.close()

    async def _serve_source(self) -> None:
        source = await self._open_source()
        if source is None:
            return
        self._source = source
        if self._stop.is_set():  # stop() came while the source was being opened
            source.abort()
        self._last_in = time.monotonic()
        try:
            if self.read_interval:
                # One timer reads every relay's source in the process: waking up and system calls
                # cost more than the relaying itself.
                await poller_for(self.read_interval).follow(source, self._deliver)
            else:
                while batch := await source.read_batch():
                    self._deliver(batch)
            log.info("source %s ended (%s)", source.url.redacted(), source.end_reason)
        finally:
            if self._drain is not None:
                self._drain.cancel()
            await source.close()

    async def _open_source(self) -> RtmpConnection | None:
        """Play the source, trying again for ``source_wait`` seconds (the publisher may be just starting);
        None once :meth:`stop` was asked."""
        if self._given_source is not None:
            return None if self._stop.is_set() else self._given_source
        deadline = time.monotonic() + self.source_wait
        while not self._stop.is_set():
            attempt = asyncio.create_task(self._play_source(), name=f"relay source {self.source_url}")
            stopped = asyncio.create_task(self._stop.wait())
            try:
                await asyncio.wait({attempt, stopped}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopped.cancel()
                if not attempt.done():
                    attempt.cancel()  # the attempt aborts its connection
                    await asyncio.wait({attempt})
            if attempt.cancelled():
                return None
            try:
                return attempt.result()
            except RtmpError as exc:
                if time.monotonic() >= deadline:
                    raise
                log.debug("source %s not there yet: %s", self.source_url, exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), 0.25)
        return None

    async def _play_source(self) -> RtmpConnection:
        source = await RtmpConnection.open(self.source_url, connect_timeout=self.connect_timeout)
        try:
            await source.play(wait=self.connect_timeout)
        except BaseException:
            source.abort()
            raise
        return source

    def _deliver(self, batch: list[Message]) -> None:
        """One read's messages: into the cache, then to every destination in one write each."""
        self._last_in = time.monotonic()
        entries: list[tuple[Item, bool]] = []
        largest = 0
        for message in batch:
            entry = self._relay(message)
            if entry is not None:
                entries.append(entry)
                largest = max(largest, len(message.payload))
        for watcher in self._watchers:
            watcher.wake()
        if not entries or not self._outputs:
            return
        shared: list[Encoded] = []
        for output in self._outputs:
            output.take(entries, largest)
            output.commit(shared)

    def _relay(self, message: Message) -> tuple[Item, bool] | None:
        """The message as the destinations get it, and whether a destination may start with it; None
        when it is not for them."""
        kind = kind_of(message)
        if kind == Kind.DATA:
            publishable = publishable_data(message)
            if publishable is None:
                return None
            message = publishable
            if self._cache.metadata is None or message.payload != self._cache.metadata.payload:
                self._meta = metadata_fields(message) or self._meta
        elif kind == Kind.OTHER:
            return None
        self._bytes_in += len(message.payload)
        if kind in FRAMES:
            self._frames_in += 1
        elif kind == Kind.AUDIO:
            self._audio_in += 1
        if kind == Kind.VIDEO_CONFIG or (kind == Kind.VIDEO_KEY and self._codecs[0] is None):
            self._codecs = (video_codec(message.payload), self._codecs[1])
        elif kind == Kind.AUDIO_CONFIG or (kind == Kind.AUDIO and self._codecs[1] is None):
            self._codecs = (self._codecs[0], audio_codec(message.payload))
        cache = self._cache
        cache.add(message, kind)
        if not self._sinks_started and not self._stop.is_set():
            self._start_sinks()
        sync = cache.is_sync_point(kind)
        for watcher in self._watchers:
            watcher.offer(message, kind, sync)
        if not self._outputs:
            return None
        return item(message, kind, self.chunk_size), sync

    def _subscribe(self, owner: SinkRunner, conn: RtmpConnection) -> Output:
        """A destination connection's output: headers and the current GOP now, live messages from here on."""
        cache = self._cache
        gop = cache.gop()
        output = Output(
            owner,
            write=conn.write_bytes,
            congested=lambda: conn.congested,
            stream_id=conn.stream_id,
            chunk_size=self.chunk_size,
            limit=self.queue_bytes,
            start=[item(message, kind, self.chunk_size) for message, kind in cache.headers() + gop],
            wait_for_key=not gop and cache.has_video,
        )
        self._outputs.add(output)
        return output

    def _unsubscribe(self, output: Output) -> None:
        self._outputs.discard(output)

    # -- readers in this process -----------------------------------------------------------------

    def watch(self, watcher: Watcher) -> None:
        """Feed ``watcher`` too: the headers and the current GOP now, each message from here on; a
        watcher of a relay whose source already ended is closed at once."""
        cache = self._cache
        gop = cache.gop()
        watcher.begin(cache.headers() + gop, wait_for_key=not gop and cache.has_video)
        if self._ended:
            watcher.close()
            return
        self._watchers.add(watcher)

    def unwatch(self, watcher: Watcher) -> None:
        self._watchers.discard(watcher)

    # -- supervision hooks -----------------------------------------------------------------------

    def _source_flowing(self, now: float) -> bool:
        return now - self._last_in < self.stale_after

    def _tick(self, now: float) -> None:
        started, size = self._sample
        if now - started >= self.stats_interval:
            self._bitrate_in = (self._bytes_in - size) * 8 / 1000 / (now - started)
            self._sample = (now, self._bytes_in)
        source = self._source
        if source is not None and not source.closed and now - self._last_in > self.source_timeout:
            log.warning("source %s sent nothing for %gs; ending", source.url.redacted(), self.source_timeout)
            source.abort()

    def _stopping(self) -> None:
        source = self._source
        if source is None or source.closed:
            return
        if self._outputs:
            # Read on to the stream's end for a moment: what the source already sent reaches the sinks.
            self._drain = asyncio.get_running_loop().call_later(SOURCE_DRAIN, source.abort)
        else:
            source.abort()
