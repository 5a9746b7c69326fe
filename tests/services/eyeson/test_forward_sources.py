"""The Forward API for one source, to a real WHIP endpoint (whip.py): a participant as it sends — its own
frames at its own size (not the canvas: not the composite) and its own voice (not the mix) — and a playback's
picture and sound; each forward stops when its source goes, the WHIP session DELETEd."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mediaplane.kit.mcu import McuRoom
from mediaplane.services.eyeson.media import media_rooms
from tests.fixtures.media import make_colour_clip
from tests.fixtures.servers import serve_folder
from tests.fixtures.webrtc import BLUE, GREEN, RED, Peer, forwarded, tone_level
from tests.services.eyeson.conftest import Eyeson, connect, error_of, online
from tests.services.eyeson.whip import WhipEndpoint, whip_endpoint

pytestmark = [pytest.mark.timeout(90), pytest.mark.usefixtures("loopback_ice")]
ANN_TONE, BOB_TONE, CLIP_TONE = 440.0, 660.0, 1500.0
CLIP_SECONDS = 5


@pytest.fixture
def database_url(sqlite_database_url: str) -> str:
    """SQLite only: what is tested here is media."""
    return sqlite_database_url


@pytest.fixture
def whip() -> Iterator[WhipEndpoint]:
    with whip_endpoint() as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("clips")
    make_colour_clip(root / "blue.mp4", BLUE, CLIP_SECONDS, tone=CLIP_TONE)  # 160x120, as the peers' cameras
    with serve_folder(root) as url:
        yield url


async def forward(eyeson: Eyeson, what: str, room_id: str = "src", **data: Any) -> httpx.Response:
    return await eyeson.request("POST", f"/rooms/{room_id}/forward/{what}", key=eyeson.key, json=data)


async def stop(eyeson: Eyeson, forward_id: str, room_id: str = "src") -> httpx.Response:
    return await eyeson.request("DELETE", f"/rooms/{room_id}/forward/{forward_id}", key=eyeson.key)


async def settled(room: McuRoom, within: float = 10) -> int:
    """The room's count of composed frames once it stays put for a while (it forwards instead of composing).

    forwarding() is the plan; each switch completes on its source's next keyframe, which a busy machine can
    delay, so the count must hold for ten frame times at the tests' 5 fps, not one gap."""
    deadline = time.monotonic() + within
    last, still = room.stats()["frames_composed"], 0
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        now = room.stats()["frames_composed"]
        still = still + 1 if now == last and room.forwarding() else 0
        if still >= 4:
            return now
        last = now
    raise AssertionError("the room never stopped composing")


async def until(check: Callable[[], bool], what: str, within: float = 10) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} in {within} s")
        await asyncio.sleep(0.1)


