"""What a forward hands to aiortc's RTCRtpSender, one track per kind: encoded packets the sender only packetizes
(the room's shared encode, a participant's own VP8 frames), or pictures and audio it encodes (VP8, Opus)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, Packet, VideoFrame

__all__ = ["BACKLOG", "OutTrack"]

BACKLOG = 200
"""Items a slow sender may fall behind before they are dropped (packets: all of them, for a fresh keyframe)."""

Item = Packet | VideoFrame | AudioFrame


class OutTrack(MediaStreamTrack):
    """One kind of a forward's media. Pictures and audio are kept only once the sender asks (its DTLS may take a
    while), so the WHIP peer does not start behind. Packets start on a keyframe; with `ask_keyframe` (a source
    that can be asked for one) they too wait for the sender, which then gets a fresh keyframe, and the WHIP
    peer's picture loss (PLI/FIR, see :meth:`picture_lost`) asks the source. Without it (the room's composite:
    its tap starts on a keyframe of its own) they are kept from the first."""

    def __init__(self, kind: str, ask_keyframe: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.kind = kind
        self._ask = ask_keyframe
        self._queue: asyncio.Queue[Item | None] = asyncio.Queue(BACKLOG)
        self._waiting_keyframe = True
        self.started = False

    def offer(self, item: Item) -> None:
        if not self.started and (not isinstance(item, Packet) or self._ask is not None):
            return
        if isinstance(item, Packet):
            if self._waiting_keyframe:
                if not item.is_keyframe:
                    return
                self._waiting_keyframe = False
            if self._queue.full():  # the sender fell behind: restart on a keyframe rather than send stale video
                self._drain()
                self._waiting_keyframe = True
                self.picture_lost()
                return
        elif self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(item)

    def end(self) -> None:
        """The media ended: the sender stops after what it has."""
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    def picture_lost(self) -> None:
        """The WHIP peer lost the picture (installed as the sender's keyframe request), or the sender restarts."""
        if self._ask is not None:
            self._ask()

    def _drain(self) -> None:
        with contextlib.suppress(asyncio.QueueEmpty):
            while True:
                self._queue.get_nowait()

    async def recv(self) -> Item:
        if self.readyState != "live":
            raise MediaStreamError
        if not self.started:
            self.started = True
            if self.kind == "video":
                self.picture_lost()
        item = await self._queue.get()
        if item is None:
            self.stop()
            raise MediaStreamError
        return item
