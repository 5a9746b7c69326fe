"""Two API processes of one deployment, as a load balancer spreads a meeting's requests: in-process apps, each
served on its own thread and event loop, on one PostgreSQL database, one Redis (events between them) and one
storage folder (as S3 would be shared). Two aiortc participants join through A, which then holds the room;
everything else goes through B, which must reach A's room rather than start one of its own: mute, a recording
(stopped, then ready and downloadable), a snapshot of the room's picture, a playback (a bad URL is B's 400 in
eyeson's format, a good one shows), a broadcast to an RTMP server (live), forwards (an unreachable WHIP
endpoint is B's 400, an unknown forward B's 404, a participant's own video reaches a WHIP endpoint from A).

Redis: the processes' keys live in a database of this module's own (13) and nothing is flushed; every channel
they act on is named by a random id (the meeting's, a request's), the shared eyeson.media channel included
(its commands name their meeting), so parallel test workers on the same Redis do not cross."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import redis
from aiortc import RTCSessionDescription
from PIL import Image

from mediaplane.app import MediaplaneApp, create_app
from mediaplane.core.catalog import Registry
from mediaplane.core.runtime import Runtime, open_runtime
from mediaplane.kit.mcu import tile_rects
from mediaplane.services.eyeson import spec as eyeson_spec
from mediaplane.services.eyeson.media import media_rooms
from mediaplane.services.eyeson.requests import NoRoom, media_request
from tests.conftest import make_settings
from tests.fixtures.databases import PostgresTemplate
from tests.fixtures.factories import admin_pat
from tests.fixtures.media import make_colour_clip
from tests.fixtures.required import require_or_skip
from tests.fixtures.servers import free_port, serve_folder, serve_in_thread
from tests.fixtures.webrtc import BLUE, RED, Peer, centre, colour_at, forwarded, near, shows, tone_level
from tests.services.eyeson.conftest import error_of
from tests.services.eyeson.test_broadcasts import Receiver
from tests.services.eyeson.whip import whip_endpoint

pytestmark = [pytest.mark.timeout(150), pytest.mark.usefixtures("loopback_ice")]

REDIS_URL = "redis://127.0.0.1:6379/13"
API_KEY = "c2NhbGUtb3V0LWV5ZXNvbi1rZXktZm9yLXRlc3RzMA"
W, H = 320, 240
TONE = 1500.0


@dataclass
class Process:
    api: httpx.AsyncClient  # eyeson's API on this process (the instance URL)
    app: MediaplaneApp

    @property
    def runtime(self) -> Runtime:
        return self.app.runtime

    async def call(self, method: str, path: str, status: int = 200, *, key: bool = False, **kwargs: Any) -> Any:
        headers = {"Authorization": API_KEY} if key else {}
        r = await self.api.request(method, path, headers=headers, **kwargs)
        assert r.status_code == status, r.text
        return r.json() if r.content else None


@dataclass
class Deployment:
    a: str  # the instance URL on each process
    b: str
    apps: tuple[MediaplaneApp, MediaplaneApp]


@pytest.fixture
def deployment(postgres_template: PostgresTemplate, tmp_path: Path) -> Iterator[Deployment]:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        require_or_skip("Redis at 127.0.0.1:6379", exc)
    database = postgres_template.fresh(tmp_path)
    values: dict[str, Any] = {
        "redis_url": REDIS_URL,
        "eyeson_width": W,
        "eyeson_height": H,
        "eyeson_fps": 10,
        "eyeson_ice_host": "127.0.0.1",
    }
    ports = free_port(), free_port()
    settings = [make_settings(tmp_path / "data", database, port=port, **values) for port in ports]
    pat = admin_pat(settings[0], Registry([eyeson_spec]))
    apps = (
        create_app(settings[0], registry=Registry([eyeson_spec])),
        create_app(settings[1], registry=Registry([eyeson_spec])),
    )
    with serve_in_thread(apps[0], ports[0]) as a, serve_in_thread(apps[1], ports[1]) as b:
        sat = httpx.post(f"{a}/servicetoken", headers={"x-pat-jwt": f"Bearer {pat}"}, json={"serviceId": "eyeson"})
        body = {"name": "team", "apiKey": API_KEY}
        headers = {"x-jwt": f"Bearer {sat.json()['token']}"}
        created = httpx.post(f"{a}/eyesoninstance", headers=headers, json=body)
        assert created.status_code == 200, created.text
        yield Deployment(f"{a}/eyeson/admin-team/", f"{b}/eyeson/admin-team/", apps)


@pytest.fixture
async def processes(deployment: Deployment) -> AsyncIterator[tuple[Process, Process]]:
    async with (
        httpx.AsyncClient(base_url=deployment.a, timeout=60) as a,
        httpx.AsyncClient(base_url=deployment.b, timeout=60) as b,
    ):
        yield Process(a, deployment.apps[0]), Process(b, deployment.apps[1])


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("clips")
    make_colour_clip(root / "blue.mp4", BLUE, 2.0)
    with serve_folder(root) as url:
        yield url


async def until(check: Callable[[], Any], what: str, within: float = 20) -> Any:
    for _ in range(int(within / 0.1)):
        if result := await check() if asyncio.iscoroutinefunction(check) else check():
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def loudness(peer: Peer, seconds: float) -> float:
    """Ann's tone in what the peer heard last (0 before it heard that much)."""
    samples = peer.heard(seconds)
    return tone_level(samples, TONE) if len(samples) >= seconds * 48000 else 0.0


