"""The room's output for one recorder or broadcaster: the composite's encoded packets and the full audio mix."""

from __future__ import annotations

from collections.abc import Callable

from av import Packet, VideoFrame

from mediaplane.kit.mcu.audio import Samples, audio_frame
from mediaplane.kit.mcu.reader import Reader

__all__ = ["McuTap"]

TAP_BACKLOG = 500
"""Items (video packets and 20 ms audio frames, about 5 s) a slow reader may fall behind before items are dropped."""


class McuTap(Reader):
    """An async iterator of ``av.Packet`` (VP8, starting on a keyframe) and ``av.AudioFrame`` (s16 stereo 48 kHz)
    in the order the room made them; it ends when closed or when the room closes. Both pts count from the
    room's start (1/90000 for video, 1/48000 for audio), so a muxer can keep them in sync. A tap of
    ``pictures`` gives the composed ``av.VideoFrame`` (yuv420p) instead of packets, for an encoder of another
    codec (a broadcast in H.264).

        async with room.tap() as tap:
            async for item in tap:
                ...
    """

    def __init__(
        self, want_keyframe: Callable[[bool], None], on_close: Callable[[McuTap], None], *, pictures: bool = False
    ) -> None:
        super().__init__(on_close)
        self._want_keyframe = want_keyframe
        self._waiting_keyframe = not pictures
        self.pictures = pictures
        if not pictures:
            want_keyframe(True)

    def want_keyframe(self) -> None:
        """A reader's picture loss (a forward's receiver asks for one): the shared encoder makes a keyframe soon
        (rate-limited like any receiver's request)."""
        if not self.pictures:
            self._want_keyframe(False)

    def offer_picture(self, frame: VideoFrame) -> None:
        if self._queue.qsize() >= TAP_BACKLOG:
            self.dropped += 1
        else:
            self._queue.put_nowait(frame)

    def offer_packet(self, packet: Packet) -> None:
        if self._waiting_keyframe:
            if not packet.is_keyframe:
                return
            self._waiting_keyframe = False
        if self._queue.qsize() >= TAP_BACKLOG:
            self.dropped += 1
            self._waiting_keyframe = True  # what follows a dropped packet cannot be decoded
            self._want_keyframe(False)
            return
        self._queue.put_nowait(packet)

    def offer_audio(self, samples: Samples, pts: int) -> None:
        if self._queue.qsize() >= TAP_BACKLOG:
            self.dropped += 1
        else:
            self._queue.put_nowait(audio_frame(samples, pts))
