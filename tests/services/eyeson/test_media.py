"""Rooms with real media through eyeson's API: aiortc peers connect with POST /rooms/:access_key/webrtc, each
sending its own colour and tone; each receives the one composed picture (every participant in the expected
tile of the auto layout, then of a custom podium set with POST /layout) and hears the others but not itself.
Media state reaches the users listing; the last one leaving ends the meeting after the departure timeout."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest

from mediaplane.kit.clock import FrozenClock
from mediaplane.kit.mcu import Rect, tile_rects
from mediaplane.services.eyeson.background import sweep
from mediaplane.services.eyeson.media import media_rooms
from tests.fixtures.webrtc import BACKGROUND, BLUE, GREEN, RED, Peer, shows, tone_level
from tests.services.eyeson.conftest import Eyeson, connect, error_of, online

pytestmark = [pytest.mark.timeout(90), pytest.mark.usefixtures("loopback_ice")]


@pytest.fixture
def database_url(sqlite_database_url: str) -> str:
    """SQLite only: what is tested here is media."""
    return sqlite_database_url


W, H = 320, 240  # the eyeson test settings' canvas


async def three_in_a_room(eyeson: Eyeson, peers: list[Peer]) -> list[dict[str, Any]]:
    people = [("ann", RED, 440.0), ("bob", GREEN, 660.0), ("cy", BLUE, 990.0)]
    rooms = []
    for user_id, colour, tone in people:
        room = await eyeson.room(user_id.title(), id="media", **{"user[id]": user_id})
        peer = Peer(colour, tone)
        peers.append(peer)
        await connect(eyeson, peer, room["access_key"])
        await online(eyeson, "media", {p[0] for p in people[: len(peers)]})
        rooms.append(room)
    return rooms


async def test_everyone_receives_the_composed_room(eyeson: Eyeson, peers: list[Peer]) -> None:
    rooms = await three_in_a_room(eyeson, peers)
    tiles = tile_rects(3, W, H)
    auto = shows([(tiles[0], RED), (tiles[1], GREEN), (tiles[2], BLUE)])
    for peer in peers:
        await peer.wait_for(auto, within=20)

    # A custom podium: Bob first, an empty spot, Ann; Cy is not on it.
    ak = rooms[0]["access_key"]
    r = await eyeson.request("POST", f"/rooms/{ak}/layout", data={"layout": "custom", "users[]": ["bob", "", "ann"]})
    assert r.status_code == 200, r.text
    custom = shows([(tiles[0], GREEN), (tiles[1], BACKGROUND), (tiles[2], RED)])
    for peer in peers:
        await peer.wait_for(custom, within=20)

    # A pixel map: Bob top left, Ann bottom right, a quarter of the canvas each.
    spots = [[0, 0, W // 2, H // 2, "auto"], [W // 2, H // 2, W // 2, H // 2, "auto"]]
    data = {"layout": "custom", "users[]": ["bob", "ann"], "map": json.dumps(spots)}
    await eyeson.ok("POST", f"/rooms/{ak}/layout", data=data)
    quarter = [Rect(*spot[:4]) for spot in spots]
    mapped = shows([(quarter[0], GREEN), (quarter[1], RED), (Rect(W // 2, 0, W // 2, H // 2), BACKGROUND)])
    await peers[2].wait_for(mapped, within=20)
    (room,) = media_rooms(eyeson.runtime).rooms.values()
    podium = [(s["user_id"], s["left"], s["top"]) for s in room.podium()]
    assert podium == [("bob", 0, 0), ("ann", W // 2, H // 2)]

    await eyeson.ok("POST", f"/rooms/{ak}/layout", data={"layout": "auto", "name": "present-lower-3"})
    presenter = Rect(W // 6, 0, 2 * W // 3, 2 * H // 3)
    await peers[2].wait_for(shows([(presenter, RED)]), within=20)  # Ann joined first: she presents

    await eyeson.ok("POST", f"/rooms/{ak}/layout", data={"layout": "auto", "name": "", "map": ""})
    await peers[2].wait_for(auto, within=20)


async def test_each_hears_the_others_but_not_itself(eyeson: Eyeson, peers: list[Peer]) -> None:
    await three_in_a_room(eyeson, peers)
    tones = [440.0, 660.0, 990.0]
    await asyncio.sleep(3)  # a couple of seconds of mixed audio
    for i, peer in enumerate(peers):
        heard = peer.heard(1.5)
        assert len(heard) > 48000, f"peer {i} received {len(heard)} samples"
        levels = [tone_level(heard, hz) for hz in tones]
        own = levels[i]
        others = [level for j, level in enumerate(levels) if j != i]
        assert min(others) > 20 * max(own, 1e-3), (i, levels)


async def test_last_one_leaving_ends_the_meeting(eyeson: Eyeson, peers: list[Peer], clock: FrozenClock) -> None:
    ann = await eyeson.room("Ann", id="short", **{"user[id]": "ann"})
    bob = await eyeson.room("Bob", id="short", **{"user[id]": "bob"})
    for room, colour in ((ann, RED), (bob, GREEN)):
        peers.append(await connect(eyeson, Peer(colour, None), room["access_key"]))
    await online(eyeson, "short", {"ann", "bob"})

    r = await eyeson.request("DELETE", f"/rooms/{bob['access_key']}/webrtc")
    assert r.status_code == 200
    await online(eyeson, "short", {"ann"})
    await peers[0].close()  # the tab closes
    await online(eyeson, "short", set())

    clock.advance(timedelta(seconds=eyeson.runtime.settings.eyeson_departure_timeout - 1))
    assert await sweep(eyeson.runtime) == 0
    clock.advance(timedelta(seconds=2))
    assert await sweep(eyeson.runtime) == 1
    assert error_of(await eyeson.request("GET", f"/rooms/{ann['access_key']}"))[0] == 410
    token = ann["room"]["guest_token"]
    assert error_of(await eyeson.request("POST", f"/guests/{token}", data={"name": "Late"}))[0] == 410


async def test_a_kicked_user_is_disconnected_and_may_come_back(eyeson: Eyeson, peers: list[Peer]) -> None:
    ann = await eyeson.room("Ann", id="kick", **{"user[id]": "ann", "options[sfu_mode]": "disabled"})  # composed
    bob = await eyeson.room("Bob", id="kick", **{"user[id]": "bob"})
    for room, colour in ((ann, RED), (bob, GREEN)):
        peers.append(await connect(eyeson, Peer(colour, None), room["access_key"]))
    await online(eyeson, "kick", {"ann", "bob"})
    r = await eyeson.request("DELETE", f"/rooms/{ann['access_key']}/users/bob")
    assert r.status_code == 200
    await online(eyeson, "kick", {"ann"})
    await peers[0].wait_for(shows([(tile_rects(1, W, H)[0], RED)]), within=20)
    peers.append(await connect(eyeson, Peer(BLUE, None), bob["access_key"]))
    await online(eyeson, "kick", {"ann", "bob"})
    left, right = tile_rects(2, W, H)
    await peers[0].wait_for(shows([(left, RED), (right, BLUE)]), within=20)
