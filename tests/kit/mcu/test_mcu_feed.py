"""A source tap: one participant's own VP8 frames as its browser sent them (decodable from the first, at its own
size) and its own voice, while the room forwards instead of composing; it ends when the participant goes."""

from __future__ import annotations

import asyncio

import av
import numpy as np
import numpy.typing as npt
import pytest
from av import AudioFrame, Packet, VideoFrame
from tests.fixtures.webrtc import GREEN, RED, Rooms, colour_at, near, tone_level

from mediaplane.kit.mcu import McuNotFoundError, McuRoom

pytestmark = pytest.mark.timeout(30)


async def connected(room: McuRoom, ids: set[str], within: float = 10) -> None:
    for _ in range(int(within / 0.05)):
        if {p["id"] for p in room.participants() if p["connected"]} == ids:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"connected: {room.participants()}")


async def test_a_source_tap_gives_a_participants_own_frames_and_voice(rooms: Rooms) -> None:
    room = await rooms.room(fps=5, forwarding="pairs")
    await rooms.peer(RED, 500.0).join(room, "a", "a")
    await rooms.peer(GREEN, 800.0).join(room, "b", "b")
    await connected(room, {"a", "b"})
    with pytest.raises(McuNotFoundError):
        room.source_tap("nobody")
    with pytest.raises(McuNotFoundError):
        room.playback_tap("nothing")
    with pytest.raises(ValueError):
        room.source_tap("a", ["smell"])

    feed = room.source_tap("a")
    decoder = av.CodecContext.create("vp8", "r")
    first: Packet | None = None
    picture: VideoFrame | None = None
    voice: list[npt.NDArray[np.int16]] = []

    async def read() -> None:
        nonlocal first, picture
        async for item in feed:
            if isinstance(item, Packet):
                first = first or item
                for frame in decoder.decode(item):
                    assert isinstance(frame, VideoFrame)
                    picture = frame
            elif isinstance(item, AudioFrame):
                voice.append(item.to_ndarray().reshape(-1)[::2])
            if picture is not None and sum(len(v) for v in voice) >= 48000:
                return

    await asyncio.wait_for(read(), 15)
    assert first is not None and first.is_keyframe
    assert picture is not None and (picture.width, picture.height) == (160, 120)  # its camera, not the canvas
    assert near(colour_at(np.asarray(picture.to_ndarray(format="rgb24")), 80, 60), RED)
    heard = np.concatenate(voice)[-48000:]
    assert tone_level(heard, 500.0) > 10 * tone_level(heard, 800.0)
    assert room.stats()["forwarding"]  # the tap needs no composer

    await room.disconnect("a")

    async def drained() -> None:
        async for _ in feed:
            pass

    await asyncio.wait_for(drained(), 5)
    assert feed.closed
