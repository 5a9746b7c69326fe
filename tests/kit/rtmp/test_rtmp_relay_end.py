"""How a Relay ends: every frame of a finished stream delivered, and stop() returning promptly whatever
the source and the sinks are doing at that moment."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from kit_rtmp_support import (
    NginxRtmp,
    Proxy,
    StateLog,
    eventually,
    make_flv,
    probe,
    publisher,
    spawn,
    stop_process,
)
from tests.fixtures.servers import free_port

from mediaplane.kit.ffmpeg import find_ffmpeg
from mediaplane.kit.rtmp import Relay, RetryPolicy, Sink, SinkState

STOPS_WITHIN = 3.0
"""A bound for stop() that only a relay waiting on something it should not wait for exceeds."""


class SilentServer:
    """Accepts TCP connections and never answers: an RTMP server hung before the handshake."""

    def __init__(self) -> None:
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> SilentServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    def url(self, app: str = "live", key: str = "key") -> str:
        assert self._server is not None
        return f"rtmp://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/{app}/{key}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self._writers.append(writer)

    async def close(self) -> None:
        for writer in self._writers:
            writer.transport.abort()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.fixture
async def silent() -> AsyncIterator[SilentServer]:
    server = await SilentServer().start()
    try:
        yield server
    finally:
        await server.close()


def status(relay: Relay, sink_id: str) -> str | None:
    return next((s.status for s in relay.states() if s.id == sink_id), None)


async def stop_promptly(relay: Relay, running: asyncio.Task[None]) -> None:
    await asyncio.wait_for(relay.stop(), STOPS_WITHIN)
    assert running.done()
    running.result()  # a stop is not a failure
    assert all(s.status == "idle" for s in relay.states())


# -- the end of the stream ------------------------------------------------------------------------


@pytest.mark.parametrize("ending", ["stream end", "stop when the publisher left"])
async def test_every_frame_of_a_published_clip_arrives(nginx: NginxRtmp, tmp_path: Path, ending: str) -> None:
    """The clip's last frames reach the receiver whether the relay sees the stream's end itself or is
    stopped the moment the publisher left (what the platform does on nginx's publish_done)."""
    clip = make_flv(tmp_path / "clip.flv", seconds=2.0)
    frames = probe(clip).video_frames
    relay = Relay(nginx.url("notify", "key"), [Sink("out", nginx.url("recv", "out"))])
    running = asyncio.create_task(relay.run())
    argv = [find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-i", str(clip)]
    source = spawn([*argv, "-c", "copy", "-f", "flv", nginx.url("notify", "key")])
    try:
        assert await asyncio.to_thread(source.wait, 30) == 0
        if ending != "stream end":
            await stop_promptly(relay, running)
        await asyncio.wait_for(running, 30)
    finally:
        stop_process(source)
    with contextlib.suppress(AssertionError):  # the receiver closes its recording a moment later
        await eventually(lambda: probe(nginx.record("out")).video_frames == frames, within=5)
    got = probe(nginx.record("out"))
    assert got.video_frames == frames and got.first_video_is_key and got.monotonic


# -- stop() in every state ------------------------------------------------------------------------


async def test_stop_before_run() -> None:
    relay = Relay(f"rtmp://127.0.0.1:{free_port()}/live/key", [Sink("a", "rtmp://127.0.0.1:1/x/y")])
    await asyncio.wait_for(relay.stop(), STOPS_WITHIN)
    await asyncio.wait_for(relay.run(), STOPS_WITHIN)  # stopped already: ends without playing anything
    assert not relay.source.connected and [s.status for s in relay.states()] == ["idle"]


async def test_stop_while_the_source_is_being_opened(silent: SilentServer) -> None:
    relay = Relay(silent.url(), [Sink("a", "rtmp://127.0.0.1:1/x/y")], connect_timeout=60.0, source_wait=60.0)
    running = asyncio.create_task(relay.run())
    await eventually(lambda: silent.accepted == 1)
    await stop_promptly(relay, running)


async def test_stop_with_a_sink_connecting(nginx: NginxRtmp, silent: SilentServer) -> None:
    log = StateLog()
    relay = Relay(nginx.url("live", "key"), [Sink("hung", silent.url())], on_state=log, connect_timeout=60.0)
    source = publisher(nginx.url("live", "key"), seconds=20)
    running = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: silent.accepted == 1 and status(relay, "hung") == "connecting")
        await stop_promptly(relay, running)
    finally:
        stop_process(source)
    assert log.statuses("hung") == ["connecting", "idle"]


async def test_stop_with_a_sink_in_backoff(nginx: NginxRtmp) -> None:
    refused = Sink("refused", f"rtmp://127.0.0.1:{free_port()}/live/x")
    relay = Relay(nginx.url("live", "key"), [refused], policy=RetryPolicy(initial=60.0, cap=60.0, jitter=0.0))
    source = publisher(nginx.url("live", "key"), seconds=20)
    running = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: status(relay, "refused") == "error")
        await stop_promptly(relay, running)
    finally:
        stop_process(source)


