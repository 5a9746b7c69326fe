"""Playbacks through eyeson's API, with real aiortc peers and clips made by FFmpeg (lavfi `color` and `sine`)
served over HTTP from 127.0.0.1: the clip replaces the right tile and its tone is heard, its end is announced
(`playback_update`), a playback of its own is a new spot a layout can place, and bad requests are refused."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from mediaplane.kit.events import Subscription
from mediaplane.kit.mcu import McuRoom, tile_rects
from mediaplane.services.eyeson.events import room_channel
from mediaplane.services.eyeson.media import media_rooms
from mediaplane.services.eyeson.models import EyesonMeeting
from tests.fixtures.media import make_colour_clip
from tests.fixtures.servers import serve_folder
from tests.fixtures.webrtc import BLUE, GREEN, RED, Peer, forwarded, shows, tone_level
from tests.services.eyeson.conftest import Eyeson, connect, error_of, online

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("loopback_ice")]
W, H = 320, 240
TONE = 1500.0
CLIP_SECONDS = 2.5


@pytest.fixture
def database_url(sqlite_database_url: str) -> str:
    """SQLite only: what is tested here is media."""
    return sqlite_database_url


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("clips")
    make_colour_clip(root / "blue.mp4", BLUE, CLIP_SECONDS, tone=TONE)
    (root / "notes.txt").write_text("not a video")
    with serve_folder(root) as url:
        yield url


async def next_of(observed: Subscription, kind: str | None, within: float = 10) -> dict[str, Any]:
    """The next event of that type (None: of any type)."""

    async def find() -> dict[str, Any]:
        async for message in observed:
            if kind is None or message["type"] == kind:
                return dict(message)
        raise AssertionError("the bus closed")

    return await asyncio.wait_for(find(), within)


async def two_peers(eyeson: Eyeson, peers: list[Peer], room_id: str) -> tuple[str, str, McuRoom]:
    ann = await eyeson.room("Ann", id=room_id, **{"user[id]": "ann"})
    bob = await eyeson.room("Bob", id=room_id, **{"user[id]": "bob"})
    peers.append(await connect(eyeson, Peer(RED, None), ann["access_key"]))
    peers.append(await connect(eyeson, Peer(GREEN, None), bob["access_key"]))
    await online(eyeson, room_id, {"ann", "bob"})
    ((meeting_id, room),) = media_rooms(eyeson.runtime).rooms.items()
    return ann["access_key"], meeting_id, room


async def stored(eyeson: Eyeson, meeting_id: str) -> list[dict[str, Any]]:
    async with eyeson.runtime.db.session() as session:
        meeting = await session.get(EyesonMeeting, meeting_id)
        assert meeting is not None
        return list(meeting.playbacks)


async def test_a_playback_replaces_a_tile_is_heard_and_ends(eyeson: Eyeson, peers: list[Peer], clips: str) -> None:
    ak, meeting_id, _room = await two_peers(eyeson, peers, "play")
    ann, bob = peers
    left, right = tile_rects(2, W, H)
    await bob.wait_for(forwarded(RED), within=20)  # two: Ann's video as it comes (sfu_mode ptp) until the playback

    async with eyeson.runtime.events.subscribe(room_channel(meeting_id)) as observed:
        params = {
            "playback[url]": f"{clips}/blue.mp4",
            "playback[play_id]": "clip",
            "playback[replacement_id]": "ann",
            "playback[audio]": "true",
            "playback[name]": "The clip",
        }
        body = await eyeson.ok("POST", f"/rooms/{ak}/playbacks", 201, data=params)
        playing = {
            "url": f"{clips}/blue.mp4",
            "play_id": "clip",
            "replacement_id": "ann",
            "name": "The clip",
            "audio": True,
            "loop_count": 0,
        }
        assert body == {"playback": playing}
        told = {m["type"]: m for m in [await next_of(observed, None), await next_of(observed, None)]}
        assert told["playback_update"]["playing"] == [playing]
        podium = told["podium_update"]["podium"]
        assert podium[0] == {**podium[0], "user_id": "ann", "play_id": "clip"}

        r = await eyeson.request("POST", f"/rooms/{ak}/playbacks", data=params)
        assert error_of(r)[0] == 409
        assert (await eyeson.ok("GET", f"/rooms/{ak}"))["playbacks"] == [playing]

        await bob.wait_for(shows([(left, BLUE), (right, GREEN)]), within=10)
        await asyncio.sleep(0.7)
        assert tone_level(bob.heard(0.5), TONE) > 100
        assert tone_level(ann.heard(0.5), TONE) > 100  # the replaced user hears it too

        ended = await next_of(observed, "playback_update", within=CLIP_SECONDS + 5)
        assert ended["playing"] == []
    await bob.wait_for(shows([(left, RED), (right, GREEN)]), within=10)
    assert await stored(eyeson, meeting_id) == []


async def test_a_playback_of_its_own_is_placed_and_stopped(eyeson: Eyeson, peers: list[Peer], clips: str) -> None:
    ak, meeting_id, room = await two_peers(eyeson, peers, "own")
    bob = peers[1]
    # @eyeson/node sends JSON, numbers as strings; without audio its tone stays out of the mix.
    body = {"url": f"{clips}/blue.mp4", "play_id": "loop", "loop_count": "-1"}
    await eyeson.ok("POST", f"/rooms/{ak}/playbacks", 201, json=body)
    cells = tile_rects(3, W, H)
    await bob.wait_for(shows([(cells[0], RED), (cells[1], GREEN), (cells[2], BLUE)]), within=20)
    await asyncio.sleep(0.5)
    assert tone_level(bob.heard(0.5), TONE) < 5

    await eyeson.ok("POST", f"/rooms/{ak}/layout", data={"layout": "custom", "users[]": ["loop"]})
    await bob.wait_for(shows([(tile_rects(1, W, H)[0], BLUE)]), within=20)
    await asyncio.sleep(CLIP_SECONDS)  # it loops
    assert [p["play_id"] for p in room.playbacks()] == ["loop"]

    async with eyeson.runtime.events.subscribe(room_channel(meeting_id)) as observed:
        await eyeson.ok("DELETE", f"/rooms/{ak}/playbacks/loop")
        assert (await next_of(observed, "playback_update"))["playing"] == []
    assert room.playbacks() == [] and await stored(eyeson, meeting_id) == []
    assert error_of(await eyeson.request("DELETE", f"/rooms/{ak}/playbacks/loop"))[0] == 404


BAD: list[tuple[dict[str, str], int, str]] = [
    ({}, 400, "url is required"),
    ({"url": "ftp://example.com/x.mp4"}, 400, "url must be an http or https URL"),
    ({"url": "{clips}/missing.mp4"}, 400, "cannot be played"),
    ({"url": "{clips}/notes.txt"}, 400, "cannot be played"),
    ({"url": "{clips}/blue.mp4", "loop_count": "twice"}, 400, "loop_count"),
    ({"url": "{clips}/blue.mp4", "loop_count": "-2"}, 400, "loop_count must be -1"),
    ({"url": "{clips}/blue.mp4", "audio": "maybe"}, 400, "audio"),
]


async def test_bad_playbacks_are_refused(eyeson: Eyeson, clips: str) -> None:
    ak = (await eyeson.room("Ann", id="bad"))["access_key"]
    for params, status, message in BAD:
        form = {k: v.replace("{clips}", clips) for k, v in params.items()}
        got, error = error_of(await eyeson.request("POST", f"/rooms/{ak}/playbacks", data=form))
        assert got == status and message in error, (params, error)
    ((meeting_id, room),) = media_rooms(eyeson.runtime).rooms.items()
    assert room.playbacks() == [] and await stored(eyeson, meeting_id) == []
    assert error_of(await eyeson.request("POST", "/rooms/nokey/playbacks", data={"url": "http://x/y"}))[0] == 404


async def test_a_room_started_again_plays_its_playbacks_again(eyeson: Eyeson, clips: str) -> None:
    ak = (await eyeson.room("Ann", id="again"))["access_key"]
    await eyeson.ok("POST", f"/rooms/{ak}/playbacks", 201, data={"url": f"{clips}/blue.mp4", "play_id": "p"})
    ((meeting_id, _room),) = media_rooms(eyeson.runtime).rooms.items()
    await media_rooms(eyeson.runtime).close_room(meeting_id)  # as if the process had restarted
    async with eyeson.runtime.db.session() as session:
        meeting = await session.get(EyesonMeeting, meeting_id)
        assert meeting is not None
    again = await media_rooms(eyeson.runtime).ensure(meeting)
    (spot,) = tile_rects(1, W, H)
    for _ in range(100):
        frame = again.picture()
        if frame is not None and shows([(spot, BLUE)])(frame.to_ndarray(format="rgb24")):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the playback did not show again")
    assert [p["play_id"] for p in again.playbacks()] == ["p"]
