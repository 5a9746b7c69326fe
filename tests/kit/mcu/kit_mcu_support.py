"""Real aiortc client peers for MCU tests: each sends a solid colour and a sine tone, and keeps what it receives."""

from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, VideoFrame

from mediaplane.kit.mcu import McuConfig, McuEvent, McuRoom, Rect

RGB = tuple[int, int, int]
Picture = npt.NDArray[np.uint8]

RED: RGB = (220, 40, 40)
GREEN: RGB = (40, 200, 60)
BLUE: RGB = (40, 60, 220)
YELLOW: RGB = (230, 210, 40)
BACKGROUND: RGB = (18, 18, 18)  # McuConfig's default "#121212"


class ColourTrack(MediaStreamTrack):
    """A solid colour at `fps`; `pause()` stops the frames (as a frozen camera would), `resume()` restarts them."""

    kind = "video"

    def __init__(self, rgb: RGB, size: tuple[int, int] = (160, 120), fps: int = 10) -> None:
        super().__init__()
        w, h = size
        picture = np.empty((h, w, 3), dtype=np.uint8)
        picture[:] = rgb
        self._yuv = VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p").to_ndarray()
        self._period = 1 / fps
        self._start: float | None = None
        self._count = 0
        self._running = asyncio.Event()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    async def recv(self) -> VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        await self._running.wait()
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._count * self._period
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        frame = VideoFrame.from_ndarray(self._yuv, format="yuv420p")
        frame.pts = int((time.monotonic() - self._start) * 90000)
        frame.time_base = fractions.Fraction(1, 90000)
        self._count = max(self._count + 1, int((time.monotonic() - self._start) / self._period))
        return frame


