"""The fan-out Relay end to end: FFmpeg publishing to nginx-rtmp, the relay playing it once and feeding
real receivers (FFmpeg listening, nginx recording), what they got checked by decoding it with PyAV."""

from __future__ import annotations

import asyncio
import random
import ssl
from pathlib import Path

import pytest
from kit_rtmp_support import (
    FFmpegReceiver,
    NginxRtmp,
    Proxy,
    ScriptedServer,
    StateLog,
    eventually,
    probe,
    publisher,
    stop_process,
)
from tests.fixtures.servers import free_port
from tests.fixtures.tls import self_signed

from mediaplane.kit.rtmp import Message, Relay, RetryPolicy, RtmpConnectionError, Sink

FAST_RETRY = RetryPolicy(initial=0.2, factor=2.0, cap=2.0, jitter=0.0)


def status(relay: Relay, sink_id: str) -> str | None:
    return next((s.status for s in relay.states() if s.id == sink_id), None)


async def test_relays_to_two_receivers_until_the_source_ends(nginx: NginxRtmp, tmp_path: Path) -> None:
    receiver = await FFmpegReceiver(tmp_path / "ffmpeg.flv").start()
    log = StateLog()
    sinks = [Sink("ffmpeg", receiver.url), Sink("nginx", nginx.url("recv", "copy"))]
    relay = Relay(nginx.url("live", "key"), sinks, on_state=log, stats_interval=1.0, policy=FAST_RETRY)
    running = asyncio.create_task(relay.run())  # before the publisher: nginx lets the relay wait for it
    source = publisher(nginx.url("live", "key"), seconds=4)
    try:
        await asyncio.wait_for(running, 30)  # returns once the publisher is gone
    finally:
        stop_process(source)
    assert await receiver.finished() == 0

    assert [s.status for s in relay.states()] == ["idle", "idle"]
    stats = relay.source
    assert (stats.video_codec, stats.audio_codec, stats.width, stats.height) == ("h264", "aac", 320, 240)
    assert stats.frames_in == 100 and stats.audio_frames_in > 150
    for sink_id in ("ffmpeg", "nginx"):
        assert log.statuses(sink_id) == ["connecting", "live", "idle"]
        final = log.latest(sink_id)
        assert final is not None and final.reconnects == 0 and final.frames_out == 100 and final.bytes_out > 100_000
        assert any(s.status == "live" and s.bitrate_kbps > 100 for s in log.of(sink_id))  # statistics reports

    for path in (receiver.out, nginx.record("copy")):
        got = probe(path)
        assert (got.video_codec, got.audio_codec) == ("h264", "aac")
        assert got.video_frames == 100 and got.audio_frames > 150
        assert got.first_video_is_key and got.monotonic
        assert got.first_timestamp is not None and got.first_timestamp < 0.1


async def test_sinks_added_and_removed_while_running(nginx: NginxRtmp, tmp_path: Path) -> None:
    first = await FFmpegReceiver(tmp_path / "first.flv").start()
    log = StateLog()
    relay = Relay(nginx.url("live", "key"), [Sink("first", first.url)], on_state=log, policy=FAST_RETRY)
    source = publisher(nginx.url("live", "key"), seconds=6)
    running = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: status(relay, "first") == "live")
        await asyncio.sleep(1.3)  # into the second GOP
        relay.set_sinks([Sink("first", first.url), Sink("later", nginx.url("recv", "later"))])
        await eventually(lambda: status(relay, "later") == "live")
        await asyncio.sleep(1.0)
        relay.set_sinks([Sink("later", nginx.url("recv", "later"))])
        assert [s.id for s in relay.states()] == ["later"]
        assert await first.finished() == 0  # closed politely: FFmpeg finished its file
        await asyncio.wait_for(running, 30)
    finally:
        stop_process(source)

    assert log.statuses("first") == ["connecting", "live", "idle"]
    assert log.statuses("later") == ["connecting", "live", "idle"]
    early, late = probe(first.out), probe(nginx.record("later"))
    assert early.first_video_is_key and early.monotonic and 40 <= early.video_frames <= 100
    # Joined mid-stream: starts at the cached key frame, on its own clock from 0.
    assert late.first_video_is_key and late.monotonic and late.first_timestamp is not None
    assert late.first_timestamp < 0.1 and 50 <= late.video_frames < 150


async def test_a_receiver_killed_and_started_again(nginx: NginxRtmp, tmp_path: Path) -> None:
    receiver = await NginxRtmp(tmp_path / "receiver").start()
    log = StateLog()
    policy = RetryPolicy(initial=1.5, factor=2.0, cap=5.0, jitter=0.0)
    relay = Relay(nginx.url("live", "key"), [Sink("out", receiver.url("recv", "out"))], on_state=log, policy=policy)
    source = publisher(nginx.url("live", "key"), seconds=7)
    running = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: status(relay, "out") == "live")
        await asyncio.sleep(1.0)
        receiver.kill()
        await eventually(lambda: status(relay, "out") == "error")
        await receiver.start()  # back before the retry, 1.5 s after the failure
        await eventually(lambda: log.statuses("out")[-1:] == ["live"] and len(log.statuses("out")) > 2)
        await asyncio.wait_for(running, 30)
    finally:
        stop_process(source)
        receiver.stop()

    assert log.statuses("out") == ["connecting", "live", "error", "connecting", "live", "idle"]
    error = next(s for s in log.of("out") if s.status == "error")
    assert error.last_error and error.retry_in == 1.5
    assert relay.states()[0].reconnects == 1
    again = probe(receiver.record("out"))  # what the restarted receiver recorded
    assert again.first_video_is_key and again.monotonic and again.video_frames >= 25
    assert again.first_timestamp is not None and again.first_timestamp < 0.1


