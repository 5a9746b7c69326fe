"""Broadcasts with real media: an aiortc peer in the room, the room pushed as H.264/AAC over RTMP to the repo's
own RTMP server on 127.0.0.1 (kit.rtmp's PublishServer), what it received probed with ffprobe and decoded.
The receiver goes away mid-broadcast and comes back: the broadcast reconnects and the pictures flow again,
visible as `reconnecting` then `live` in broadcasts_update. DELETE ends it; the meeting's end too. RTMPS: an
untrusted certificate is refused, a trusted one carries the stream."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from sqlalchemy import select

from mediaplane.kit.ffmpeg import probe
from mediaplane.kit.mcu import McuTap, tile_rects
from mediaplane.kit.rtmp import Message
from mediaplane.kit.rtmp.flv import FlvWriter
from mediaplane.kit.rtmp.media import Kind, kind_of
from mediaplane.kit.rtmp.poller import poller_for
from mediaplane.kit.rtmp.server import PublishedStream, PublishRequest, PublishServer
from mediaplane.services.eyeson.broadcast.broadcaster import broadcasters
from mediaplane.services.eyeson.broadcast.encoder import FlvEncoder
from mediaplane.services.eyeson.broadcast.source import EncodedSource
from mediaplane.services.eyeson.events import room_channel
from mediaplane.services.eyeson.media import media_rooms
from mediaplane.services.eyeson.models import EyesonBroadcast
from tests.fixtures.servers import free_port
from tests.fixtures.tls import self_signed
from tests.fixtures.webrtc import RED, Peer, centre, colour_at, near
from tests.services.eyeson.conftest import Eyeson, error_of
from tests.services.eyeson.test_media import connect

pytestmark = [pytest.mark.timeout(90), pytest.mark.usefixtures("loopback_ice")]


@pytest.fixture
def database_url(sqlite_database_url: str) -> str:
    """SQLite only: what is tested here is media."""
    return sqlite_database_url


W, H = 320, 240  # the eyeson test settings' canvas, at 5 fps


class Receiver:
    """An RTMP server that keeps every publish it takes (one list of messages per connection); stop() drops
    the publisher's connection as a crashing ingest would, start() listens on the same port again."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.port = free_port()
        self.tls = tls
        self.sessions: list[list[Message]] = []
        self.names: list[str] = []
        self.ended: list[str | None] = []
        self.server: PublishServer | None = None
        self._streams: list[PublishedStream] = []

    @property
    def url(self) -> str:
        return f"{'rtmps' if self.tls else 'rtmp'}://127.0.0.1:{self.port}/live/stream-key"

    async def start(self) -> None:
        self.server = await PublishServer.start(
            "127.0.0.1", self.port, admit=self._admit, on_stream=self._take, tls=self.tls
        )

    async def stop(self) -> None:
        for stream in self._streams:
            stream.abort()  # the connection is cut, as when the ingest crashes
        await until(lambda: len(self.ended) == len(self.sessions), "the receiver's publishes ended")
        self._streams.clear()
        if self.server is not None:
            await self.server.close()
            self.server = None

    async def _admit(self, request: PublishRequest) -> str | None:
        self.names.append(request.name)
        return None

    async def _take(self, stream: PublishedStream) -> None:
        messages: list[Message] = []
        self.sessions.append(messages)
        self._streams.append(stream)
        try:
            if self.tls is None:
                await poller_for(0.05).follow(stream, messages.extend)
            else:  # the poller reads plain sockets only
                while batch := await stream.read_batch():
                    messages.extend(batch)
        finally:
            self.ended.append(stream.end_reason)

    def frames(self, session: int = -1) -> int:
        if not self.sessions:
            return 0
        return sum(kind_of(m) in (Kind.VIDEO_KEY, Kind.VIDEO) for m in self.sessions[session])

    def flv(self, session: int, path: Path) -> Path:
        path.write_bytes(FlvWriter().write((m, kind_of(m)) for m in self.sessions[session]))
        return path


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    made = Receiver()
    await made.start()
    try:
        yield made
    finally:
        await made.stop()


