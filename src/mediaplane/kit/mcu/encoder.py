"""The room's one VP8 encoder, and when it makes keyframes."""

from __future__ import annotations

import os
from fractions import Fraction

import av
from aiortc.codecs.vpx import number_of_threads
from av import Packet, VideoFrame
from av.video.codeccontext import VideoCodecContext

from mediaplane.kit.mcu.picture import VIDEO_TIME_BASE

__all__ = ["KeyframeClock", "VideoEncoder"]


class VideoEncoder:
    """libvpx VP8 in realtime mode, as aiortc configures it per sender, but faster and once for everyone."""

    def __init__(self, width: int, height: int, fps: int, bitrate: int) -> None:
        codec = av.CodecContext.create("libvpx", "w")
        assert isinstance(codec, VideoCodecContext)
        codec.width, codec.height = width, height
        codec.pix_fmt = "yuv420p"
        codec.time_base = VIDEO_TIME_BASE
        codec.framerate = Fraction(fps, 1)
        codec.bit_rate = bitrate
        codec.gop_size = 100_000  # keyframes come when asked for (KeyframeClock), not on a count
        codec.qmin, codec.qmax = 2, 56
        codec.options = {
            "deadline": "realtime",
            # Negative: a fixed speed. Positive values let libvpx adapt it and were about 1.5x slower per frame
            # here; -12 took 13 ms for a busy 1280x960 frame (aiortc's -6: 15 ms).
            "cpu-used": "-12",
            "lag-in-frames": "0",  # no look-ahead: a frame in, its packet out
            "minrate": str(bitrate),  # min = max = bit_rate: CBR, what WebRTC receivers expect
            "maxrate": str(bitrate),
            "bufsize": str(bitrate),
            "undershoot-pct": "100",
            "overshoot-pct": "15",
            "static-thresh": "1",
            "partitions": "0",
        }
        # aiortc's choice: one thread below 3 cores. Two libvpx threads on a busy 2-core machine were 5-20x
        # slower per frame than one (measured at 1280x960), as its threads wait on each other.
        codec.thread_count = number_of_threads(width * height, os.cpu_count() or 1)
        self._codec: VideoCodecContext | None = codec
        self.frames = 0
        self.keyframes = 0

    def encode(self, frame: VideoFrame, keyframe: bool) -> list[Packet]:
        """Packets for one frame, with the frame's pts in 1/90000 (what aiortc's `pack()` reads)."""
        if self._codec is None:
            return []
        if keyframe:
            frame.pict_type = av.video.frame.PictureType.I
        packets = self._codec.encode(frame)
        # The same frame may go on to per-receiver senders (a tap with shared_encoder=False): not as a keyframe.
        frame.pict_type = av.video.frame.PictureType.NONE
        self.frames += 1
        for packet in packets:
            packet.time_base = VIDEO_TIME_BASE
            if packet.pts is None:
                packet.pts = frame.pts
            self.keyframes += packet.is_keyframe
        return packets

    def close(self) -> None:
        self._codec = None


class KeyframeClock:
    """When the shared encoder makes a keyframe: every `interval` s; on the next frame for a receiver (or tap)
    that starts; and for picture loss (PLI/FIR, a receiver that fell behind) at most every `min_gap` s.

    A loss request inside the gap is kept and served when the gap ends, so no receiver is left waiting. Starts
    are not rate-limited: each needs a new connection, and the first frame should not wait half a second."""

    def __init__(self, min_gap: float, interval: float) -> None:
        self.min_gap, self.interval = min_gap, interval
        self._pending = False
        self._now = False
        self._last: float | None = None

    def request(self, start: bool = False) -> None:
        if start:
            self._now = True
        else:
            self._pending = True

    def due(self, now: float) -> bool:
        """Whether the frame at `now` must be a keyframe (and, if so, counts it as made)."""
        since = None if self._last is None else now - self._last
        if since is None or since >= self.interval or self._now or (self._pending and since >= self.min_gap):
            self._last = now
            self._pending = self._now = False
            return True
        return False
