"""One forward: a WHIP client (RFC 9725) that sends a room's media to the endpoint over WebRTC. One POST of the
complete offer (`application/sdp`, no trickle ICE), the answer in the 201's body, the session's URL in its
`Location`, DELETEd at the end."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urljoin

import httpx
from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from av import AudioFrame

from mediaplane.services.eyeson.forward.track import Item, OutTrack

__all__ = ["Forward", "ForwardError", "Media"]


class ForwardError(Exception):
    """The WHIP endpoint could not be reached or refused the offer."""


class Media(Protocol):
    """What a forward sends, as the room gives it (kit.mcu's McuTap or McuFeed): it ends when closed."""

    def __aiter__(self) -> AsyncIterator[Item]: ...

    def close(self) -> None: ...


@dataclass
class Forward:
    """`media` is the forward's from the start: closed when it stops (or fails to start). `ask_keyframe`: how to
    ask the media's source for a keyframe, when it can be asked (a participant's own video)."""

    forward_id: str
    meeting_id: str
    url: str
    kinds: tuple[str, ...]
    media: Media
    ask_keyframe: Callable[[], None] | None = None
    pc: RTCPeerConnection | None = None
    location: str | None = None
    tracks: dict[str, OutTrack] = field(default_factory=dict)
    pump: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self.pump is not None and not self.pump.done()

    async def start(self, client: httpx.AsyncClient, on_end: Callable[[Forward], None]) -> None:
        """Negotiates with the WHIP endpoint, then sends; `on_end` when the media ends by itself (its source went)
        or the WHIP peer's connection failed or closed."""
        pc = self.pc = RTCPeerConnection()
        for kind in self.kinds:
            ask = self.ask_keyframe if kind == "video" else None
            track = self.tracks[kind] = OutTrack(kind, ask)
            transceiver = pc.addTransceiver(track, direction="sendonly")
            if kind == "video":  # packets are VP8, and pictures are cheapest to encode in VP8
                codecs = RTCRtpSender.getCapabilities("video").codecs
                transceiver.setCodecPreferences([c for c in codecs if c.mimeType == "video/VP8"])
                if ask is not None:  # the WHIP peer's PLI/FIR: a keyframe from the source, not a sender's encoder
                    transceiver.sender._send_keyframe = track.picture_lost  # type: ignore[method-assign]
        await pc.setLocalDescription(await pc.createOffer())
        try:
            answer = await client.post(
                self.url, content=pc.localDescription.sdp, headers={"Content-Type": "application/sdp"}
            )
        except httpx.HTTPError as exc:
            raise ForwardError(f"the WHIP endpoint cannot be reached: {exc}") from None
        if answer.status_code != 201 or not answer.text.startswith("v=0"):
            raise ForwardError(f"the WHIP endpoint answered {answer.status_code}")
        location = answer.headers.get("location")
        self.location = urljoin(self.url, location) if location else None
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=answer.text, type="answer"))
        except ValueError as exc:
            raise ForwardError(f"the WHIP endpoint's answer is not usable: {exc}") from None

        @pc.on("connectionstatechange")
        def changed() -> None:
            if pc.connectionState in ("failed", "closed"):
                self.media.close()  # the pump ends, and with it the forward

        self.pump = asyncio.create_task(self._pump(), name=f"eyeson-forward-{self.forward_id}")
        self.pump.add_done_callback(lambda _: on_end(self))

    async def _pump(self) -> None:
        async for item in self.media:
            track = self.tracks.get("audio" if isinstance(item, AudioFrame) else "video")
            if track is not None:
                track.offer(item)
        for track in self.tracks.values():
            track.end()

    async def stop(self, client: httpx.AsyncClient | None) -> None:
        """Stops sending and ends the WHIP session (`client` None: only here, the endpoint is not told)."""
        self.media.close()
        if self.pump is not None:
            self.pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.pump
        if self.pc is not None:
            await self.pc.close()
        if self.location and client is not None:
            with contextlib.suppress(httpx.HTTPError):
                await client.delete(self.location)
