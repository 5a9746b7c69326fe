"""A room's life: leaving, failing offers, reconnecting, closing, the tap."""

from __future__ import annotations

import asyncio
import threading

import pytest
from aiortc import RTCSessionDescription
from av import AudioFrame, Packet, VideoFrame
from tests.fixtures.webrtc import GREEN, RED, Peer, Rooms, shows

from mediaplane.kit.mcu import (
    McuClosedError,
    McuConfig,
    McuEvent,
    McuLayoutError,
    McuOfferError,
    McuRoom,
    tile_rects,
)

pytestmark = pytest.mark.timeout(30)


async def wait_until(condition: object, within: float = 10.0) -> None:
    assert callable(condition)
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_peer_that_leaves_is_removed_from_the_layout(rooms: Rooms) -> None:
    room = await rooms.room()
    a = await rooms.peer(RED).join(room, "a", "Ann")
    b = await rooms.peer(GREEN).join(room, "b", "Bob")
    left, right = tile_rects(2, 320, 240)
    await a.wait_for(shows([(left, RED), (right, GREEN)]))

    await b.close()  # the browser tab closes
    await wait_until(lambda: "disconnected" in rooms.kinds("b"))
    assert [s["user_id"] for s in room.podium()] == ["a"]
    await a.wait_for(shows([(tile_rects(1, 320, 240)[0], RED)]))


async def test_the_event_callback_may_be_async(rooms: Rooms) -> None:
    seen: list[McuEvent] = []

    async def report(event: McuEvent) -> None:
        await asyncio.sleep(0)
        seen.append(event)

    room = McuRoom(McuConfig(width=320, height=240, fps=10), on_event=report)
    async with room:
        await rooms.peer(RED).join(room, "a", "Ann")
        await wait_until(lambda: [e.kind for e in seen][:2] == ["connected", "first_frame"])


async def test_disconnect_removes_a_participant(rooms: Rooms) -> None:
    room = await rooms.room()
    await rooms.peer(RED).join(room, "a", "Ann")
    await wait_until(lambda: "connected" in rooms.kinds("a"))
    assert await room.disconnect("a") is True
    assert rooms.kinds("a")[-1] == "disconnected"
    assert room.participants() == [] and room.podium() == []
    assert await room.disconnect("a") is False


@pytest.mark.parametrize(
    "offer",
    ["", "hello", "v=0\r\nm=video x\r\n", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"],
    ids=["empty", "not-sdp", "broken-line", "no-media"],
)
async def test_a_bad_offer_is_a_value_error_and_leaves_nothing(rooms: Rooms, offer: str) -> None:
    room = await rooms.room()
    with pytest.raises(ValueError) as caught:
        await room.connect("x", "X", offer)
    assert isinstance(caught.value, McuOfferError) and caught.value.status_code == 400
    assert room.participants() == []


async def test_an_offer_aiortc_rejects_leaves_nothing(rooms: Rooms) -> None:
    room = await rooms.room()
    offer = await Peer(RED).offer()
    broken = "\r\n".join(line for line in offer.split("\r\n") if not line.startswith("a=fingerprint"))
    with pytest.raises(McuOfferError):
        await room.connect("x", "X", broken)
    no_vp8 = offer.replace("VP8/90000", "VP9/90000")
    with pytest.raises(McuOfferError, match="VP8"):
        await room.connect("x", "X", no_vp8)
    assert room.participants() == []


async def test_vp8_is_answered_when_another_codec_is_offered_first(rooms: Rooms) -> None:
    room = await rooms.room()
    peer = Peer(RED, codecs=["video/H264", "video/VP8", "video/rtx"])
    rooms.peers.append(peer)
    offer = await peer.offer()
    assert offer.index("H264/90000") < offer.index("VP8/90000")
    answer = await room.connect("a", "Ann", offer)
    assert "VP8/90000" in answer and "H264" not in answer
    await peer.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    await peer.wait_for(shows([(tile_rects(1, 320, 240)[0], RED)]))


async def test_the_same_id_replaces_the_connection_in_place(rooms: Rooms) -> None:
    room = await rooms.room()
    first = await rooms.peer(RED).join(room, "a", "Ann")
    await rooms.peer(GREEN).join(room, "b", "Bob")
    left, right = tile_rects(2, 320, 240)
    await first.wait_for(shows([(left, RED), (right, GREEN)]))

    again = await rooms.peer((40, 60, 220)).join(room, "a", "Ann")  # a reload, with another camera
    await again.wait_for(shows([(left, (40, 60, 220)), (right, GREEN)]))
    assert [p["id"] for p in room.participants()] == ["a", "b"]
    assert "disconnected" not in rooms.kinds("a")


async def test_close_stops_everything(rooms: Rooms) -> None:
    before = {t.name for t in threading.enumerate()}
    room = await rooms.room()
    peer = await rooms.peer(RED).join(room, "a", "Ann")
    await peer.wait_for(shows([(tile_rects(1, 320, 240)[0], RED)]))
    assert any(t.name.startswith("mcu-video") for t in threading.enumerate())

    await room.close()
    await room.close()  # twice is fine
    await wait_until(lambda: peer.pc.connectionState == "closed")  # the room's side said goodbye
    await peer.close()
    # Left: the event loop's own executor threads (aiortc's Opus encodes), nothing of the room's or aiortc's.
    left = {t.name for t in threading.enumerate()} - before
    assert all(name.startswith("asyncio_") for name in left), left
    with pytest.raises(McuClosedError):
        await room.connect("b", "Bob", await Peer(GREEN).offer())


async def test_layouts_the_grid_cannot_show_are_refused(rooms: Rooms) -> None:
    room = await rooms.room()
    with pytest.raises(McuLayoutError):
        room.set_layout([str(i) for i in range(10)])
    with pytest.raises(ValueError):
        room.set_layout("abc")
    room.set_layout(["x", ""])  # someone not (yet) here: the spot shows the background
    assert [s["user_id"] for s in room.podium()] == ["x", ""]


async def test_the_tap_gives_packets_from_a_keyframe_and_the_full_mix(rooms: Rooms) -> None:
    room = await rooms.room(fps=10)
    await rooms.peer(RED, 500.0).join(room, "a", "Ann")
    packets: list[Packet] = []
    audio: list[AudioFrame] = []
    async with room.tap() as tap:
        async for item in tap:
            (packets if isinstance(item, Packet) else audio).append(item)
            if len(packets) >= 5 and len(audio) >= 10:
                break
    assert packets[0].is_keyframe
    assert [p.pts for p in packets] == sorted(p.pts for p in packets)
    assert all(f.sample_rate == 48000 and f.samples == 960 for f in audio)


async def test_a_picture_tap_gives_composed_frames_and_the_room_keeps_its_last(rooms: Rooms) -> None:
    room = await rooms.room(fps=10)
    await rooms.peer(RED).join(room, "a", "Ann")
    frames: list[VideoFrame] = []
    async with room.tap(pictures=True) as tap:
        async for item in tap:
            if isinstance(item, VideoFrame):
                frames.append(item)
            if len(frames) >= 3:
                break
    assert all(f.width == 320 and f.height == 240 and f.format.name == "yuv420p" for f in frames)
    assert [f.pts for f in frames] == sorted(f.pts for f in frames)
    last = room.picture()
    assert last is not None and last.width == 320
