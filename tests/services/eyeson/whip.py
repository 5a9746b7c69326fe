"""A real WHIP endpoint for the Forward API tests: aiortc behind Starlette on 127.0.0.1, in a thread. Each POSTed
offer is a session (`s1`, `s2` … in order) that keeps the last picture it decoded and the audio it heard."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, VideoFrame
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from mediaplane.kit.mcu.forward import tap_receiver
from tests.fixtures.servers import serve_in_thread
from tests.fixtures.webrtc import Picture

Check = Callable[[Picture], bool]


@dataclass
class WhipSession:
    name: str
    pc: RTCPeerConnection
    loop: asyncio.AbstractEventLoop  # the server's: its peer connection lives there
    kinds: list[str] = field(default_factory=list)
    latest: VideoFrame | None = None
    frames: int = 0
    keyframes: int = 0
    audio: list[npt.NDArray[np.int16]] = field(default_factory=list)
    deleted: bool = False


@dataclass
class WhipEndpoint:
    url: str
    sessions: dict[str, WhipSession] = field(default_factory=dict)  # every one made, DELETEd or not
    deleted: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def session(self, name: str) -> WhipSession:
        with self.lock:
            return self.sessions[name]

    async def wait_picture(self, name: str, check: Check, within: float = 20) -> Picture:
        """The first picture of session `name` that passes `check`."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            with self.lock:
                session = self.sessions.get(name)
                frame = session.latest if session is not None else None
            if frame is not None:
                picture: Picture = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
                if check(picture):
                    return picture
            await asyncio.sleep(0.1)
        raise AssertionError(f"session {name} never got the expected picture")

    async def wait_heard(self, name: str, seconds: float, within: float = 20) -> npt.NDArray[np.int16]:
        """The last `seconds` of session `name`'s audio, once it has heard that much (mono, 48 kHz)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            with self.lock:
                session = self.sessions.get(name)
                chunks = list(session.audio) if session is not None else []
            samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
            if len(samples) >= seconds * 48000:
                return samples[-int(seconds * 48000) :]
            await asyncio.sleep(0.1)
        raise AssertionError(f"session {name} heard less than {seconds} s")

    async def picture_lost(self, name: str) -> None:
        """Session `name` sends a PLI for its video, as a player that lost the picture does."""
        session = self.session(name)

        async def send() -> None:
            (receiver,) = [r for r in session.pc.getReceivers() if r.track.kind == "video"]
            ssrc = receiver.getSynchronizationSources()[0].source
            await receiver._send_rtcp_pli(ssrc)

        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(send(), session.loop))

    async def wait_deleted(self, names: set[str], within: float = 20) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if names <= set(self.deleted):
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"DELETEd: {self.deleted}, expected {sorted(names)}")


def make_app(box: dict[str, WhipEndpoint]) -> Starlette:
    async def read(session: WhipSession, track: MediaStreamTrack) -> None:
        endpoint = box["endpoint"]
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            with endpoint.lock:
                if isinstance(frame, VideoFrame):
                    session.latest, session.frames = frame, session.frames + 1
                elif isinstance(frame, AudioFrame):
                    session.audio.append(frame.to_ndarray().reshape(-1)[:: len(frame.layout.channels)])

    def count(session: WhipSession, keyframe: bool) -> None:
        with box["endpoint"].lock:
            session.keyframes += keyframe

    async def publish(request: Request) -> Response:
        endpoint = box["endpoint"]
        if request.headers.get("content-type") != "application/sdp":
            return PlainTextResponse("offer as application/sdp", status_code=415)
        with endpoint.lock:
            session = WhipSession(f"s{len(endpoint.sessions) + 1}", RTCPeerConnection(), asyncio.get_running_loop())
            endpoint.sessions[session.name] = session

        @session.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            session.kinds.append(track.kind)
            if track.kind == "video":  # the keyframes as they arrive (aiortc's decoder does not mark them)
                (receiver,) = [t.receiver for t in session.pc.getTransceivers() if t.receiver.track is track]
                assert tap_receiver(receiver, lambda data, pts, keyframe: count(session, keyframe)) is not None
            readers.add(asyncio.ensure_future(read(session, track)))

        await session.pc.setRemoteDescription(RTCSessionDescription(sdp=(await request.body()).decode(), type="offer"))
        await session.pc.setLocalDescription(await session.pc.createAnswer())
        headers = {"Location": f"/whip/{session.name}"}
        return Response(session.pc.localDescription.sdp, status_code=201, media_type="application/sdp", headers=headers)

    async def end(request: Request) -> Response:
        endpoint = box["endpoint"]
        name = request.path_params["session"]
        with endpoint.lock:
            endpoint.deleted.append(name)
            session = endpoint.sessions.get(name)
        if session is not None and not session.deleted:
            session.deleted = True
            await session.pc.close()
        return Response(status_code=200)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        for session in list(box["endpoint"].sessions.values()):  # what nobody DELETEd, in the server's loop
            await session.pc.close()
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    readers: set[asyncio.Task[None]] = set()
    routes = [
        Route("/health", health),
        Route("/whip", publish, methods=["POST"]),
        Route("/whip/{session}", end, methods=["DELETE"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


@contextlib.contextmanager
def whip_endpoint() -> Iterator[WhipEndpoint]:
    """The endpoint, serving until the block ends (a test module's `whip` fixture)."""
    box: dict[str, WhipEndpoint] = {}
    with serve_in_thread(make_app(box)) as url:
        box["endpoint"] = WhipEndpoint(f"{url}/whip")
        yield box["endpoint"]