class Observer:
    """The meeting's realtime events, as an observer gets them."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def statuses(self) -> list[str]:
        """The first broadcast's status in each broadcasts_update, repeats folded."""
        seen: list[str] = []
        for event in self.events:
            if event.get("type") == "broadcasts_update" and event["broadcasts"]:
                status = event["broadcasts"][0]["status"]
                if not seen or seen[-1] != status:
                    seen.append(status)
        return seen

    def last(self) -> list[dict[str, Any]]:
        return next(e["broadcasts"] for e in reversed(self.events) if e.get("type") == "broadcasts_update")


@contextlib.asynccontextmanager
async def observe(eyeson: Eyeson) -> AsyncIterator[Observer]:
    (meeting_id,) = media_rooms(eyeson.runtime).rooms
    observer = Observer()
    async with eyeson.runtime.events.subscribe(room_channel(meeting_id)) as subscription:

        async def collect() -> None:
            async for event in subscription:
                observer.events.append(event)

        task = asyncio.create_task(collect())
        try:
            yield observer
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def until(check: Callable[[], bool], what: str, within: float = 20) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.05)


def last_picture(flv: Path) -> Any:
    with av.open(str(flv)) as container:
        frames = list(container.decode(video=0))
    assert frames, "no decodable picture"
    return np.asarray(frames[-1].to_ndarray(format="rgb24"), dtype=np.uint8)


async def test_broadcast_reaches_the_server_survives_its_restart_and_stops(
    eyeson: Eyeson, receiver: Receiver, tmp_path: Path
) -> None:
    room = await eyeson.room("Ann", id="cast", **{"user[id]": "ann"})
    ak = room["access_key"]
    peer = Peer(RED, 440.0)
    try:
        await connect(eyeson, peer, ak)
        async with observe(eyeson) as observer:
            body = {"stream_url": receiver.url, "player_url": "https://example.com/watch/1"}
            started = await eyeson.ok("POST", f"/rooms/{ak}/broadcasts", 201, data=body)
            assert started["platform"] == "generic" and started["status"] == "starting"
            assert started["player_url"] == "https://example.com/watch/1"
            assert started["user"]["id"] == "ann" and started["room"]["id"] == "cast"
            assert "stream_url" not in started  # the stream key stays a secret

            # Three seconds of the room at the server: H.264 + AAC at the canvas size, Ann's red on it.
            await until(lambda: receiver.frames() >= 15, "3 s of pictures at the receiver")
            assert receiver.names == ["stream-key"]
            await until(lambda: "live" in observer.statuses(), "a live broadcast")
            shown = await eyeson.ok("GET", f"/rooms/{ak}")
            assert [(b["id"], b["status"]) for b in shown["broadcasts"]] == [(started["id"], "live")]
            info = await probe(receiver.flv(0, tmp_path / "first.flv"))
            assert info.video is not None and info.audio is not None
            assert (info.video.codec, info.video.width, info.video.height) == ("h264", W, H)
            assert (info.audio.codec, info.audio.sample_rate) == ("aac", 48000)
            assert near(colour_at(last_picture(tmp_path / "first.flv"), *centre(tile_rects(1, W, H)[0])), RED)

            # The server goes away: the broadcast reconnects with backoff and the pictures flow again.
            await receiver.stop()
            await until(lambda: observer.statuses()[-1] == "reconnecting", "reconnecting after the drop")
            assert observer.last()[0]["error"]
            await asyncio.sleep(1.5)  # the first retry (about 1 s) finds nobody
            await receiver.start()
            await until(lambda: len(receiver.sessions) == 2 and receiver.frames() >= 10, "pictures again")
            await until(lambda: observer.statuses()[-1] == "live", "live again")
            assert observer.statuses() == ["starting", "live", "reconnecting", "live"]
            assert observer.last()[0]["reconnects"] >= 1
            second = receiver.flv(1, tmp_path / "second.flv")
            assert near(colour_at(last_picture(second), *centre(tile_rects(1, W, H)[0])), RED)

            updated = await eyeson.ok(
                "PUT", f"/rooms/{ak}/broadcasts/generic", data={"player_url": "https://example.com/watch/2"}
            )
            assert updated["player_url"] == "https://example.com/watch/2"
            await until(lambda: observer.last()[0]["player_url"] == updated["player_url"], "the new player URL")

            await eyeson.ok("DELETE", f"/rooms/{ak}/broadcasts")
            await until(lambda: observer.last() == [], "an empty broadcasts_update")
            await until(lambda: len(receiver.ended) == 2, "the publisher gone")
            assert (await eyeson.ok("GET", f"/rooms/{ak}"))["broadcasts"] == []
            assert broadcasters(eyeson.runtime).casts == {}
            assert error_of(await eyeson.request("DELETE", f"/rooms/{ak}/broadcasts")) == (
                404,
                "no broadcast is running",
            )
    finally:
        await peer.close()


