"""eyeson's Forward API for the composed picture: `POST /rooms/:room_id/forward/mcu` sends the room's "one
view" — the shared encoder's VP8 packets as they are, and the full audio mix — to a WHIP endpoint (RFC 9725)
over WebRTC; `DELETE /rooms/:room_id/forward/:forward_id` stops it. A forward lives in the process that holds
the room's media, like the room itself, and ends with the meeting.

The WHIP client: one POST of the complete offer (`application/sdp`), the answer in the 201's body, the
session's URL in its `Location` (DELETEd at the end)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from urllib.parse import urljoin

import httpx
from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, Packet, VideoFrame

from mediaplane.core.runtime import Runtime
from mediaplane.kit.mcu import McuRoom, McuTap

log = logging.getLogger(__name__)
EXTRAS_KEY = "eyeson.forwards"
WHIP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
BACKLOG = 200


class ForwardError(Exception):
    """The WHIP endpoint could not be reached or refused the offer."""


class _QueueTrack(MediaStreamTrack):
    """Hands the tap's items to aiortc's sender: packets are only packetized, audio frames encoded (Opus)."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.queue: asyncio.Queue[Packet | AudioFrame | VideoFrame | None] = asyncio.Queue(BACKLOG)

    def offer(self, item: Packet | AudioFrame | None) -> None:
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
        self.queue.put_nowait(item)

    async def recv(self) -> Packet | AudioFrame | VideoFrame:
        item = await self.queue.get()
        if item is None:
            self.stop()
            raise MediaStreamError
        return item


@dataclass
class Forward:
    forward_id: str
    meeting_id: str
    url: str
    kinds: tuple[str, ...]
    pc: RTCPeerConnection | None = None
    tap: McuTap | None = None
    location: str | None = None
    tracks: dict[str, _QueueTrack] = field(default_factory=dict)
    pump: asyncio.Task[None] | None = None

    async def start(self, room: McuRoom, client: httpx.AsyncClient) -> None:
        self.pc = RTCPeerConnection()
        for kind in self.kinds:
            track = self.tracks[kind] = _QueueTrack(kind)
            transceiver = self.pc.addTransceiver(track, direction="sendonly")
            if kind == "video":  # the room's packets are VP8: nothing else may be negotiated
                codecs = RTCRtpSender.getCapabilities("video").codecs
                transceiver.setCodecPreferences([c for c in codecs if c.mimeType == "video/VP8"])
        await self.pc.setLocalDescription(await self.pc.createOffer())
        offer = self.pc.localDescription.sdp
        try:
            answer = await client.post(self.url, content=offer, headers={"Content-Type": "application/sdp"})
        except httpx.HTTPError as exc:
            raise ForwardError(f"the WHIP endpoint cannot be reached: {exc}") from None
        if answer.status_code != 201 or not answer.text.startswith("v=0"):
            raise ForwardError(f"the WHIP endpoint answered {answer.status_code}")
        location = answer.headers.get("location")
        self.location = urljoin(self.url, location) if location else None
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer.text, type="answer"))
        except ValueError as exc:
            raise ForwardError(f"the WHIP endpoint's answer is not usable: {exc}") from None
        self.tap = room.tap()
        self.pump = asyncio.create_task(self._pump(self.tap), name=f"eyeson-forward-{self.forward_id}")

    async def _pump(self, tap: McuTap) -> None:
        async for item in tap:
            kind = "audio" if isinstance(item, AudioFrame) else "video"
            track = self.tracks.get(kind)
            if track is not None and isinstance(item, Packet | AudioFrame):
                track.offer(item)
        for track in self.tracks.values():
            track.offer(None)

    async def stop(self, client: httpx.AsyncClient | None) -> None:
        if self.tap is not None:
            self.tap.close()
        if self.pump is not None:
            self.pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.pump
        if self.pc is not None:
            await self.pc.close()
        if self.location and client is not None:
            with contextlib.suppress(httpx.HTTPError):
                await client.delete(self.location)


class Forwards:
    """The forwards running in this process, by meeting and forward id."""

    def __init__(self) -> None:
        self.running: dict[tuple[str, str], Forward] = {}
        self._client = httpx.AsyncClient(timeout=WHIP_TIMEOUT, follow_redirects=False)

    def has(self, meeting_id: str, forward_id: str) -> bool:
        forward = self.running.get((meeting_id, forward_id))
        return forward is not None and forward.pump is not None and not forward.pump.done()

    async def start(self, room: McuRoom, meeting_id: str, forward_id: str, url: str, kinds: tuple[str, ...]) -> None:
        old = self.running.pop((meeting_id, forward_id), None)
        if old is not None:
            await old.stop(self._client)
        forward = Forward(forward_id, meeting_id, url, kinds)
        try:
            await forward.start(room, self._client)
        except BaseException:
            await forward.stop(None)
            raise
        self.running[(meeting_id, forward_id)] = forward

    async def stop(self, meeting_id: str, forward_id: str) -> bool:
        forward = self.running.pop((meeting_id, forward_id), None)
        if forward is None:
            return False
        await forward.stop(self._client)
        return True

    async def stop_meeting(self, meeting_id: str) -> None:
        for key in [k for k in self.running if k[0] == meeting_id]:
            await self.stop(*key)

    async def close(self) -> None:
        for key in list(self.running):
            await self.stop(*key)
        await self._client.aclose()


def forwards(runtime: Runtime) -> Forwards:
    made = runtime.extras.get(EXTRAS_KEY)
    if not isinstance(made, Forwards):
        made = runtime.extras[EXTRAS_KEY] = Forwards()
    return made
