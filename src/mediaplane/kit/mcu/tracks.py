"""What the room sends: per receiver, a video track (the composite, or another participant's video forwarded as
it came) and an audio track of its mix-minus.

The room offers each track its items as they are made; the track keeps them until the receiver's RTCRtpSender
asks. Nothing is queued before the sender first asks (its DTLS may take a while), so no receiver starts behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, Packet, VideoFrame

from mediaplane.kit.mcu.audio import Samples, audio_frame
from mediaplane.kit.mcu.picture import VIDEO_TIME_BASE

__all__ = ["COMPOSITE", "CompositeTrack", "MixTrack"]

VIDEO_BACKLOG = 30
"""Packets a slow sender may fall behind before its backlog is dropped for a fresh keyframe."""
FRAME_BACKLOG = 2
"""Whole frames (per-receiver encoding) kept for a slow sender; older ones are dropped."""
AUDIO_BACKLOG = 5
MAX_JUMP = 10 * 90000
"""A source's pts moving back, or ahead by more than this (a reconnect, a new stream): counted from here on."""
COMPOSITE = ""
"""The source of a receiver's video that is the room's composed picture; any other source is a participant id."""

KeyframeRequest = Callable[[str, bool], None]


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
    """The video of one receiver. Its source is the composite (the shared encoder's packets from a keyframe on,
    or whole frames that aiortc encodes) or a participant whose encoded frames are forwarded; `switch()` changes
    it without renegotiating: the track goes on with the old source until the new one gives a keyframe, and
    counts the pts on from the last sent (plus one frame), so the receiver sees one stream.

    `want_keyframe(source, start)` asks a source for a keyframe: when the sender first asks (start), on a switch
    (start), when the sender fell behind, and for the receiver's PLI/FIR (:meth:`picture_lost`). `own_keyframe`,
    when set, is the sender's own keyframe request (per-receiver encoding); `on_first` runs when the first
    picture goes out."""

    kind = "video"

    def __init__(
        self, encoded: bool, want_keyframe: KeyframeRequest, on_first: Callable[[], None], frame_step: int = 6000
    ) -> None:
        super().__init__(VIDEO_BACKLOG)
        self.encoded = encoded
        self._want_keyframe, self._on_first = want_keyframe, on_first
        self._step = frame_step
        self.own_keyframe: Callable[[], None] | None = None
        self.source = COMPOSITE
        self.target = COMPOSITE
        self._offset = 0
        self._last_pts: int | None = None
        self._last_raw: int | None = None
        self._waiting_keyframe = True
        self.sent = 0
        self.forwarded = 0
        self.switches = 0

    # -- the source

    def switch(self, target: str) -> None:
        """Sends `target` (COMPOSITE or a participant id) from its next keyframe on; until then the current one."""
        if target == self.target:
            return
        self.target = target
        if not self.started:
            self.source = target  # nothing went out yet: start on it
        elif target != self.source:
            self._ask(target, True)

    @property
    def reads_composite(self) -> bool:
        """Whether the sender reads the composite now or waits to switch to it (the room composes for it)."""
        return self.started and COMPOSITE in (self.source, self.target)

    @property
    def started_encoded(self) -> bool:
        """Whether the sender reads the shared encoder's packets (the room encodes only while one does)."""
        return self.encoded and self.reads_composite

    def picture_lost(self) -> None:
        """The receiver's PLI/FIR (installed as the sender's keyframe request): a keyframe from the source."""
        self._ask(self.source, False)

    def _ask(self, source: str, start: bool) -> None:
        if source == COMPOSITE and not self.encoded:
            if self.own_keyframe is not None:
                self.own_keyframe()
        else:
            self._want_keyframe(source, start)

    # -- what the room offers

    def offer(self, item: Packet | VideoFrame) -> None:
        """The composite's next packet (or frame)."""
        if isinstance(item, Packet):
            assert item.pts is not None
            self._take(COMPOSITE, item, item.pts, item.is_keyframe)
        else:
            self._take_frame(item)

    def forward(self, source: str, data: bytes, pts: int, keyframe: bool) -> None:
        """An encoded VP8 frame of participant `source` (pts in 1/90000)."""
        self._take(source, data, pts, keyframe)

    def _take(self, source: str, item: Packet | bytes, pts: int, keyframe: bool) -> None:
        if not self.started:
            return
        if source != self.source:
            if source != self.target or not keyframe:
                return
            self._begin(source, pts)
        if self._waiting_keyframe:
            if not keyframe:
                return
            self._waiting_keyframe = False
        if self._queue.full():  # the sender fell behind: restart it on a keyframe rather than send stale video
            while not self._queue.empty():
                self._queue.get_nowait()
            self._waiting_keyframe = True
            self._ask(source, False)
            return
        out = self._stamp(pts)
        if isinstance(item, bytes) or out != pts:
            packet = Packet(bytes(item))  # a copy: the composite's packets are shared by every receiver
            packet.pts, packet.time_base, packet.is_keyframe = out, VIDEO_TIME_BASE, keyframe
            item = packet
        if source != COMPOSITE:
            self.forwarded += 1
        self._queue.put_nowait(item)

    def _take_frame(self, frame: VideoFrame) -> None:
        """A composed frame for per-receiver encoding: shared, so never restamped; frames older than what went
        out are left out (after a switch back, until the composite's clock has passed the forwarded one's)."""
        if not self.started:
            return
        if self.source != COMPOSITE:
            if self.target != COMPOSITE:
                return
            self.source, self._offset, self._last_raw = COMPOSITE, 0, None
            self.switches += 1
            self._ask(COMPOSITE, True)
        assert frame.pts is not None
        if self._last_pts is not None and frame.pts <= self._last_pts:
            return
        while self._queue.qsize() >= FRAME_BACKLOG:
            self._queue.get_nowait()
        self._queue.put_nowait(frame)
        self._last_pts = frame.pts

    def _begin(self, source: str, pts: int) -> None:
        self.source = source
        self.switches += 1
        self._last_raw = None  # counted on from the last pts sent (_stamp)

    def _stamp(self, pts: int) -> int:
        """The pts this track sends for a source's `pts`: always increasing, one frame after the last on a switch."""
        last_raw = self._last_raw
        if last_raw is None or pts <= last_raw or pts - last_raw > MAX_JUMP:
            self._offset = 0 if self._last_pts is None else self._last_pts + self._step - pts
        self._last_raw = pts
        out = pts + self._offset
        if self._last_pts is not None and out <= self._last_pts:
            out = self._last_pts + 1
        self._last_pts = out
        return out

    async def recv(self) -> Packet | VideoFrame:
        if not self.started:
            self._ask(self.source, True)
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
