"""One encode for every receiver, and keyframes when receivers need them."""

from __future__ import annotations

import asyncio
import gc

import pytest
from aiortc.codecs.vpx import Vp8Encoder
from tests.fixtures.webrtc import BLUE, GREEN, RED, Peer, Rooms, shows

from mediaplane.kit.mcu import tile_rects
from mediaplane.kit.mcu.encoder import KeyframeClock

pytestmark = pytest.mark.timeout(30)


def aiortc_vp8_encoders() -> int:
    """aiortc VP8 encoders that have encoded (each RTCRtpSender makes its own on first use)."""
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, Vp8Encoder) and o.codec is not None)


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "per-receiver"])
async def test_one_encoder_serves_every_receiver(rooms: Rooms, shared: bool) -> None:
    room = await rooms.room(shared_encoder=shared)
    already = aiortc_vp8_encoders()
    peers = [await rooms.peer(colour).join(room, pid, pid) for pid, colour in (("a", RED), ("b", GREEN), ("c", BLUE))]
    cells = tile_rects(3, 320, 240)
    for peer in peers:
        await peer.wait_for(shows([(cells[0], RED), (cells[1], GREEN), (cells[2], BLUE)]))
    before, received = room.stats(), [peer.frames for peer in peers]
    await asyncio.sleep(1.0)
    after = room.stats()

    # Each peer's camera is encoded by its own sender (3); the room adds 3 more only when not shared.
    assert aiortc_vp8_encoders() - already == (3 if shared else 6)
    composed = after["frames_composed"] - before["frames_composed"]
    encoded = after["frames_encoded"] - before["frames_encoded"]
    assert composed >= 5
    assert all(peer.frames - count >= composed * 0.6 for peer, count in zip(peers, received, strict=True))
    if shared:  # every composed frame encoded once, not once per receiver
        assert abs(encoded - composed) <= 1  # one may be in flight
    else:
        assert after["frames_encoded"] == 0


async def test_picture_loss_asks_the_shared_encoder_for_one_keyframe(rooms: Rooms) -> None:
    room = await rooms.room(keyframe_interval=60.0)
    peer = await rooms.peer(RED).join(room, "a", "Ann")
    await peer.wait_for(shows([(tile_rects(1, 320, 240)[0], RED)]))
    await asyncio.sleep(0.6)
    before = room.stats()["keyframes"]

    (receiver,) = [t.receiver for t in peer.pc.getTransceivers() if t.kind == "video"]
    (source,) = receiver.getSynchronizationSources()
    for _ in range(5):  # a burst, as a browser sends after loss: one keyframe serves it
        await receiver._send_rtcp_pli(source.source)
    await asyncio.sleep(0.8)
    assert room.stats()["keyframes"] == before + 1


async def test_a_late_receiver_starts_on_a_keyframe_quickly(rooms: Rooms) -> None:
    room = await rooms.room(keyframe_interval=60.0)
    first = await rooms.peer(RED).join(room, "a", "Ann")
    await first.wait_for(shows([(tile_rects(1, 320, 240)[0], RED)]))
    await asyncio.sleep(1.0)
    late: Peer = await rooms.peer(GREEN).join(room, "b", "Bob")
    left, right = tile_rects(2, 320, 240)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await late.wait_for(shows([(left, RED), (right, GREEN)]), within=5)
    assert loop.time() - started < 3  # no waiting for the 60 s periodic keyframe


def test_keyframe_clock() -> None:
    clock = KeyframeClock(min_gap=0.5, interval=3.0)
    assert clock.due(0.0)  # the first frame
    assert not clock.due(0.1)
    clock.request()  # picture loss
    assert not clock.due(0.2)  # too soon after the last one: kept for later
    assert clock.due(0.5)
    assert not clock.due(0.6)
    clock.request(start=True)  # a new receiver: the next frame
    assert clock.due(0.7)
    assert not clock.due(1.0)
    assert clock.due(3.7)  # periodic