async def test_a_participant_and_a_playback_are_forwarded_until_they_go(
    eyeson: Eyeson, peers: list[Peer], whip: WhipEndpoint, clips: str
) -> None:
    ann = await eyeson.room("Ann", id="src", **{"user[id]": "ann"})
    bob = await eyeson.room("Bob", id="src", **{"user[id]": "bob"})
    peers.append(await connect(eyeson, Peer(RED, ANN_TONE), ann["access_key"]))
    peers.append(await connect(eyeson, Peer(GREEN, BOB_TONE), bob["access_key"]))
    await online(eyeson, "src", {"ann", "bob"})
    ((_, room),) = media_rooms(eyeson.runtime).rooms.items()

    # Ann as she sends, while the two get each other's video forwarded (sfu_mode ptp): nothing is decoded for it,
    # and the room goes on composing nothing.
    composed = await settled(room)
    r = await forward(eyeson, "source", forward_id="ann", user_id="ann", url=whip.url)
    assert r.status_code == 201, r.text
    await whip.wait_picture("s1", forwarded(RED))  # 160x120: her camera, not the 320x240 composite
    heard = await whip.wait_heard("s1", 1.0)
    assert tone_level(heard, ANN_TONE) > 100 and tone_level(heard, ANN_TONE) > 10 * tone_level(heard, BOB_TONE)
    assert sorted(whip.session("s1").kinds) == ["audio", "video"]
    # Her browser sends a keyframe only when asked (aiortc's encoder: every 300 s): the endpoint's PLI asks her.
    keyframes = -1
    while keyframes != whip.session("s1").keyframes:  # those asked for the start have come
        keyframes = whip.session("s1").keyframes
        await asyncio.sleep(1.0)
    await whip.picture_lost("s1")
    await until(lambda: whip.session("s1").keyframes > keyframes, "a keyframe after the endpoint's PLI")
    assert room.forwarding() == {"ann": "bob", "bob": "ann"} and room.stats()["frames_composed"] == composed

    # The same source again, video only (a list, as JSON); an id that runs is a conflict.
    r = await forward(eyeson, "source", forward_id="ann-video", user_id="ann", type=["video"], url=whip.url)
    assert r.status_code == 201, r.text
    await whip.wait_picture("s2", forwarded(RED))
    assert whip.session("s2").kinds == ["video"]
    r = await forward(eyeson, "source", forward_id="ann", user_id="bob", url=whip.url)
    assert error_of(r)[0] == 409
    assert (await stop(eyeson, "ann-video")).status_code == 200
    assert whip.deleted == ["s2"]

    # A playback: its own picture (the clip's size) and sound, until its file ends (or DELETE).
    playback = {"url": f"{clips}/blue.mp4", "play_id": "clip", "audio": "true"}
    await eyeson.ok("POST", f"/rooms/{ann['access_key']}/playbacks", 201, data=playback)
    r = await forward(eyeson, "playback", forward_id="clip", play_id="clip", type="audio,video", url=whip.url)
    assert r.status_code == 201, r.text
    await whip.wait_picture("s3", forwarded(BLUE))
    heard = await whip.wait_heard("s3", 0.5)
    assert tone_level(heard, CLIP_TONE) > 10 * tone_level(heard, ANN_TONE)
    r = await forward(eyeson, "playback", forward_id="clip-2", play_id="clip", type="video", url=whip.url)
    assert r.status_code == 201, r.text
    assert (await stop(eyeson, "clip-2")).status_code == 200
    await whip.wait_deleted({"s3"}, within=CLIP_SECONDS + 10)
    assert error_of(await stop(eyeson, "clip"))[0] == 404

    # Ann leaves: her forward ends.
    await peers[0].close()
    await whip.wait_deleted({"s1"})
    assert error_of(await stop(eyeson, "ann"))[0] == 404
    r = await forward(eyeson, "source", forward_id="again", user_id="ann", url=whip.url)
    assert error_of(r)[0] == 404
    assert sorted(whip.deleted) == ["s1", "s2", "s3", "s4"]


async def test_forward_source_and_playback_rules(eyeson: Eyeson) -> None:
    await eyeson.room("Ann", id="rules", **{"user[id]": "ann"})  # in the meeting, no media
    url = "http://127.0.0.1:9/whip"  # never reached: every request here is refused before
    for what, source in (("source", {"user_id": "ann"}), ("playback", {"play_id": "clip"})):
        path = f"/rooms/rules/forward/{what}"
        given = {"forward_id": "x", "url": url, **source}
        assert error_of(await eyeson.request("POST", path, json=given))[0] == 401
        for bad in (
            {"url": url, **source},
            {"forward_id": "x", "url": url},
            {"forward_id": "x", "url": "rtmp://x/y", **source},
            {"forward_id": "x", "url": url, "type": "smell", **source},
        ):
            assert error_of(await forward(eyeson, what, "rules", **bad))[0] == 400, bad
        assert error_of(await forward(eyeson, what, "rules", **given))[0] == 404  # not connected, not playing
        assert error_of(await forward(eyeson, what, "nowhere", **given))[0] == 404
    assert error_of(await stop(eyeson, "x", "rules"))[0] == 404
