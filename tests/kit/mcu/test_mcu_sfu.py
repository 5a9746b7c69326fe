"""The SFU shortcut: two participants get each other's video as it came (nothing decoded, composed or encoded
in the room); a third participant, a layer or a tap switches everyone to the composite and back, on the same
tracks, with no more than a moment between two frames; a lone screen share goes to everyone."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from av import Packet, VideoFrame
from PIL import Image
from tests.fixtures.webrtc import BLUE, GREEN, RED, ColourTrack, Peer, Picture, Rooms, colour_at, near, shows

from mediaplane.kit.mcu import FOREGROUND, McuConfig, McuRoom, tile_rects
from mediaplane.kit.mcu.encoder import VideoEncoder
from mediaplane.kit.mcu.forward import is_vp8_keyframe
from mediaplane.kit.mcu.participant import Participant
from mediaplane.kit.mcu.picture import VIDEO_TIME_BASE
from mediaplane.kit.mcu.switchboard import choose
from mediaplane.kit.mcu.tracks import COMPOSITE, CompositeTrack

pytestmark = pytest.mark.timeout(40)
W, H = 320, 240
SOURCE = (160, 120)  # what tests.fixtures.webrtc's peers send
MAX_GAP = 3.0
"""Seconds a receiver may go without a new frame across a switch: a behaviour bound, not a benchmark."""


def full_frame(rgb: tuple[int, int, int]) -> Callable[[Picture], bool]:
    """The source's own picture: its size, its colour everywhere (no tiles, no names)."""

    def check(picture: Picture) -> bool:
        h, w, _ = picture.shape
        points = [(x, y) for x in (8, w // 2, w - 8) for y in (8, h // 2, h - 8)]
        return (w, h) == SOURCE and all(near(colour_at(picture, x, y), rgb) for x, y in points)

    return check


def composite(*tiles: tuple[int, int, int]) -> Callable[[Picture], bool]:
    """The room's picture, the colours in the auto layout's tiles in order."""
    spots = shows(list(zip(tile_rects(len(tiles), W, H), tiles, strict=True)))
    return lambda picture: picture.shape[:2] == (H, W) and spots(picture)


class Gaps:
    """The longest each peer went without a new video frame (sampled every 10 ms) while measured."""

    def __init__(self, peers: list[Peer]) -> None:
        self.peers = peers
        self.longest = [0.0] * len(peers)
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        last = [(p.frames, time.monotonic()) for p in self.peers]
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            for i, peer in enumerate(self.peers):
                if peer.frames != last[i][0]:
                    last[i] = (peer.frames, now)
                self.longest[i] = max(self.longest[i], now - last[i][1])

    async def stop(self) -> list[float]:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        return self.longest


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def pair(rooms: Rooms, **options: Any) -> tuple[McuRoom, Peer, Peer]:
    room = await rooms.room(forwarding="pairs", **options)
    a = await rooms.peer(RED).join(room, "a", "Ann")
    b = await rooms.peer(GREEN).join(room, "b", "Bob")
    await a.wait_for(full_frame(GREEN))
    await b.wait_for(full_frame(RED))
    return room, a, b


async def test_two_peers_get_each_others_video_and_the_room_idles(rooms: Rooms) -> None:
    room, a, b = await pair(rooms)
    assert room.forwarding() == {"a": "b", "b": "a"}
    assert "forwarding" in [e.kind for e in rooms.events]
    await asyncio.sleep(0.3)  # the last composite frames go out
    before, frames = room.stats(), (a.frames, b.frames)
    await asyncio.sleep(1.0)
    after = room.stats()
    assert after["forwarding"]
    assert after["frames_encoded"] == before["frames_encoded"]  # the shared encoder is idle
    assert after["frames_composed"] == before["frames_composed"]  # and nothing is composed
    assert after["frames_forwarded"] - before["frames_forwarded"] >= 12  # 10 fps each way
    assert a.frames - frames[0] >= 6 and b.frames - frames[1] >= 6
    assert all(p["receiving_video"] and not p["stalled"] for p in room.participants())

    # A receiver's picture loss (PLI) goes to the participant it gets forwarded.
    asker = room._members["b"]._keyframes
    assert asker is not None
    sent = asker.sent
    room._members["a"].video_out.picture_lost()  # type: ignore[union-attr]
    assert asker.sent == sent + 1

    # A snapshot composes once (the decoders catch up first), and nobody leaves forwarding for it.
    picture = await room.fresh_picture()
    assert picture is not None and composite(RED, GREEN)(picture.to_ndarray(format="rgb24"))
    assert room.forwarding() == {"a": "b", "b": "a"}
    await a.wait_for(full_frame(GREEN))


async def test_a_third_switches_everyone_to_the_composer_and_back_without_a_gap(rooms: Rooms) -> None:
    room, a, b = await pair(rooms)
    tracks = {pid: room._members[pid].video_out for pid in ("a", "b")}
    switches = [t.switches for t in tracks.values() if t is not None]
    gaps = Gaps([a, b])
    c = await rooms.peer(BLUE).join(room, "c", "Cy")
    for peer in (a, b, c):
        await peer.wait_for(composite(RED, GREEN, BLUE), within=8)
    assert room.forwarding() == {}
    assert room.stats()["frames_encoded"] > 0

    await c.close()
    await room.disconnect("c")
    await a.wait_for(full_frame(GREEN), within=8)
    await b.wait_for(full_frame(RED), within=8)
    longest = await gaps.stop()
    print(f"longest gaps between frames: {longest}")
    assert max(longest) < MAX_GAP, longest
    # The same tracks all along, each switched twice (to the composite, back), and no renegotiation.
    assert {pid: room._members[pid].video_out for pid in ("a", "b")} == tracks
    assert [t.switches for t in tracks.values() if t is not None] == [n + 2 for n in switches]


async def test_a_layer_or_a_tap_needs_the_composer(rooms: Rooms) -> None:
    room, a, b = await pair(rooms)
    image = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    image.paste((*BLUE, 255), (0, 0, 8, 8))
    await room.set_layer(FOREGROUND, image)
    await a.wait_for(composite(RED, GREEN))
    assert room.forwarding() == {}
    await room.set_layer(FOREGROUND, None)
    await a.wait_for(full_frame(GREEN))

    async with room.tap():
        await b.wait_for(composite(RED, GREEN))
    await b.wait_for(full_frame(RED))


async def test_off_always_composes(rooms: Rooms) -> None:
    room = await rooms.room(forwarding="off")
    a = await rooms.peer(RED).join(room, "a", "Ann")
    await rooms.peer(GREEN).join(room, "b", "Bob")
    await a.wait_for(composite(RED, GREEN))
    await asyncio.sleep(0.5)
    assert room.forwarding() == {} and room.stats()["frames_forwarded"] == 0


async def test_a_lone_screen_share_goes_to_everyone(rooms: Rooms) -> None:
    room = await rooms.room(forwarding="screen")
    a = await rooms.peer(RED).join(room, "a", "Ann")
    b = await rooms.peer(GREEN).join(room, "b", "Bob")
    await a.wait_for(composite(RED, GREEN))  # two people, no screen: the composer

    screen = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        screen.addTransceiver(ColourTrack(BLUE), direction="sendonly")
        await screen.setLocalDescription(await screen.createOffer())
        answer = await room.connect("a/screen", "Ann (screen)", screen.localDescription.sdp)
        await screen.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        await a.wait_for(full_frame(BLUE))
        await b.wait_for(full_frame(BLUE))
        assert room.forwarding() == {"a": "a/screen", "b": "a/screen"}
    finally:
        await screen.close()
    await room.disconnect("a/screen")
    await b.wait_for(composite(RED, GREEN))


class TestParts:
    def test_vp8_keyframes_are_told_from_the_bitstream(self) -> None:
        encoder = VideoEncoder(64, 48, 10, 100_000)
        frame = tile_frame()
        key = encoder.encode(frame, True)[0]
        frame.pts = 9000
        delta = encoder.encode(frame, False)[0]
        assert is_vp8_keyframe(bytes(key)) and key.is_keyframe
        assert not is_vp8_keyframe(bytes(delta)) and not delta.is_keyframe
        assert not is_vp8_keyframe(b"\x00\x01")

    def test_a_switch_waits_for_a_keyframe_and_counts_the_pts_on(self) -> None:
        asked: list[tuple[str, bool]] = []
        track = CompositeTrack(True, lambda source, start: asked.append((source, start)), lambda: None, 9000)
        track.started = True
        track.offer(packet(90000, key=True))
        track.offer(packet(99000))
        track.switch("b")
        assert asked == [("b", True)] and track.source == COMPOSITE
        track.forward("b", b"delta", 5000, False)  # no keyframe yet: the composite goes on
        track.offer(packet(108000))
        track.forward("b", b"key", 6000, True)
        track.offer(packet(117000))  # switched: the composite is no longer sent
        track.forward("b", b"next", 9000, False)
        sent = drain(track)
        assert [bytes(p) for p in sent] == [b"c", b"c", b"c", b"key", b"next"]
        assert [p.pts for p in sent] == [90000, 99000, 108000, 117000, 120000]
        assert sent[3].is_keyframe and sent[3].time_base == VIDEO_TIME_BASE
        assert (track.source, track.switches, track.forwarded) == ("b", 1, 2)

        track.picture_lost()
        assert asked[-1] == ("b", False)
        track.switch(COMPOSITE)
        track.offer(packet(1000, key=True))  # the composite's clock is behind: counted on all the same
        track.forward("b", b"late", 12000, False)
        track.forward("b", b"new-stream", 0, True)  # the source restarts: ignored, it is no longer the source
        assert [p.pts for p in drain(track)] == [129000]

    def test_the_plan(self) -> None:
        config = McuConfig(forwarding="pairs")
        a, b, c = member("a"), member("b"), member("c")
        assert choose(config, {"a": a, "b": b}) == {"a": "b", "b": "a"}
        assert choose(config, {"a": a, "b": b, "c": c}) == {}
        assert choose(config, {"a": a, "b": member("b", stalled=True)}) == {}
        assert choose(config, {"a": a, "b": member("b", sends=False)}) == {}
        assert choose(config, {"a": a, "b": member("b", receives=False)}) == {"a": "b"}
        assert choose(config, {"a": a, "a/screen": member("a/screen")}) == {}
        screen = McuConfig(forwarding="screen")
        s = member("a/screen", receives=False)
        assert choose(screen, {"a": a, "b": b, "a/screen": s}) == {"a": "a/screen", "b": "a/screen"}
        assert choose(screen, {"a": a, "b": b}) == {}
        assert choose(screen, {"a": a, "a/screen": s, "b/screen": member("b/screen")}) == {}
        assert choose(McuConfig(), {"a": a, "b": b}) == {}
        with pytest.raises(ValueError):
            McuConfig(forwarding="mesh")  # type: ignore[arg-type]


def member(pid: str, *, sends: bool = True, stalled: bool = False, receives: bool = True) -> Participant:
    fake = SimpleNamespace(id=pid, sends_video=sends, forwardable=sends and not stalled)
    fake.video_out = object() if receives else None
    return cast(Participant, fake)


def packet(pts: int, key: bool = False) -> Packet:
    p = Packet(b"c")
    p.pts, p.time_base, p.is_keyframe = pts, VIDEO_TIME_BASE, key
    return p


def drain(track: CompositeTrack) -> list[Packet]:
    out = []
    while not track._queue.empty():
        item = track._queue.get_nowait()
        assert isinstance(item, Packet)
        out.append(item)
    return out


def tile_frame() -> VideoFrame:
    frame = VideoFrame.from_ndarray(np.full((72, 64), 128, dtype=np.uint8), format="yuv420p")
    frame.pts, frame.time_base = 0, VIDEO_TIME_BASE
    return frame
