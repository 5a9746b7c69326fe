"""One participant of a room: its peer connection, what it sends us (decoded, and encoded as it came), and the
tracks we send it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from aiortc import RTCPeerConnection, RTCRtpReceiver
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, VideoFrame

from mediaplane.kit.mcu.audio import AudioInput
from mediaplane.kit.mcu.events import EventKind
from mediaplane.kit.mcu.forward import FrameCallback, FrameGate, KeyframeAsker, tap_receiver
from mediaplane.kit.mcu.tracks import CompositeTrack, MixTrack

__all__ = ["Participant"]

logger = logging.getLogger(__name__)


class Participant:
    """State the room reads every tick. Everything here runs on the event loop; aiortc decodes in its threads."""

    def __init__(self, participant_id: str, name: str, pc: RTCPeerConnection, notify: Callable[[EventKind], None]):
        self.id, self.name, self.pc = participant_id, name, pc
        self._notify = notify
        self.video_out: CompositeTrack | None = None
        self.audio_out: MixTrack | None = None
        self.audio_in: AudioInput | None = None
        self.latest: VideoFrame | None = None
        self.last_video_at: float | None = None
        self.last_audio_at: float | None = None
        self.connected = False
        self.stalled = False
        self.gate: FrameGate | None = None
        self.sends_video = False
        self._keyframes: KeyframeAsker | None = None
        self._readers: set[asyncio.Task[None]] = set()

    def tap_video(self, receiver: RTCRtpReceiver, on_frame: FrameCallback, keyframe_gap: float) -> None:
        """Sees the encoded frames of the video receiver before they are decoded (forward.py)."""
        self.gate = tap_receiver(receiver, on_frame)
        self._keyframes = KeyframeAsker(receiver, keyframe_gap)

    @property
    def forwardable(self) -> bool:
        """Whether its video can go to others as it comes: it sends video, tapped, and it has not stalled."""
        return self.sends_video and self.gate is not None and not self.stalled

    def ask_keyframe(self, now: float) -> None:
        if self._keyframes is not None:
            self._keyframes.ask(now)

    def set_decoding(self, decoding: bool, now: float) -> None:
        """Decodes its video (for the composer) or not (while every receiver gets it forwarded)."""
        gate = self.gate
        if gate is None or gate.decoding == decoding:
            return
        if decoding:
            gate.resume()
            self.ask_keyframe(now)
        else:
            gate.pause()
            self.latest = None  # stale once decoding resumes; the composer waits for a fresh one

    def tick(self, now: float, stall_seconds: float) -> None:
        self.check_stall(now, stall_seconds)
        if self._keyframes is not None:
            self._keyframes.tick(now)

    def saw_video(self, now: float) -> None:
        """A frame of its video arrived (encoded or decoded)."""
        self.last_video_at = now
        if self.stalled:
            self.stalled = False
            self._notify("resumed")

    def read(self, track: MediaStreamTrack) -> None:
        """Starts reading a track the participant sends (aiortc's "track" event)."""
        if track.kind == "video":
            task = asyncio.ensure_future(self._read_video(track))
        elif track.kind == "audio":
            self.audio_in = AudioInput()
            task = asyncio.ensure_future(self._read_audio(track, self.audio_in))
        else:
            return
        self._readers.add(task)
        task.add_done_callback(self._readers.discard)

    def live_frame(self, now: float, stall_seconds: float) -> VideoFrame | None:
        """The latest picture, or None when there is none or it is older than `stall_seconds`."""
        if self.last_video_at is None or now - self.last_video_at > stall_seconds:
            return None
        return self.latest

    def check_stall(self, now: float, stall_seconds: float) -> None:
        if self.last_video_at is not None and not self.stalled and now - self.last_video_at > stall_seconds:
            self.stalled = True
            self.latest = None  # never shown again, so let the decoder's buffer go
            self._notify("stalled")

    def receiving_video(self, now: float, within: float) -> bool:
        return self.last_video_at is not None and now - self.last_video_at <= within

    def receiving_audio(self, now: float, within: float) -> bool:
        return self.last_audio_at is not None and now - self.last_audio_at <= within

    async def _read_video(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if isinstance(frame, VideoFrame):
                if self.gate is None or self.gate.decoding:  # not one decoded just before a pause
                    self.latest = frame
                self.saw_video(time.monotonic())

    async def _read_audio(self, track: MediaStreamTrack, into: AudioInput) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if isinstance(frame, AudioFrame):
                into.push(frame)
                self.last_audio_at = time.monotonic()

    async def close(self) -> None:
        if self._keyframes is not None:
            await self._keyframes.close()
        for task in list(self._readers):
            task.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)
        try:
            # Shielded: cancelling an await on aiortc's close future would break its own close task.
            await asyncio.shield(self.pc.close())
        except Exception:  # a half-negotiated connection may fail to close; nothing is left to release then
            logger.warning("closing the peer connection of %s failed", self.id, exc_info=True)
        self.latest = None
