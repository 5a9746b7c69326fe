"""The Forward API for the room's picture: a real WHIP endpoint (aiortc behind Starlette on 127.0.0.1) gets
the composed picture — the participants' colours in their tiles — and the room's audio, until DELETE."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, VideoFrame
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from mediaplane.kit.mcu import tile_rects
from tests.fixtures.servers import serve_in_thread
from tests.fixtures.webrtc import GREEN, RED, Peer, centre, colour_at, near
from tests.services.eyeson.conftest import Eyeson, connect, error_of, online

pytestmark = [pytest.mark.timeout(90), pytest.mark.usefixtures("loopback_ice")]


@pytest.fixture
def database_url(sqlite_database_url: str) -> str:
    """SQLite only: what is tested here is media."""
    return sqlite_database_url


W, H = 320, 240


@dataclass
class WhipEndpoint:
    url: str
    sessions: dict[str, RTCPeerConnection] = field(default_factory=dict)
    latest: VideoFrame | None = None
    audio_frames: int = 0
    kinds: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    made: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def whip() -> Iterator[WhipEndpoint]:
    box: dict[str, WhipEndpoint] = {}

    async def read(track: MediaStreamTrack) -> None:
        endpoint = box["endpoint"]
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            with endpoint.lock:
                if isinstance(frame, VideoFrame):
                    endpoint.latest = frame
                elif isinstance(frame, AudioFrame):
                    endpoint.audio_frames += 1

    async def publish(request: Request) -> Response:
        endpoint = box["endpoint"]
        if request.headers.get("content-type") != "application/sdp":
            return PlainTextResponse("offer as application/sdp", status_code=415)
        pc = RTCPeerConnection()
        readers: list[asyncio.Task[None]] = []

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            endpoint.kinds.append(track.kind)
            readers.append(asyncio.ensure_future(read(track)))

        await pc.setRemoteDescription(RTCSessionDescription(sdp=(await request.body()).decode(), type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        endpoint.made += 1
        session = f"s{endpoint.made}"
        endpoint.sessions[session] = pc
        return Response(
            pc.localDescription.sdp,
            status_code=201,
            media_type="application/sdp",
            headers={"Location": f"/whip/{session}"},
        )

    async def end(request: Request) -> Response:
        endpoint = box["endpoint"]
        session = request.path_params["session"]
        endpoint.deleted.append(session)
        pc = endpoint.sessions.pop(session, None)
        if pc is not None:
            await pc.close()
        return Response(status_code=200)

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    routes = [
        Route("/health", health),
        Route("/whip", publish, methods=["POST"]),
        Route("/whip/{session}", end, methods=["DELETE"]),
    ]
    with serve_in_thread(Starlette(routes=routes)) as url:
        box["endpoint"] = WhipEndpoint(f"{url}/whip")
        yield box["endpoint"]


async def wait_picture(whip: WhipEndpoint, check: object, within: float = 20) -> None:
    assert callable(check)
    for _ in range(int(within / 0.1)):
        with whip.lock:
            frame = whip.latest
        if frame is not None and check(np.asarray(frame.to_ndarray(format="rgb24"))):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the WHIP endpoint never saw the expected picture")


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

    def two_tiles(picture: np.ndarray) -> bool:  # type: ignore[type-arg]
        return near(colour_at(picture, *centre(left)), RED) and near(colour_at(picture, *centre(right)), GREEN)

    await wait_picture(whip, two_tiles)
    assert sorted(whip.kinds) == ["audio", "video"]
    for _ in range(100):
        if whip.audio_frames > 10:
            break
        await asyncio.sleep(0.1)
    assert whip.audio_frames > 10

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
    for _ in range(50):
        if whip.deleted == ["s1", "s2"]:
            break
        await asyncio.sleep(0.1)
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
