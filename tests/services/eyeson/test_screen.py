"""Screen sharing with real media: aiortc peers join a room with their cameras (a colour each); one of them shares
a "screen" (another colour) on a second connection, `POST /rooms/:access_key/webrtc?source=screen`. The screen is
the large spot of everyone's picture in the auto layout (the people in a strip below), a custom layout can put it
full screen by its id `<user id>/screen`, nothing comes back on the screen's connection, and it goes on
`DELETE …?source=screen`, when its user leaves and when its user is kicked. Observers get the user's
participant_update with `screen`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from mediaplane.kit.mcu import Rect, presentation_rects, tile_rects
from mediaplane.services.eyeson.events import room_channel
from mediaplane.services.eyeson.media import media_rooms
from tests.fixtures.webrtc import BLUE, GREEN, RED, ColourTrack, Peer, ToneTrack, shows
from tests.services.eyeson.conftest import Eyeson, connect, error_of, online

pytestmark = [pytest.mark.timeout(90), pytest.mark.usefixtures("loopback_ice")]


@pytest.fixture
def database_url(sqlite_database_url: str) -> str:
    """SQLite only: what is tested here is media."""
    return sqlite_database_url


W, H = 320, 240  # the eyeson test settings' canvas
FULL = Rect(0, 0, W, H)
COMPOSED = {"options[sfu_mode]": "disabled"}  # the composer with two people too (no SFU shortcut)


class Screen:
    """A screen share as a browser sends it: one video track on a connection of its own (`sendonly`, as the
    GUI offers it, or `sendrecv`, as addTrack offers it: the room narrows it)."""

    def __init__(self, colour: tuple[int, int, int], direction: str = "sendonly", audio: bool = False) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pc.addTransceiver(ColourTrack(colour), direction=direction)
        if audio:
            self.pc.addTrack(ToneTrack(440.0))
        self.received: list[MediaStreamTrack] = []
        self.pc.on("track", self.received.append)

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def share(self, eyeson: Eyeson, access_key: str) -> str:
        """Sends the offer as application/sdp (WHIP-style) and applies the answer; the answer."""
        r = await eyeson.request(
            "POST",
            f"/rooms/{access_key}/webrtc?source=screen",
            content=await self.offer(),
            headers={"Content-Type": "application/sdp"},
        )
        assert r.status_code == 201, r.text
        assert r.headers["content-type"].startswith("application/sdp")
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=r.text, type="answer"))
        return r.text

    async def close(self) -> None:
        await self.pc.close()


@pytest.fixture
async def closing() -> AsyncIterator[list[Peer | Screen]]:
    made: list[Peer | Screen] = []
    try:
        yield made
    finally:
        for peer in made:
            await peer.close()


@contextlib.asynccontextmanager
async def observed(eyeson: Eyeson) -> AsyncIterator[list[dict[str, Any]]]:
    (meeting_id,) = media_rooms(eyeson.runtime).rooms
    seen: list[dict[str, Any]] = []
    async with eyeson.runtime.events.subscribe(room_channel(meeting_id)) as subscription:

        async def collect() -> None:
            async for event in subscription:
                seen.append(event)

        task = asyncio.create_task(collect())
        try:
            yield seen
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def screen_flags(seen: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    return [
        (e["participant"]["id"], e["participant"]["screen"])
        for e in seen
        if e["type"] == "participant_update" and "screen" in e["participant"]
    ]


async def until_flags(seen: list[dict[str, Any]], expected: list[tuple[str, bool]]) -> None:
    for _ in range(200):
        if screen_flags(seen) == expected:
            return
        await asyncio.sleep(0.05)
    assert screen_flags(seen) == expected


def podium_ids(eyeson: Eyeson) -> list[str]:
    (room,) = media_rooms(eyeson.runtime).rooms.values()
    return [spot["user_id"] for spot in room.podium()]


async def test_a_screen_is_a_tile_of_its_own(eyeson: Eyeson, closing: list[Peer | Screen]) -> None:
    ann = await eyeson.room("Ann", id="screens", **{"user[id]": "ann", **COMPOSED})
    bob = await eyeson.room("Bob", id="screens", **{"user[id]": "bob"})
    watcher = Peer(GREEN, None)
    closing.append(watcher)
    closing.append(await connect(eyeson, Peer(RED, None), ann["access_key"]))
    await online(eyeson, "screens", {"ann"})
    await connect(eyeson, watcher, bob["access_key"])
    await online(eyeson, "screens", {"ann", "bob"})
    two = tile_rects(2, W, H)
    await watcher.wait_for(shows([(two[0], RED), (two[1], GREEN)]), within=20)

    async with observed(eyeson) as seen:
        screen = Screen(BLUE)
        closing.append(screen)
        answer = await screen.share(eyeson, ann["access_key"])
        assert "a=recvonly" in answer and "m=audio" not in answer  # nothing comes back on it
        three = presentation_rects(3, W, H)  # the screen first and large, the people in a strip below
        await watcher.wait_for(shows([(three[0], BLUE), (three[1], RED), (three[2], GREEN)]), within=20)
        assert podium_ids(eyeson) == ["ann/screen", "ann", "bob"]
        (room,) = media_rooms(eyeson.runtime).rooms.values()
        assert {p["id"]: p["name"] for p in room.participants()}["ann/screen"] == "Ann (screen)"
        await until_flags(seen, [("ann", True)])
        podiums = [e["podium"] for e in seen if e["type"] == "podium_update"]
        assert podiums and [s["user_id"] for s in podiums[-1]] == ["ann/screen", "ann", "bob"]
        # The screen is not a user: the users listing and the people online stay as they were.
        await online(eyeson, "screens", {"ann", "bob"})
        assert screen.received == []

        # A custom layout names it by its id: the screen full size.
        await eyeson.ok("POST", f"/rooms/{bob['access_key']}/layout", data={"users[]": ["ann/screen"]})
        await watcher.wait_for(shows([(FULL, BLUE)]), within=20)
        await eyeson.ok("POST", f"/rooms/{bob['access_key']}/layout", data={"layout": "auto"})
        await watcher.wait_for(shows([(three[0], BLUE)]), within=20)

        # Stopping the share: back to two tiles, and the user is still there.
        await eyeson.ok("DELETE", f"/rooms/{ann['access_key']}/webrtc?source=screen")
        await watcher.wait_for(shows([(two[0], RED), (two[1], GREEN)]), within=20)
        await until_flags(seen, [("ann", True), ("ann", False)])
        await online(eyeson, "screens", {"ann", "bob"})

        # A screen offered sendrecv (addTrack) is narrowed to send-only; it goes when its user leaves.
        again = Screen(BLUE, direction="sendrecv")
        closing.append(again)
        assert "a=recvonly" in await again.share(eyeson, ann["access_key"])
        await watcher.wait_for(shows([(three[0], BLUE)]), within=20)
        await eyeson.ok("DELETE", f"/rooms/{ann['access_key']}/webrtc")
        await online(eyeson, "screens", {"bob"})
        await watcher.wait_for(shows([(FULL, GREEN)]), within=20)  # Bob alone: the screen went with Ann
        await until_flags(seen, [("ann", True), ("ann", False), ("ann", True), ("ann", False)])
        assert podium_ids(eyeson) == ["bob"]
        assert again.received == []


async def test_a_kicked_users_screen_goes_too(eyeson: Eyeson, closing: list[Peer | Screen]) -> None:
    ann = await eyeson.room("Ann", id="kicked", **{"user[id]": "ann", **COMPOSED})
    bob = await eyeson.room("Bob", id="kicked", **{"user[id]": "bob"})
    watcher = Peer(GREEN, None)
    closing.append(await connect(eyeson, Peer(RED, None), ann["access_key"]))
    closing.append(await connect(eyeson, watcher, bob["access_key"]))
    await online(eyeson, "kicked", {"ann", "bob"})
    screen = Screen(BLUE)
    closing.append(screen)
    await screen.share(eyeson, ann["access_key"])
    three = presentation_rects(3, W, H)
    await watcher.wait_for(shows([(three[0], BLUE), (three[1], RED), (three[2], GREEN)]), within=20)

    await eyeson.ok("DELETE", f"/rooms/{bob['access_key']}/users/ann?ban=true")
    await watcher.wait_for(shows([(FULL, GREEN)]), within=20)
    assert podium_ids(eyeson) == ["bob"]
    # Banned: no screen either.
    status, error = error_of(
        await eyeson.request(
            "POST",
            f"/rooms/{ann['access_key']}/webrtc?source=screen",
            json={"type": "offer", "sdp": await Screen(BLUE).offer()},
        )
    )
    assert status == 403 and "banned" in error


async def test_bad_screen_requests(eyeson: Eyeson, closing: list[Peer | Screen]) -> None:
    ann = await eyeson.room("Ann", id="bad", **{"user[id]": "ann"})
    ak = ann["access_key"]
    screen = Screen(BLUE)
    closing.append(screen)
    offer = {"type": "offer", "sdp": await screen.offer()}
    status, error = error_of(await eyeson.request("POST", f"/rooms/{ak}/webrtc?source=window", json=offer))
    assert status == 400 and "source" in error
    assert error_of(await eyeson.request("DELETE", f"/rooms/{ak}/webrtc?source=window"))[0] == 400

    with_audio = Screen(BLUE, audio=True)
    closing.append(with_audio)
    body = {"type": "offer", "sdp": await with_audio.offer()}
    status, error = error_of(await eyeson.request("POST", f"/rooms/{ak}/webrtc?source=screen", json=body))
    assert status == 400 and "video only" in error

    receive_only = Peer(None, None)  # a recvonly video: nothing to share
    closing.append(receive_only)
    sdp = await receive_only.offer()
    video_only = sdp.split("m=audio")[0] if sdp.index("m=video") < sdp.index("m=audio") else None
    assert video_only is not None
    body = {"type": "offer", "sdp": video_only}
    status, error = error_of(await eyeson.request("POST", f"/rooms/{ak}/webrtc?source=screen", json=body))
    assert status == 400 and "sendonly" in error
    status, _ = error_of(await eyeson.request("POST", f"/rooms/{ak}/webrtc?source=screen", json={"sdp": "x"}))
    assert status == 400
    assert error_of(await eyeson.request("POST", "/rooms/nosuchkey/webrtc?source=screen", json=offer))[0] == 404

    # A user whose id is someone's screen id: that someone cannot share a screen (their ids would clash).
    await eyeson.room("Odd", id="bad", **{"user[id]": "ann/screen"})
    assert error_of(await eyeson.request("POST", f"/rooms/{ak}/webrtc?source=screen", json=offer))[0] == 409

    # Stopping a screen that does not run is fine (as leaving twice); the ended meeting is 410.
    await eyeson.ok("DELETE", f"/rooms/{ak}/webrtc?source=screen")
    await eyeson.ok("DELETE", f"/rooms/{ak}", 204)
    assert error_of(await eyeson.request("POST", f"/rooms/{ak}/webrtc?source=screen", json=offer))[0] == 410
    assert error_of(await eyeson.request("DELETE", f"/rooms/{ak}/webrtc?source=screen"))[0] == 410