async def test_rtmps_with_the_certificate_checked(
    eyeson: Eyeson, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RTMPS: a receiver whose certificate the machine does not trust is refused (the broadcast keeps retrying,
    with the reason); once the machine's trust store holds it (SSL_CERT_FILE, as an operator with a private
    CA would set it), H.264 and AAC arrive over TLS."""
    cert, key = self_signed(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    receiver = Receiver(tls)
    await receiver.start()
    room = await eyeson.room("Ann", id="tls-cast", **{"user[id]": "ann"})
    ak = room["access_key"]
    peer = Peer(RED, 440.0)
    try:
        await connect(eyeson, peer, ak)
        async with observe(eyeson) as observer:
            monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "nothing-trusted.pem"))
            await eyeson.ok("POST", f"/rooms/{ak}/broadcasts", 201, data={"stream_url": receiver.url})
            await until(lambda: "reconnecting" in observer.statuses(), "an untrusted receiver refused")
            assert "certificate" in observer.last()[0]["error"].lower(), observer.last()
            assert receiver.sessions == []
            await eyeson.ok("DELETE", f"/rooms/{ak}/broadcasts")

            monkeypatch.setenv("SSL_CERT_FILE", str(cert))
            await eyeson.ok("POST", f"/rooms/{ak}/broadcasts", 201, data={"stream_url": receiver.url})
            await until(lambda: receiver.frames() >= 10, "pictures over TLS")
            info = await probe(receiver.flv(0, tmp_path / "tls.flv"))
            assert info.video is not None and info.audio is not None
            assert (info.video.codec, info.audio.codec) == ("h264", "aac")
            assert near(colour_at(last_picture(tmp_path / "tls.flv"), *centre(tile_rects(1, W, H)[0])), RED)
            await eyeson.ok("DELETE", f"/rooms/{ak}/broadcasts")
    finally:
        await peer.close()
        await receiver.stop()


async def test_requests_that_cannot_start_a_broadcast(eyeson: Eyeson) -> None:
    ak = (await eyeson.room("Ann", id="rules"))["access_key"]
    path = f"/rooms/{ak}/broadcasts"
    for data, needle in [
        ({}, "stream_url is required"),
        ({"stream_url": "https://example.com/live"}, "rtmp://"),
        ({"stream_url": "rtmp://example.com"}, "no application"),
        ({"stream_url": "rtmp://example.com/live"}, "no stream name"),
        ({"stream_url": "rtmp://example.com/live/key", "platform": "You Tube"}, "platform"),
    ]:
        status, error = error_of(await eyeson.request("POST", path, data=data))
        assert status == 400 and needle in error, (data, error)
    assert error_of(await eyeson.request("PUT", f"{path}/generic", data={"player_url": "x"}))[0] == 404
    assert error_of(await eyeson.request("PUT", f"{path}/generic"))[0] == 400  # no player_url
    assert error_of(await eyeson.request("DELETE", path))[0] == 404
    assert error_of(await eyeson.request("DELETE", f"{path}/youtube"))[0] == 404

    closed = await eyeson.room("Bob", id="closed", **{"options[broadcast_available]": "false"})
    r = await eyeson.request("POST", f"/rooms/{closed['access_key']}/broadcasts", data={"stream_url": "rtmp://h/a/b"})
    assert error_of(r)[0] == 405


async def test_a_refusing_server_is_retried_until_the_meeting_ends(eyeson: Eyeson) -> None:
    ak = (await eyeson.room("Ann", id="nobody", **{"user[id]": "ann"}))["access_key"]
    path = f"/rooms/{ak}/broadcasts"
    nobody = f"rtmp://127.0.0.1:{free_port()}/live/key"  # nothing listens: every connection is refused
    async with observe(eyeson) as observer:
        first = await eyeson.ok("POST", path, 201, data={"stream_url": nobody})
        await until(lambda: observer.statuses() == ["starting", "reconnecting"], "reconnecting", within=10)
        assert "cannot connect" in observer.last()[0]["error"]
        r = await eyeson.request("POST", path, data={"stream_url": nobody})
        assert error_of(r)[0] == 406  # one broadcast per platform
        # Another platform shares the meeting's one encode: one more destination of the same relay.
        other = await eyeson.ok("POST", path, 201, data={"stream_url": nobody + "2", "platform": "youtube"})
        (cast,) = broadcasters(eyeson.runtime).casts.values()
        assert set(cast.sinks) == {first["id"], other["id"]}
        await eyeson.ok("DELETE", f"{path}/youtube")
        assert set(cast.sinks) == {first["id"]}

        await eyeson.request("DELETE", "/rooms/nobody", key=eyeson.key)
        assert error_of(await eyeson.request("POST", path, data={"stream_url": nobody}))[0] == 410
        await until(lambda: broadcasters(eyeson.runtime).casts == {}, "the broadcast ended with the meeting")
    for _ in range(100):  # the broadcasts are recorded as stopped just after the meeting's end
        async with eyeson.runtime.db.session() as session:
            rows = (await session.execute(select(EyesonBroadcast))).scalars().all()
        if all(b.stopped_at is not None for b in rows):
            break
        await asyncio.sleep(0.05)
    assert {(b.platform, b.status) for b in rows} == {("generic", "stopped"), ("youtube", "stopped")}
    assert all(b.stopped_at is not None for b in rows)


async def test_the_encoded_source_skips_late_pictures_and_ends_with_its_tap() -> None:
    tap = McuTap(lambda _force: None, lambda _tap: None, pictures=True)
    source = EncodedSource(tap, FlvEncoder(W, H, 5), max_lag=0.5)
    picture = av.VideoFrame.from_ndarray(np.full((H, W, 3), 200, dtype=np.uint8), format="rgb24")
    for seconds in (10.0, 8.0, 10.2):  # the second one was composed 2 s before the first: too late to send
        frame = picture.reformat(format="yuv420p")
        frame.pts = int(seconds * 90000)
        tap.offer_picture(frame)
    for tick in range(50):  # a second of the mix from 10 s on
        tap.offer_audio(np.zeros(960, dtype=np.int16), 10 * 48000 + tick * 960)
    tap.close()  # the room closed: what it had made is still encoded, then the source ends
    kinds: list[Kind] = []
    async with asyncio.timeout(10):
        while batch := await source.read_batch():
            kinds += [kind_of(m) for m in batch]
    assert kinds[:3] == [Kind.DATA, Kind.VIDEO_CONFIG, Kind.AUDIO_CONFIG]  # onMetaData and sequence headers
    assert {Kind.VIDEO_KEY, Kind.VIDEO, Kind.AUDIO} <= set(kinds) and (source.encoded, source.dropped) == (2, 1)
    assert source.end_reason == "the room closed"
    await source.close()
    assert source.closed and await source.read_batch() == []