async def test_stop_with_sinks_live_connecting_and_in_backoff(nginx: NginxRtmp, silent: SilentServer) -> None:
    sinks = [
        Sink("live", nginx.url("recv", "live")),
        Sink("hung", silent.url()),
        Sink("refused", f"rtmp://127.0.0.1:{free_port()}/live/x"),
    ]
    relay = Relay(nginx.url("live", "key"), sinks, policy=RetryPolicy(initial=60.0, cap=60.0), connect_timeout=60.0)
    source = publisher(nginx.url("live", "key"), seconds=20)
    running = asyncio.create_task(relay.run())
    try:
        await eventually(
            lambda: [status(relay, s.id) for s in sinks] == ["live", "connecting", "error"] and silent.accepted == 1
        )
        await stop_promptly(relay, running)
    finally:
        stop_process(source)
    got = probe(nginx.record("live"))  # closed politely: a whole recording
    assert got.video_frames > 0 and got.first_video_is_key


async def test_stop_with_a_sink_blocked_on_a_full_socket(nginx: NginxRtmp) -> None:
    proxy = await Proxy(nginx.port).start()
    sink = Sink("hangs", f"rtmp://127.0.0.1:{proxy.port}/recv/hangs")
    # Never counted stale: the sink stays blocked until stop().
    relay = Relay(nginx.url("live", "key"), [sink], stale_after=60.0, send_buffer=32 * 1024)
    source = publisher(nginx.url("live", "key"), seconds=20, quality=["-qp", "0"])
    running = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: status(relay, "hangs") == "live")
        proxy.freeze()
        await eventually(lambda: any(output.blocked for output in relay._outputs))
        await stop_promptly(relay, running)
    finally:
        stop_process(source)
        await proxy.close()
    assert relay.states()[0].reconnects == 0


async def test_stop_while_the_state_callback_hangs(nginx: NginxRtmp) -> None:
    reported: list[SinkState] = []
    hang = asyncio.Event()

    async def on_state(state: SinkState, previous: Any) -> None:
        reported.append(state)
        if state.status == "live":
            await hang.wait()  # never set

    relay = Relay(nginx.url("live", "key"), [Sink("a", nginx.url("recv", "a"))], on_state=on_state)
    source = publisher(nginx.url("live", "key"), seconds=20)
    running = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: bool(reported) and reported[-1].status == "live")
        await stop_promptly(relay, running)
    finally:
        stop_process(source)


async def test_stop_after_the_stream_ended(nginx: NginxRtmp) -> None:
    relay = Relay(nginx.url("live", "key"), [Sink("a", nginx.url("recv", "a"))])
    source = publisher(nginx.url("live", "key"), seconds=2)
    try:
        await asyncio.wait_for(relay.run(), 30)
    finally:
        stop_process(source)
    await asyncio.wait_for(relay.stop(), STOPS_WITHIN)
    assert [s.status for s in relay.states()] == ["idle"]
