"""eyeson's SFU mode through the API, with real aiortc peers: in `ptp` (the default) two participants get each
other's video as it comes and the room encodes nothing; a third joining, a layer or a recording switches
everyone to the composite (and back), with no more than a moment between two frames; `disabled` always
composes; `screencast` forwards a lone screen share to everyone. Observers see the state in podium_update."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from mediaplane.kit.mcu import McuRoom, Rect, tile_rects
from mediaplane.services.eyeson.media import media_rooms
from tests.fixtures.webrtc import BLUE, GREEN, RED, YELLOW, ColourTrack, Peer, Picture, forwarded, shows
from tests.services.eyeson.conftest import Eyeson, connect, online
from tests.services.eyeson.test_layers import blue_square
from tests.services.eyeson.test_recordings import observe

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("loopback_ice")]
W, H = 320, 240  # the eyeson test settings' canvas
MAX_GAP = 3.0
"""Seconds a receiver may go without a new frame across a switch: a behaviour bound, not a benchmark."""


@pytest.fixture
def database_url(sqlite_database_url: str) -> str:
    """SQLite only: what is tested here is media."""
    return sqlite_database_url


def composite(*colours: tuple[int, int, int]) -> Callable[[Picture], bool]:
    return shows(list(zip(tile_rects(len(colours), W, H), colours, strict=True)))


async def join(eyeson: Eyeson, peers: list[Peer], room_id: str, user: str, colour: Any, **fields: str) -> str:
    room = await eyeson.room(user.title(), id=room_id, **{"user[id]": user}, **fields)
    peers.append(await connect(eyeson, Peer(colour), room["access_key"]))
    return str(room["access_key"])


def the_room(eyeson: Eyeson) -> McuRoom:
    (room,) = media_rooms(eyeson.runtime).rooms.values()
    return room


async def frames_gap(peers: list[Peer], until: Callable[[], Any]) -> float:
    """The longest any of `peers` went without a new frame (sampled every 10 ms) while `until` runs."""
    last = [(p.frames, time.monotonic()) for p in peers]
    longest = 0.0
    task = asyncio.ensure_future(until())
    while not task.done():
        await asyncio.sleep(0.01)
        now = time.monotonic()
        for i, peer in enumerate(peers):
            if peer.frames != last[i][0]:
                last[i] = (peer.frames, now)
            longest = max(longest, now - last[i][1])
    await task
    return longest


async def test_two_get_each_other_a_third_gets_the_composite_and_back(eyeson: Eyeson, peers: list[Peer]) -> None:
    await join(eyeson, peers, "sfu", "ann", RED)
    ann = peers[0]
    room = the_room(eyeson)
    (meeting_id,) = media_rooms(eyeson.runtime).rooms
    async with observe(eyeson, meeting_id) as observer:
        await join(eyeson, peers, "sfu", "bob", GREEN)
        bob = peers[1]
        await online(eyeson, "sfu", {"ann", "bob"})
        await ann.wait_for(forwarded(GREEN), within=20)
        await bob.wait_for(forwarded(RED), within=20)
        await asyncio.sleep(0.5)
        before = room.stats()
        await asyncio.sleep(1.0)
        after = room.stats()
        assert after["forwarding"] and after["frames_encoded"] == before["frames_encoded"]  # the encoder idles
        assert after["frames_forwarded"] > before["frames_forwarded"]
        sfu = [e for e in observer.events if e["type"] == "podium_update" and e["sfu"]]
        assert sfu and [s["user_id"] for s in sfu[-1]["podium"]] == ["bob", "ann"]
        assert all((s["width"], s["height"], s["left"], s["top"]) == (W, H, 0, 0) for s in sfu[-1]["podium"])

        async def third_comes_and_goes() -> None:
            cy = await join(eyeson, peers, "sfu", "cy", BLUE)
            for peer in peers:
                await peer.wait_for(composite(RED, GREEN, BLUE), within=20)
            assert room.forwarding() == {}
            await eyeson.ok("DELETE", f"/rooms/{cy}/webrtc")
            await ann.wait_for(forwarded(GREEN), within=20)
            await bob.wait_for(forwarded(RED), within=20)

        assert await frames_gap([ann, bob], third_comes_and_goes) < MAX_GAP
    states = [e["sfu"] for e in observer.events if e["type"] == "podium_update"]
    assert states[-1] is True and False in states[states.index(True) :], states


async def test_disabled_always_composes(eyeson: Eyeson, peers: list[Peer]) -> None:
    await join(eyeson, peers, "mcu", "ann", RED, **{"options[sfu_mode]": "disabled"})
    await join(eyeson, peers, "mcu", "bob", GREEN)
    await online(eyeson, "mcu", {"ann", "bob"})
    for peer in peers:
        await peer.wait_for(composite(RED, GREEN), within=20)
    await asyncio.sleep(0.5)
    assert the_room(eyeson).stats()["frames_forwarded"] == 0


async def test_a_layer_or_a_recording_needs_the_composer(eyeson: Eyeson, peers: list[Peer]) -> None:
    ak = await join(eyeson, peers, "layered", "ann", RED)
    await join(eyeson, peers, "layered", "bob", GREEN)
    ann, bob = peers
    await ann.wait_for(forwarded(GREEN), within=20)

    upload = {"file": ("layer.png", blue_square(), "image/png")}
    await eyeson.ok("POST", f"/rooms/{ak}/layers", 201, files=upload, data={"z-index": "1"})
    square = Rect(20, 20, 40, 40)  # blue_square()'s
    await ann.wait_for(shows([(square, BLUE), *zip(tile_rects(2, W, H), (RED, GREEN), strict=True)]), within=20)
    await eyeson.ok("DELETE", f"/rooms/{ak}/layers/1")
    await bob.wait_for(forwarded(RED), within=20)

    await eyeson.ok("POST", f"/rooms/{ak}/recording", 201)
    await bob.wait_for(composite(RED, GREEN), within=20)
    await eyeson.ok("DELETE", f"/rooms/{ak}/recording")
    await bob.wait_for(forwarded(RED), within=20)


async def test_screencast_forwards_a_lone_screen_share(eyeson: Eyeson, peers: list[Peer]) -> None:
    ak = await join(eyeson, peers, "cast", "ann", RED, **{"options[sfu_mode]": "screencast"})
    await join(eyeson, peers, "cast", "bob", GREEN)
    ann, bob = peers
    await ann.wait_for(composite(RED, GREEN), within=20)  # no screen: the composer

    screen = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        screen.addTransceiver(ColourTrack(YELLOW), direction="sendonly")
        await screen.setLocalDescription(await screen.createOffer())
        r = await eyeson.request(
            "POST",
            f"/rooms/{ak}/webrtc?source=screen",
            content=screen.localDescription.sdp,
            headers={"Content-Type": "application/sdp"},
        )
        assert r.status_code == 201, r.text
        await screen.setRemoteDescription(RTCSessionDescription(sdp=r.text, type="answer"))
        await ann.wait_for(forwarded(YELLOW), within=20)
        await bob.wait_for(forwarded(YELLOW), within=20)
        assert the_room(eyeson).forwarding() == {"ann": "ann/screen", "bob": "ann/screen"}
    finally:
        await screen.close()
    await eyeson.ok("DELETE", f"/rooms/{ak}/webrtc?source=screen")
    await bob.wait_for(composite(RED, GREEN), within=20)