async def test_a_refused_destination_backs_off_without_disturbing_the_others(nginx: NginxRtmp) -> None:
    log = StateLog()
    policy = RetryPolicy(initial=0.1, factor=2.0, cap=1.0, jitter=0.3)
    sinks = [Sink("good", nginx.url("recv", "good")), Sink("refused", f"rtmp://127.0.0.1:{free_port()}/live/x")]
    relay = Relay(nginx.url("live", "key"), sinks, on_state=log, policy=policy, rng=random.Random(3))
    source = publisher(nginx.url("live", "key"), seconds=10)
    running = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: sum(s.status == "error" for s in log.of("refused")) >= 4)
        await relay.stop()
        await asyncio.wait_for(running, 10)
    finally:
        stop_process(source)

    errors = [s for s in log.of("refused") if s.status == "error"]
    delays = [s.retry_in for s in errors[:4]]
    assert delays == sorted(delays) and len(set(delays)) == 4  # growing: 0.1, 0.2, 0.4, 0.8 less jitter
    assert all(d is not None and d <= 1.0 for d in delays)
    assert all("cannot connect" in (s.last_error or "") for s in errors)
    assert [s.reconnects for s in errors[:4]] == [0, 1, 2, 3]
    assert log.statuses("good") == ["connecting", "live", "idle"]
    assert [s.status for s in relay.states()] == ["idle", "idle"]


async def test_a_receiver_that_stops_reading_is_reconnected(nginx: NginxRtmp) -> None:
    proxy = await Proxy(nginx.port).start()
    log = StateLog()
    sink = Sink("hangs", f"rtmp://127.0.0.1:{proxy.port}/recv/hangs")
    # A small send buffer: what the operating system holds for a hung receiver fills within a second or two.
    relay = Relay(
        nginx.url("live", "key"), [sink], on_state=log, policy=FAST_RETRY, stale_after=1.5, send_buffer=32 * 1024
    )
    source = publisher(nginx.url("live", "key"), seconds=20, quality=["-qp", "0"])  # lossless: fills buffers fast
    running = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: status(relay, "hangs") == "live")
        proxy.freeze()
        await eventually(lambda: len(log.statuses("hangs")) >= 5)  # connecting, live, error, connecting, live
        await relay.stop()
        await asyncio.wait_for(running, 10)
    finally:
        stop_process(source)
        await proxy.close()

    assert log.statuses("hangs") == ["connecting", "live", "error", "connecting", "live", "idle"]
    error = next(s for s in log.of("hangs") if s.status == "error")
    assert error.last_error is not None and error.last_error.startswith("stale")
    assert proxy.accepted == 2 and relay.states()[0].reconnects == 1


async def test_rtmps_destination(nginx: NginxRtmp, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    proxy = await Proxy(nginx.port, tls=server_tls).start()
    log = StateLog()
    sinks = [Sink("tls", f"rtmps://127.0.0.1:{proxy.port}/recv/tls")]
    trusting = ssl.create_default_context(cafile=str(cert))
    relay = Relay(nginx.url("live", "key"), sinks, on_state=log, ssl_context=trusting)
    source = publisher(nginx.url("live", "key"), seconds=3)
    try:
        await asyncio.wait_for(relay.run(), 30)
    finally:
        stop_process(source)
        await proxy.close()
    assert log.statuses("tls") == ["connecting", "live", "idle"]
    got = probe(nginx.record("tls"))
    assert got.video_frames == 75 and got.first_video_is_key and got.monotonic


class TestSource:
    """The source's start and end, against a scripted server (no publisher needed)."""

    MEDIA = [
        Message(9, 1, 0, b"\x17\x00\x00\x00\x00config"),
        Message(9, 1, 0, b"\x17\x01\x00\x00\x00key"),
        Message(8, 1, 10, b"\xaf\x01aac"),
        Message(9, 1, 40, b"\x27\x01\x00\x00\x00inter"),
    ]

    async def test_a_source_that_comes_up_late_and_ends_with_unpublish_notify(self) -> None:
        port = free_port()
        relay = Relay(f"rtmp://127.0.0.1:{port}/live/key", [], source_wait=10.0)
        running = asyncio.create_task(relay.run())
        await asyncio.sleep(0.7)  # nothing listens yet: the relay keeps trying
        assert not running.done()
        server = await ScriptedServer(port=port, media=self.MEDIA, end_with="NetStream.Play.UnpublishNotify").start()
        try:
            await asyncio.wait_for(running, 10)
        finally:
            await server.close()
        stats = relay.source
        assert (stats.frames_in, stats.audio_frames_in, stats.video_codec, stats.audio_codec) == (2, 1, "h264", "aac")
        assert not stats.connected

    async def test_a_source_that_never_comes(self) -> None:
        relay = Relay(
            f"rtmp://127.0.0.1:{free_port()}/live/key", [Sink("a", "rtmp://127.0.0.1:1/x/y")], source_wait=0.5
        )
        with pytest.raises(RtmpConnectionError, match="cannot connect"):
            await asyncio.wait_for(relay.run(), 10)
        assert [s.status for s in relay.states()] == ["idle"]
        await relay.stop()  # after the end: returns at once
