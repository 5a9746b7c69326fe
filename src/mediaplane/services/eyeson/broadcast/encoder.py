"""The broadcast's one encode: the room's composed pictures and full audio mix in, RTMP messages out.

libx264 (veryfast, zerolatency, a keyframe every 2 s, constrained bitrate) and FFmpeg's AAC encoder, muxed by
FFmpeg's FLV muxer into memory; its tags are cut into RTMP audio, video and data messages (an FLV tag body is
an RTMP message payload), the sequence headers and ``onMetaData`` first. Not thread-safe: one thread encodes.

    encoder = FlvEncoder(1280, 960, 15)
    messages = encoder.encode(frame)       # a VideoFrame (pts 1/90000) or an AudioFrame (pts 1/48000)
    messages += encoder.close()
"""

from __future__ import annotations

import struct
from fractions import Fraction
from typing import Final

import av
from av import AudioFrame, Packet, VideoFrame
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.stream import VideoStream

from mediaplane.kit.rtmp import Message

__all__ = ["FlvEncoder", "FlvTags", "video_bitrate"]

VIDEO_TIME_BASE: Final = Fraction(1, 90000)
SAMPLE_RATE: Final = 48000
AUDIO_BITRATE: Final = 128_000
KEYFRAME_SECONDS: Final = 2
AUDIO_RESYNC: Final = SAMPLE_RATE // 10
"""Samples (100 ms) the audio may drift from the room's clock before its timestamps jump to it."""
_FLV_HEADER: Final = 13  # the file header and the first PreviousTagSize
_TAG: Final = struct.Struct(">B3s3sB3s")


def video_bitrate(width: int, height: int, fps: int) -> int:
    """About 0.1 bit per pixel: 1280x960 at 15 fps → 1.8 Mbit/s, within 300 kbit/s and 6 Mbit/s."""
    return max(300_000, min(6_000_000, int(width * height * fps * 0.1)))


class FlvTags:
    """A write-only file for the FLV muxer that cuts what it writes into RTMP messages."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._skip = _FLV_HEADER
        self.messages: list[Message] = []

    def write(self, data: bytes) -> int:
        self._buffer += data
        self._cut()
        return len(data)

    def take(self) -> list[Message]:
        messages, self.messages = self.messages, []
        return messages

    def _cut(self) -> None:
        buffer = self._buffer
        if self._skip:
            skipped = min(self._skip, len(buffer))
            del buffer[:skipped]
            self._skip -= skipped
        offset = 0
        while offset + _TAG.size <= len(buffer):
            type_id, size_raw, ts_raw, ts_high, _stream = _TAG.unpack_from(buffer, offset)
            size = int.from_bytes(size_raw, "big")
            end = offset + _TAG.size + size + 4  # the payload, then its PreviousTagSize
            if end > len(buffer):
                break
            timestamp = int.from_bytes(ts_raw, "big") | (ts_high << 24)
            payload = bytes(buffer[offset + _TAG.size : end - 4])
            self.messages.append(Message(type_id, 1, timestamp, payload))
            offset = end
        del buffer[:offset]


class FlvEncoder:
    """See the module docs. Timestamps start at the first item given; anything older is dropped."""

    def __init__(self, width: int, height: int, fps: int, *, bitrate: int | None = None) -> None:
        self.width, self.height, self.fps = width, height, fps
        self.frames = 0
        self._tags = FlvTags()
        # Packets go out as soon as they are muxed; audio never waits long for video to interleave with.
        options = {"flush_packets": "1", "max_interleave_delta": "500000"}
        self._container: OutputContainer = av.open(self._tags, "w", format="flv", options=options)
        rate = bitrate or video_bitrate(width, height, fps)
        video = self._container.add_stream("libx264", rate=fps)
        assert isinstance(video, VideoStream)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.time_base = VIDEO_TIME_BASE
        video.codec_context.gop_size = KEYFRAME_SECONDS * fps
        video.bit_rate = rate
        video.options = {
            "preset": "veryfast",
            "tune": "zerolatency",  # no B-frames, no look-ahead: a frame in, its packet out
            "profile": "high",
            "maxrate": str(rate),
            "bufsize": str(rate),
            "keyint_min": str(KEYFRAME_SECONDS * fps),
            "sc_threshold": "0",  # keyframes on the clock only, as streaming platforms ask
        }
        audio = self._container.add_stream("aac", rate=SAMPLE_RATE)
        assert isinstance(audio, AudioStream)
        audio.layout = "stereo"
        audio.bit_rate = AUDIO_BITRATE
        self._video, self._audio = video, audio
        self._origin: float | None = None  # the room's time (s) of the first item: timestamp 0
        self._audio_next: int | None = None
        self._closed = False

    def encode(self, item: VideoFrame | AudioFrame) -> list[Message]:
        if self._closed:
            return []
        if isinstance(item, VideoFrame):
            self._encode_video(item)
        else:
            self._encode_audio(item)
        return self._tags.take()

    def close(self) -> list[Message]:
        """Flush the encoders and end the stream; the messages that were still inside."""
        if self._closed:
            return []
        self._closed = True
        try:
            if self._origin is not None:
                self._mux(self._video.encode(None))
                self._mux(self._audio.encode(None))
        finally:
            self._container.close()
        return self._tags.take()

    def _since_origin(self, seconds: float) -> float | None:
        if self._origin is None:
            self._origin = seconds
        elapsed = seconds - self._origin
        return elapsed if elapsed >= 0 else None

    def _encode_video(self, frame: VideoFrame) -> None:
        # The room hands the same frame to everyone: it is read, never changed; its packets are rebased instead.
        pts = frame.pts or 0
        if self._since_origin(pts / 90000) is None:
            return
        assert self._origin is not None
        offset = round(self._origin * 90000)
        packets = self._video.encode(frame)
        for packet in packets:
            packet.pts = None if packet.pts is None else packet.pts - offset
            packet.dts = None if packet.dts is None else packet.dts - offset
        self.frames += 1
        self._mux(packets)

    def _encode_audio(self, frame: AudioFrame) -> None:
        elapsed = self._since_origin((frame.pts or 0) / SAMPLE_RATE)
        if elapsed is None:
            return
        # AAC wants contiguous samples: count them, and follow the room's clock only when it skipped ahead.
        at = round(elapsed * SAMPLE_RATE)
        if self._audio_next is None or abs(at - self._audio_next) > AUDIO_RESYNC:
            self._audio_next = at
        frame.pts, frame.time_base = self._audio_next, Fraction(1, SAMPLE_RATE)
        self._audio_next += frame.samples
        self._mux(self._audio.encode(frame))

    def _mux(self, packets: list[Packet]) -> None:
        for packet in packets:
            self._container.mux(packet)
