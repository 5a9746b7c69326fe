"""The Forward API for the room's picture: a real WHIP endpoint (whip.py: aiortc behind Starlette on 127.0.0.1) gets
the composed picture — the participants' colours in their tiles — and the room's audio, until DELETE."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mediaplane.kit.mcu import tile_rects
from tests.fixtures.webrtc import GREEN, RED, Peer, Picture, centre, colour_at, near
from tests.services.eyeson.conftest import Eyeson, connect, error_of, online
from tests.services.eyeson.whip import WhipEndpoint, whip_endpoint

pytestmark = [pytest.mark.timeout(90), pytest.mark.usefixtures("loopback_ice")]


@pytest.fixture
def database_url(sqlite_database_url: str) -> str:
    """SQLite only: what is tested here is media."""
    return sqlite_database_url


W, H = 320, 240


@pytest.fixture
def whip() -> Iterator[WhipEndpoint]:
    with whip_endpoint() as endpoint:
        yield endpoint


async def test_the_rooms_picture_goes_to_a_whip_endpoint(eyeson: Eyeson, peers: list[Peer], whip: WhipEndpoint) -> None:
    ann = await eyeson.room("Ann", id="fwd", **{"user[id]": "ann"})
    bob = await eyeson.room("Bob", id="fwd", **{"user[id]": "bob"})
    peers.append(await connect(eyeson, Peer(RED, 440.0), ann["access_key"]))
    peers.append(await connect(eyeson, Peer(GREEN, 660.0), bob["access_key"]))
    await online(eyeson, "fwd", {"ann", "bob"})

    data = {"forward_id": "one-view", "type": "audio,video", "url": whip.url}
    r = await eyeson.request("POST", "/rooms/fwd/forward/mcu", key=eyeson.key, data=data)
    assert r.status_code == 201, r.text
    left, right = tile_rects(2, W, H)

    def two_tiles(picture: Picture) -> bool:
        return near(colour_at(picture, *centre(left)), RED) and near(colour_at(picture, *centre(right)), GREEN)

    await whip.wait_picture("s1", two_tiles)
    assert sorted(whip.session("s1").kinds) == ["audio", "video"]
    await whip.wait_heard("s1", 0.2)

    r = await eyeson.request("POST", "/rooms/fwd/forward/mcu", key=eyeson.key, data=data)
    assert error_of(r)[0] == 409
    r = await eyeson.request("DELETE", "/rooms/fwd/forward/one-view", key=eyeson.key)
    assert r.status_code == 200
    assert whip.deleted == ["s1"]
    assert error_of(await eyeson.request("DELETE", "/rooms/fwd/forward/one-view", key=eyeson.key))[0] == 404

    # A forward ends with its meeting.
    r = await eyeson.request("POST", "/rooms/fwd/forward/mcu", key=eyeson.key, data={**data, "type": "video"})
    assert r.status_code == 201, r.text
    assert (await eyeson.request("DELETE", "/rooms/fwd", key=eyeson.key)).status_code == 204
    await whip.wait_deleted({"s1", "s2"})
    assert whip.deleted == ["s1", "s2"]


async def test_forward_rules(eyeson: Eyeson, whip: WhipEndpoint) -> None:
    await eyeson.room("Ann", id="rules")
    post = "/rooms/rules/forward/mcu"
    assert error_of(await eyeson.request("POST", post, data={"forward_id": "x", "url": whip.url}))[0] == 401
    for data in (
        {"url": whip.url},
        {"forward_id": "x"},
        {"forward_id": "x", "url": "rtmp://x/y"},
        {"forward_id": "x", "url": whip.url, "type": "smell"},
    ):
        assert error_of(await eyeson.request("POST", post, key=eyeson.key, data=data))[0] == 400
    gone = {"forward_id": "x", "url": whip.url.replace("/whip", "/nowhere")}
    assert error_of(await eyeson.request("POST", post, key=eyeson.key, data=gone))[0] == 400
    nobody = {"forward_id": "x", "url": whip.url}
    assert error_of(await eyeson.request("POST", "/rooms/none/forward/mcu", key=eyeson.key, data=nobody))[0] == 404