class ToneTrack(MediaStreamTrack):
    """A sine tone, 20 ms s16 stereo frames at 48 kHz, paced in real time (as a browser sends)."""

    kind = "audio"

    def __init__(self, hz: float, amplitude: float = 0.2) -> None:
        super().__init__()
        self._hz, self._amplitude = hz, amplitude
        self._start: float | None = None
        self._sent = 0

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        await asyncio.sleep(max(0.0, self._start + self._sent / 48000 - time.monotonic()))
        t = (self._sent + np.arange(960)) / 48000
        samples = (np.sin(2 * np.pi * self._hz * t) * self._amplitude * 32767).astype(np.int16)
        frame = AudioFrame.from_ndarray(np.repeat(samples, 2).reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate, frame.pts, frame.time_base = 48000, self._sent, fractions.Fraction(1, 48000)
        self._sent += 960
        return frame


class Peer:
    """A browser stand-in: sends `colour` (None: no camera, receive only) and a tone, keeps what the room sends."""

    def __init__(self, colour: RGB | None, tone: float | None = None, codecs: list[str] | None = None) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.video = ColourTrack(colour) if colour is not None else None
        self.tone = tone
        self.codecs = codecs  # video codecs offered, in order (aiortc's default: VP8 first)
        self.latest: VideoFrame | None = None
        self.frames = 0
        self.audio: list[npt.NDArray[np.int16]] = []
        self._readers: list[asyncio.Task[None]] = []
        self.pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        self._readers.append(asyncio.ensure_future(self._read(track)))

    async def _read(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if isinstance(frame, VideoFrame):
                self.latest, self.frames = frame, self.frames + 1
            elif isinstance(frame, AudioFrame):
                self.audio.append(frame.to_ndarray().reshape(-1)[:: len(frame.layout.channels)])

    async def offer(self) -> str:
        if self.video is not None:
            video = self.pc.addTransceiver(self.video, direction="sendrecv")
        else:
            video = self.pc.addTransceiver("video", direction="recvonly")
        if self.codecs is not None:
            offered = RTCRtpSender.getCapabilities("video").codecs
            video.setCodecPreferences([c for name in self.codecs for c in offered if c.mimeType == name])
        if self.tone is not None:
            self.pc.addTrack(ToneTrack(self.tone))
        else:
            self.pc.addTransceiver("audio", direction="recvonly")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def join(self, room: McuRoom, participant_id: str, name: str) -> Peer:
        answer = await room.connect(participant_id, name, await self.offer())
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        return self

    def picture(self) -> Picture:
        assert self.latest is not None
        return np.asarray(self.latest.to_ndarray(format="rgb24"), dtype=np.uint8)

    async def wait_for(self, check: Callable[[Picture], bool], within: float = 10.0) -> Picture:
        """The first received picture that passes `check`; AssertionError with the last one's colours if none."""
        deadline = time.monotonic() + within
        seen: VideoFrame | None = None
        while time.monotonic() < deadline:
            if self.latest is not None and self.latest is not seen:
                seen = self.latest
                picture = self.picture()
                if check(picture):
                    return picture
            await asyncio.sleep(0.05)
        raise AssertionError(f"no matching picture in {within} s; last one: {describe(self)}")

    def heard(self, seconds: float) -> npt.NDArray[np.int16]:
        samples = np.concatenate(self.audio) if self.audio else np.zeros(0, dtype=np.int16)
        return samples[-int(seconds * 48000) :]

    async def close(self) -> None:
        await self.pc.close()
        for task in self._readers:
            task.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)


def colour_at(picture: Picture, x: int, y: int, radius: int = 3) -> RGB:
    patch = picture[y - radius : y + radius, x - radius : x + radius].reshape(-1, 3).mean(axis=0)
    return int(patch[0]), int(patch[1]), int(patch[2])


def near(a: RGB, b: RGB, tolerance: int = 45) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def centre(rect: Rect) -> tuple[int, int]:
    return rect.left + rect.width // 2, rect.top + rect.height // 2


def shows(expected: list[tuple[Rect, RGB]]) -> Callable[[Picture], bool]:
    """A check: the centre of each rectangle has its colour."""

    def check(picture: Picture) -> bool:
        return all(near(colour_at(picture, *centre(rect)), rgb) for rect, rgb in expected)

    return check


def describe(peer: Peer) -> str:
    if peer.latest is None:
        return "nothing received"
    picture = peer.picture()
    h, w, _ = picture.shape
    points = [(x, y) for y in (h // 4, h // 2, 3 * h // 4) for x in (w // 4, w // 2, 3 * w // 4)]
    return f"{w}x{h}, " + ", ".join(f"({x},{y})={colour_at(picture, x, y)}" for x, y in points)


def tone_level(samples: npt.NDArray[np.int16], hz: float) -> float:
    """Magnitude of `hz` in the samples (Hann window, normalised per sample)."""
    window = np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * window))
    freqs = np.fft.rfftfreq(len(samples), 1 / 48000)
    band = (freqs > hz - 15) & (freqs < hz + 15)
    return float(spectrum[band].max() / len(samples))


class Rooms:
    """Makes rooms and peers for a test and closes them all at its end; keeps the events of its rooms."""

    def __init__(self) -> None:
        self.rooms: list[McuRoom] = []
        self.peers: list[Peer] = []
        self.events: list[McuEvent] = []

    async def room(self, **options: Any) -> McuRoom:
        settings: dict[str, Any] = {"width": 320, "height": 240, "fps": 10, "stall_seconds": 0.6}
        settings.update(options)
        room = McuRoom(McuConfig(**settings), on_event=self.events.append)
        await room.start()
        self.rooms.append(room)
        return room

    def peer(self, colour: RGB | None, tone: float | None = None) -> Peer:
        peer = Peer(colour, tone)
        self.peers.append(peer)
        return peer

    def kinds(self, participant_id: str) -> list[str]:
        return [e.kind for e in self.events if e.participant_id == participant_id]

    async def close(self) -> None:
        for peer in self.peers:
            await peer.close()
        for room in self.rooms:
            await room.close()
