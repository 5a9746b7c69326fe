"""A participant's video as it arrives, before aiortc decodes it: the encoded VP8 frames the room forwards to
other receivers without decoding or encoding anything, and picture-loss requests (PLI) back to the sender.

aiortc's RTCRtpReceiver reassembles each frame in its jitter buffer and puts `(codec, JitterFrame)` on a
`queue.Queue` that its decoder thread reads. :func:`tap_receiver` replaces that queue, before the receiver
starts, with a :class:`FrameGate`: every complete frame is handed to the room first (on the event loop, where
aiortc puts it), and passed on to the decoder only while the room composes, so a forwarding room decodes nothing.
Written against aiortc 1.14-1.16 (`RTCRtpReceiver.__decoder_queue`, `_send_rtcp_pli`); with another aiortc
where these are missing the tap is not installed and the room always composes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
from collections.abc import Callable
from typing import Any

from aiortc import RTCRtpReceiver

__all__ = ["FrameGate", "KeyframeAsker", "is_vp8_keyframe", "tap_receiver"]

logger = logging.getLogger(__name__)

DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"
DECODER_THREAD = "_RTCRtpReceiver__decoder_thread"
RTX_SSRCS = "_RTCRtpReceiver__rtx_ssrc"

FrameCallback = Callable[[bytes, int, bool], None]
"""(the encoded frame, its pts in 1/90000 from the stream's start, whether it is a keyframe)"""


def is_vp8_keyframe(data: bytes) -> bool:
    """RFC 6386 9.1: bit 0 of the frame tag is 0 for a key frame, which has the start code 9d 01 2a."""
    return len(data) >= 10 and not data[0] & 1 and data[3:6] == b"\x9d\x01\x2a"


class FrameGate(queue.Queue[Any]):
    """The decoder's queue, with the room in front: `on_frame` sees every frame; the decoder only while
    `decoding`, and after a pause from the next keyframe on (a decoder fed a frame that refers to frames it
    never saw only makes errors)."""

    def __init__(self, on_frame: FrameCallback) -> None:
        super().__init__()
        self._on_frame = on_frame
        self.decoding = True
        self._waiting_keyframe = False
        self.frames = 0

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:  # the receiver stops: its decoder thread ends
            super().put(item, block, timeout)
            return
        codec, frame = item
        data: bytes = frame.data
        keyframe = codec.name == "VP8" and is_vp8_keyframe(data)
        self.frames += 1
        try:
            self._on_frame(data, frame.timestamp, keyframe)
        except Exception:  # the room's trouble must not break the receiver
            logger.exception("forwarding a frame failed")
        if not self.decoding or (self._waiting_keyframe and not keyframe):
            return
        self._waiting_keyframe = False
        super().put(item, block, timeout)

    def pause(self) -> None:
        self.decoding = False

    def resume(self) -> None:
        """Decodes again from the next keyframe on (ask the sender for one)."""
        if not self.decoding:
            self.decoding, self._waiting_keyframe = True, True


def tap_receiver(receiver: RTCRtpReceiver, on_frame: FrameCallback) -> FrameGate | None:
    """Puts a gate in front of a video receiver's decoder; None when this aiortc has no queue to replace or the
    receiver already started."""
    started = getattr(receiver, DECODER_THREAD, True) is not None
    if started or not isinstance(getattr(receiver, DECODER_QUEUE, None), queue.Queue):
        logger.warning("this aiortc's receiver cannot be tapped: the room will always compose")
        return None
    gate = FrameGate(on_frame)
    setattr(receiver, DECODER_QUEUE, gate)
    return gate


class KeyframeAsker:
    """Asks a participant for a keyframe (an RTCP PLI on its video receiver), at most every `min_gap` seconds;
    a request inside the gap is kept and sent when the gap ends (:meth:`tick`)."""

    def __init__(self, receiver: RTCRtpReceiver, min_gap: float) -> None:
        self._receiver, self._min_gap = receiver, min_gap
        self._last: float | None = None
        self._pending = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.sent = 0

    def ask(self, now: float) -> None:
        self._pending = True
        self.tick(now)

    def tick(self, now: float) -> None:
        if not self._pending or (self._last is not None and now - self._last < self._min_gap):
            return
        ssrc = self._media_ssrc()
        if ssrc is None:  # nothing came yet: the sender's first frame is a keyframe anyway
            return
        self._pending, self._last = False, now
        self.sent += 1
        task = asyncio.ensure_future(self._send(ssrc))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _media_ssrc(self) -> int | None:
        rtx = getattr(self._receiver, RTX_SSRCS, {})
        sources = [s for s in self._receiver.getSynchronizationSources() if s.source not in rtx]
        return max(sources, key=lambda s: s.timestamp).source if sources else None

    async def _send(self, ssrc: int) -> None:
        with contextlib.suppress(Exception):  # a closing connection: nobody to ask
            await self._receiver._send_rtcp_pli(ssrc)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
