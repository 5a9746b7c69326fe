"""Moderation through the API, with real aiortc peers: a muted participant's tone disappears from the others'
audio (also after they reconnect) and comes back when unmuted; a banned user cannot connect or enter again until
the ban is lifted; unlocking a locked meeting lets guests in again."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiortc import RTCSessionDescription

from mediaplane.services.eyeson.events import room_channel
from mediaplane.services.eyeson.media import media_rooms
from tests.fixtures.webrtc import GREEN, RED, Peer, tone_level
from tests.services.eyeson.conftest import Eyeson, connect, error_of, online

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("loopback_ice")]


@pytest.fixture
def database_url(sqlite_database_url: str) -> str:
    """SQLite only: what is tested here is media."""
    return sqlite_database_url


async def levels(listener: Peer, *tones: float) -> list[float]:
    await asyncio.sleep(0.8)
    heard = listener.heard(0.5)
    assert len(heard) == 24000
    return [tone_level(heard, hz) for hz in tones]


async def join(eyeson: Eyeson, peers: list[Peer], room_id: str, user: str, peer: Peer, **fields: str) -> str:
    room = await eyeson.room(user.title(), id=room_id, **{"user[id]": user}, **fields)
    peers.append(await connect(eyeson, peer, room["access_key"]))
    return str(room["access_key"])


class TestMute:
    async def test_a_muted_peer_is_not_heard(self, eyeson: Eyeson, peers: list[Peer]) -> None:
        ann_key = await join(eyeson, peers, "mute", "ann", Peer(None, 440.0))
        await join(eyeson, peers, "mute", "bob", Peer(None, 660.0))
        cy_key = await join(eyeson, peers, "mute", "cy", Peer(None, None))
        await online(eyeson, "mute", {"ann", "bob", "cy"})
        _ann, bob, cy = peers
        for _ in range(30):
            if min(await levels(cy, 440, 660)) > 100:
                break
        ((meeting_id, room),) = media_rooms(eyeson.runtime).rooms.items()

        async with eyeson.runtime.events.subscribe(room_channel(meeting_id)) as observed:
            await eyeson.ok("POST", f"/rooms/{cy_key}/users/ann/mute")
            update = await asyncio.wait_for(anext(aiter(observed)), 5)
        assert update["type"] == "participant_update"
        assert update["participant"]["id"] == "ann" and update["participant"]["muted"] is True
        ann_level, bob_level = await levels(cy, 440, 660)
        assert bob_level > 100 and ann_level < bob_level / 50
        assert (await levels(bob, 440))[0] < 5

        # Ann reloads the page: still muted.
        await peers[0].close()
        peers[0] = Peer(None, 440.0)
        offer = {"type": "offer", "sdp": await peers[0].offer()}
        answer = await eyeson.ok("POST", f"/rooms/{ann_key}/webrtc", 201, json=offer)
        await peers[0].pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        await asyncio.sleep(1.0)
        assert room.muted == {"ann"}
        ann_level, bob_level = await levels(cy, 440, 660)
        assert bob_level > 100 and ann_level < bob_level / 50

        await eyeson.ok("DELETE", f"/rooms/{cy_key}/users/ann/mute")
        for _ in range(20):
            ann_level, bob_level = await levels(cy, 440, 660)
            if ann_level > 100:
                break
        assert ann_level > 100 and bob_level > 100
        assert error_of(await eyeson.request("POST", f"/rooms/{cy_key}/users/nobody/mute"))[0] == 404


class TestKickAndBan:
    async def test_a_banned_user_cannot_come_back(self, eyeson: Eyeson, peers: list[Peer]) -> None:
        ann_key = await join(eyeson, peers, "ban", "ann", Peer(RED, None))
        bob_key = await join(eyeson, peers, "ban", "bob", Peer(GREEN, None))
        await online(eyeson, "ban", {"ann", "bob"})
        ((meeting_id, _room),) = media_rooms(eyeson.runtime).rooms.items()

        async with eyeson.runtime.events.subscribe(room_channel(meeting_id)) as observed:
            await eyeson.ok("DELETE", f"/rooms/{ann_key}/users/bob?ban=true")
            told = [await asyncio.wait_for(anext(aiter(observed)), 5) for _ in range(2)]
        banned = [m for m in told if m["type"] == "participant_update"]
        assert banned[0]["participant"]["banned"] is True
        await online(eyeson, "ban", {"ann"})

        offer = {"type": "offer", "sdp": await Peer(GREEN, None).offer()}
        status, error = error_of(await eyeson.request("POST", f"/rooms/{bob_key}/webrtc", json=offer))
        assert status == 403 and "banned" in error
        r = await eyeson.request(
            "POST", "/rooms", key=eyeson.key, data={"user[name]": "Bob", "user[id]": "bob", "id": "ban"}
        )
        assert error_of(r)[0] == 403
        token = (await eyeson.ok("GET", f"/rooms/{ann_key}"))["room"]["guest_token"]
        assert error_of(await eyeson.request("POST", f"/guests/{token}", data={"name": "Bob", "id": "bob"}))[0] == 403
        assert (await eyeson.request("POST", f"/guests/{token}", data={"name": "Someone"})).status_code == 201

        await eyeson.ok("DELETE", f"/rooms/{ann_key}/users/bob/ban")
        peers.append(await connect(eyeson, Peer(GREEN, None), bob_key))
        await online(eyeson, "ban", {"ann", "bob"})

    async def test_kick_follows_the_room_option(self, eyeson: Eyeson) -> None:
        room = await eyeson.room("Ann", id="nokick", **{"user[id]": "ann", "options[kick_available]": "false"})
        ak = room["access_key"]
        for method, path in (("DELETE", "/users/ann?ban=true"), ("DELETE", "/users/ann/ban")):
            assert error_of(await eyeson.request(method, f"/rooms/{ak}{path}"))[0] == 403
        other = await eyeson.room("Ann", id="kick", **{"user[id]": "ann"})
        r = await eyeson.request("DELETE", f"/rooms/{other['access_key']}/users/ann?ban=perhaps")
        assert error_of(r)[0] == 400
        r = await eyeson.request("DELETE", f"/rooms/{other['access_key']}/users/nobody?ban=true")
        assert error_of(r)[0] == 404


class TestUnlock:
    async def test_unlock_lets_guests_in_again(self, eyeson: Eyeson) -> None:
        room = await eyeson.room("Ann", id="locked", **{"options[lock_available]": "true"})
        ak, token = room["access_key"], room["room"]["guest_token"]
        assert (await eyeson.request("POST", f"/rooms/{ak}/lock")).status_code == 201
        assert error_of(await eyeson.request("POST", f"/guests/{token}", data={"name": "Guest"}))[0] == 423
        assert (await eyeson.ok("GET", f"/rooms/{ak}"))["locked"] is True

        ((meeting_id, _room),) = media_rooms(eyeson.runtime).rooms.items()
        async with eyeson.runtime.events.subscribe(room_channel(meeting_id)) as observed:
            await eyeson.ok("DELETE", f"/rooms/{ak}/lock")
            update: dict[str, Any] = await asyncio.wait_for(anext(aiter(observed)), 5)
        assert update["type"] == "room_update"
        assert (await eyeson.ok("GET", f"/rooms/{ak}"))["locked"] is False
        assert (await eyeson.request("POST", f"/guests/{token}", data={"name": "Guest"})).status_code == 201

        plain = await eyeson.room("Bob", id="open")
        assert error_of(await eyeson.request("DELETE", f"/rooms/{plain['access_key']}/lock"))[0] == 403