async def join(a: Process, peer: Peer, access_key: str) -> None:
    offer = {"type": "offer", "sdp": await peer.offer()}
    answer = await a.call("POST", f"rooms/{access_key}/webrtc", 201, json=offer)
    await peer.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))


async def test_a_meeting_held_by_one_process_is_driven_through_another(
    processes: tuple[Process, Process], peers: list[Peer], clips: str, tmp_path: Path
) -> None:
    a, b = processes
    ann = await a.call("POST", "rooms", 201, key=True, data={"id": "scale", "user[name]": "Ann"})
    bob = await a.call("POST", "rooms", 201, key=True, data={"id": "scale", "user[name]": "Bob"})
    ak = ann["access_key"]
    peers.extend([Peer(RED, TONE), Peer(None)])  # Bob only listens and watches
    await join(a, peers[0], ak)
    await join(a, peers[1], bob["access_key"])

    async def both_online() -> bool:
        users = await b.call("GET", "rooms/scale/users", key=True, params={"online": "true"})
        return {u["id"] for u in users} == {ann["user"]["id"], bob["user"]["id"]}

    await until(both_online, "both participants online, as B reads it")
    (meeting_id,) = media_rooms(a.runtime).rooms

    # Mute through B: Bob stops hearing Ann.
    await until(lambda: loudness(peers[1], 0.5) > 100, "Bob hearing Ann")
    await b.call("POST", f"rooms/{ak}/users/{ann['user']['id']}/mute")
    await until(lambda: loudness(peers[1], 0.3) < 5, "Ann muted in A's room", within=10)

    # A snapshot through B is A's picture: Ann's red tile.
    snapshot = await b.call("POST", f"rooms/{ak}/snapshot", 201)
    jpeg = (await b.api.get(snapshot["links"]["download"])).content
    picture = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))
    assert near(colour_at(picture, *centre(tile_rects(2, W, H)[0])), RED)

    # A recording through B runs in A; stopped through B, it is stored and ready.
    recording = await b.call("POST", f"rooms/{ak}/recording", 201)
    assert error_of(await b.api.post(f"rooms/{ak}/recording")) == (406, "a recording is running already")
    await asyncio.sleep(1.5)
    await b.call("DELETE", f"rooms/{ak}/recording")

    async def ready() -> Any:
        found = await b.call("GET", f"recordings/{recording['id']}", key=True)
        return found if found["links"]["download"] else None

    stored = await until(ready, "the recording to be ready")
    assert stored["duration"] >= 1
    assert (await b.api.get(stored["links"]["download"])).content[:4] == b"\x1a\x45\xdf\xa3"  # WebM (EBML)

    # A playback through B opens in A: a URL that does not play is B's 400; one that does shows.
    bad = await b.api.post(f"rooms/{ak}/playbacks", data={"url": f"{clips}/missing.mp4"})
    status, message = error_of(bad)
    assert status == 400 and "cannot be played" in message
    assert (await b.call("GET", f"rooms/{ak}"))["playbacks"] == []
    await b.call("POST", f"rooms/{ak}/playbacks", 201, data={"url": f"{clips}/blue.mp4", "loop_count": "-1"})
    await peers[1].wait_for(shows([(tile_rects(3, W, H)[2], BLUE)]), within=20)

    # A broadcast through B is pushed by A: live.
    receiver = Receiver()
    await receiver.start()
    try:
        started = await b.call("POST", f"rooms/{ak}/broadcasts", 201, data={"stream_url": receiver.url})
        assert started["status"] == "starting"

        async def live() -> bool:
            broadcasts = (await b.call("GET", f"rooms/{ak}"))["broadcasts"]
            return [x["status"] for x in broadcasts] == ["live"]

        await until(live, "the broadcast live")
        await until(lambda: receiver.frames() > 0, "pictures at the RTMP server")
        await b.call("DELETE", f"rooms/{ak}/broadcasts")
    finally:
        await receiver.stop()

    # Forwards through B start and stop in A: its errors are B's answers.
    unreachable = {"forward_id": "f1", "url": f"http://127.0.0.1:{free_port()}/whip"}
    status, message = error_of(await b.api.post("rooms/scale/forward/mcu", data=unreachable, headers=key_header()))
    assert status == 400 and "cannot be reached" in message
    assert error_of(await b.api.delete("rooms/scale/forward/f1", headers=key_header()))[0] == 404
    with whip_endpoint() as whip:  # Ann herself, as her browser sent her, from A
        body = {"forward_id": "ann-out", "user_id": ann["user"]["id"], "url": whip.url}
        await b.call("POST", "rooms/scale/forward/source", 201, key=True, data=body)
        await whip.wait_picture("s1", forwarded(RED))
        await b.call("DELETE", "rooms/scale/forward/ann-out", key=True)
        await whip.wait_deleted({"s1"})

    # B never started a room of its own.
    assert media_rooms(b.runtime).rooms == {} and list(media_rooms(a.runtime).rooms) == [meeting_id]


def key_header() -> dict[str, str]:
    return {"Authorization": API_KEY}


async def test_a_request_for_a_room_nobody_holds(sqlite_database_url: str, tmp_path: Path) -> None:
    """Nobody answers on Redis: NoRoom once the wait for an "accepted" is over; on the in-process bus at once."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        require_or_skip("Redis at 127.0.0.1:6379", exc)
    for redis_url in (REDIS_URL, None):
        settings = make_settings(tmp_path / "data", sqlite_database_url, redis_url=redis_url)
        runtime = await open_runtime(settings, registry=Registry([eyeson_spec]))
        try:
            with pytest.raises(NoRoom):
                await media_request(runtime, str(uuid.uuid4()), "ping")
        finally:
            await runtime.close()
