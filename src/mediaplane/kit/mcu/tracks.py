"""What the room sends: per receiver, a video track of the composite and an audio track of its mix-minus.

The room offers each track its item every tick; the track keeps it until the receiver's RTCRtpSender asks.
Nothing is queued before the sender first asks (its DTLS may take a while), so no receiver starts behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, Packet, VideoFrame

from mediaplane.kit.mcu.audio import Samples, audio_frame

__all__ = ["CompositeTrack", "MixTrack"]

VIDEO_BACKLOG = 30
"""Packets (or 2 frames) a slow sender may fall behind before its backlog is dropped for a fresh keyframe."""
AUDIO_BACKLOG = 5


class _OfferedTrack(MediaStreamTrack):
    def __init__(self, backlog: int) -> None:
        super().__init__()
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize=backlog)
        self.started = False

    def _put_dropping_oldest(self, item: object) -> None:
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(item)

    async def _next(self) -> object:
        if self.readyState != "live":
            raise MediaStreamError
        self.started = True
        return await self._queue.get()


class CompositeTrack(_OfferedTrack):
    """The composite for one receiver: the shared encoder's packets from a keyframe on, or whole frames.

    `want_keyframe(start)` runs when the sender first asks (start) and when it fell behind; `on_first` when the
    first picture goes out."""

    kind = "video"

    def __init__(self, encoded: bool, want_keyframe: Callable[[bool], None], on_first: Callable[[], None]) -> None:
        super().__init__(VIDEO_BACKLOG if encoded else 2)
        self.encoded = encoded
        self._want_keyframe, self._on_first = want_keyframe, on_first
        self._waiting_keyframe = True
        self.sent = 0

    def offer(self, item: Packet | VideoFrame) -> None:
        if not self.started:
            return
        if not isinstance(item, Packet):
            self._put_dropping_oldest(item)
            return
        if self._waiting_keyframe:
            if not item.is_keyframe:
                return
            self._waiting_keyframe = False
        if self._queue.full():  # the sender fell behind: restart it on a keyframe rather than send stale video
            while not self._queue.empty():
                self._queue.get_nowait()
            self._waiting_keyframe = True
            self._want_keyframe(False)
            return
        self._queue.put_nowait(item)

    @property
    def started_encoded(self) -> bool:
        """Whether a sender reads the shared encoder's packets (the room encodes only while one does)."""
        return self.encoded and self.started

    async def recv(self) -> Packet | VideoFrame:
        if not self.started:
            self._want_keyframe(True)
        item = await self._next()
        assert isinstance(item, Packet | VideoFrame)
        if self.sent == 0:
            self._on_first()
        self.sent += 1
        return item


class MixTrack(_OfferedTrack):
    """One receiver's audio: everyone else's voices, 20 ms at a time."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__(AUDIO_BACKLOG)
        self._pts = 0

    def offer(self, samples: Samples) -> None:
        if self.started:
            self._put_dropping_oldest(audio_frame(samples, self._pts))
            self._pts += len(samples)

    async def recv(self) -> AudioFrame:
        item = await self._next()
        assert isinstance(item, AudioFrame)
        return item
