"""The publish server: FFmpeg and our own client publishing to it, the stream read on a tick and relayed
without a second hop to real receivers, refusals, and the ways a publish ends."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from kit_rtmp_support import FFmpegReceiver, NginxRtmp, eventually, probe, publisher, stop_process

from mediaplane.kit.rtmp import Message, Relay, RtmpConnection, RtmpError, Sink
from mediaplane.kit.rtmp.messages import VIDEO
from mediaplane.kit.rtmp.poller import poller_for
from mediaplane.kit.rtmp.server import PublishedStream, PublishRequest, PublishServer


class Recorder:
    """admit/on_stream for a server: who asked, what came in, how each stream ended."""

    def __init__(self, refuse: str | None = None) -> None:
        self.refuse = refuse
        self.requests: list[PublishRequest] = []
        self.media: list[Message] = []
        self.ended: list[str | None] = []

    async def admit(self, request: PublishRequest) -> str | None:
        self.requests.append(request)
        return self.refuse

    async def on_stream(self, stream: PublishedStream) -> None:
        try:
            await poller_for(0.05).follow(stream, self.media.extend)
        finally:
            self.ended.append(stream.end_reason)


async def test_ffmpeg_publishes_and_the_stream_is_read_on_a_tick() -> None:
    got = Recorder()
    server = await PublishServer.start("127.0.0.1", 0, admit=got.admit, on_stream=got.on_stream)
    source = publisher(f"rtmp://127.0.0.1:{server.port}/live/key-1?token=abc", seconds=2)
    try:
        await eventually(lambda: got.ended, within=30)
    finally:
        stop_process(source)
        await server.close()
    assert [(r.app, r.name, r.args) for r in got.requests] == [("live", "key-1", {"token": "abc"})]
    assert got.requests[0].addr == "127.0.0.1"
    frames = [m for m in got.media if m.type_id == VIDEO and m.payload[1:2] == b"\x01"]
    assert len(frames) == 50  # 2 s at 25 fps, every one of them
    assert got.ended != [None]


async def test_a_refused_publish_fails_at_the_publisher() -> None:
    got = Recorder(refuse="unknown stream key")
    server = await PublishServer.start("127.0.0.1", 0, admit=got.admit, on_stream=got.on_stream)
    client = await RtmpConnection.open(f"rtmp://127.0.0.1:{server.port}/live/nope")
    try:
        try:
            await client.publish(wait=5)
            raise AssertionError("the publish was let in")
        except RtmpError as exc:
            assert "unknown stream key" in str(exc)
    finally:
        await client.close()
        await server.close()
    assert [r.name for r in got.requests] == ["nope"] and got.ended == []


async def test_our_client_publishing_then_unpublishing_ends_the_stream() -> None:
    got = Recorder()
    server = await PublishServer.start("127.0.0.1", 0, admit=got.admit, on_stream=got.on_stream)
    client = await RtmpConnection.open(f"rtmp://127.0.0.1:{server.port}/app/key")
    try:
        stream_id = await client.publish(wait=5)
        for ts in range(0, 200, 40):
            client.send(Message(VIDEO, stream_id, ts, b"\x17\x01\x00\x00\x00frame"))
        await client.drain()
        await eventually(lambda: len(got.media) == 5, within=10)
        await client.close()  # FCUnpublish + deleteStream
        await eventually(lambda: got.ended, within=10)
    finally:
        await server.close()
    assert got.ended == ["FCUnpublish"]
    assert [m.timestamp for m in got.media] == [0, 40, 80, 120, 160]


async def test_the_relay_reads_a_publisher_taken_in_process(nginx: NginxRtmp, tmp_path: Path) -> None:
    receiver = await FFmpegReceiver(tmp_path / "ffmpeg.flv").start()
    relays: list[Relay] = []

    async def admit(request: PublishRequest) -> str | None:
        return None

    async def relay_it(stream: PublishedStream) -> None:
        sinks = [Sink("ffmpeg", receiver.url), Sink("nginx", nginx.url("recv", "copy"))]
        relay = Relay("rtmp://in-process/key", sinks, source=stream, read_interval=0.05)
        relays.append(relay)
        await relay.run()

    server = await PublishServer.start("127.0.0.1", 0, admit=admit, on_stream=relay_it)
    source = publisher(f"rtmp://127.0.0.1:{server.port}/live/key", seconds=3)
    try:
        assert await asyncio.to_thread(source.wait, 30) == 0
        assert await receiver.finished() == 0
    finally:
        stop_process(source)
        receiver.kill()
        await server.close()
    assert relays and relays[0].source.frames_in == 75
    for path in (receiver.out, nginx.record("copy")):
        got = probe(path)
        assert (got.video_codec, got.audio_codec) == ("h264", "aac")
        assert got.video_frames == 75


async def test_players_are_refused_at_once() -> None:
    got = Recorder()
    server = await PublishServer.start("127.0.0.1", 0, admit=got.admit, on_stream=got.on_stream)
    client = await RtmpConnection.open(f"rtmp://127.0.0.1:{server.port}/live/key")
    try:
        try:
            await client.play(wait=5)
            raise AssertionError("a play was served")
        except RtmpError as exc:
            assert "publishers only" in str(exc)
    finally:
        await client.close()
        await server.close()
    assert got.requests == []


async def test_a_connection_that_never_publishes_is_closed() -> None:
    got = Recorder()
    server = await PublishServer.start("127.0.0.1", 0, admit=got.admit, on_stream=got.on_stream)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(b"\x07" + bytes(1536))  # not RTMP version 3
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed without an answer
    finally:
        writer.close()
        await server.close()


async def test_a_publisher_gone_right_after_admission_still_reaches_on_stream() -> None:
    """What admit began (a live session) must be ended by its owner even if the publisher never heard yes."""
    got = Recorder()
    client: list[RtmpConnection] = []

    async def admit_then_vanish(request: PublishRequest) -> str | None:
        client[0].abort()
        await asyncio.sleep(0.1)
        return await got.admit(request)

    server = await PublishServer.start("127.0.0.1", 0, admit=admit_then_vanish, on_stream=got.on_stream)
    client.append(await RtmpConnection.open(f"rtmp://127.0.0.1:{server.port}/live/key"))
    try:
        with contextlib.suppress(RtmpError):
            await client[0].publish(wait=5)
        await eventually(lambda: got.ended, within=10)
    finally:
        await server.close()
    assert [r.name for r in got.requests] == ["key"] and got.media == []
