"""One WebM file from a room's tap, written in a thread of its own: the shared encoder's VP8 packets muxed as they
are (no second encode) and the full audio mix encoded to Opus once.

The tap's timestamps count from the room's start (video 1/90000, audio 1/48000); the file starts at the first
video keyframe, both tracks moved back by the same amount so that they stay in sync."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av import AudioFrame
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.stream import Stream

log = logging.getLogger(__name__)

VIDEO_TIME_BASE = Fraction(1, 90000)
AUDIO_RATE = 48000
OPUS_BITRATE = 96000


class RecordingError(Exception):
    """The file could not be written, or holds nothing."""


@dataclass(frozen=True)
class VideoItem:
    data: bytes
    pts: int  # 1/90000, from the room's start
    keyframe: bool


@dataclass(frozen=True)
class WebmResult:
    path: Path
    duration: float  # seconds
    size: int
    video_packets: int
    audio_frames: int


Item = VideoItem | AudioFrame | None


class WebmWriter:
    """Feed it from the event loop (`put_video`, `put_audio`, cheap), then `await finish()`."""

    def __init__(self, path: Path, width: int, height: int, fps: int) -> None:
        self.path, self.width, self.height, self.fps = path, width, height, fps
        self._queue: queue.SimpleQueue[Item] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=f"eyeson-recorder-{path.stem}", daemon=True)
        self._result: WebmResult | None = None
        self._error: BaseException | None = None
        # Set in the thread once the first keyframe arrives.
        self._container: OutputContainer | None = None
        self._video: Stream | None = None
        self._audio: AudioStream | None = None
        self._video_start = 0
        self._audio_start = 0
        self._pending_audio: list[AudioFrame] = []
        self._video_end = 0.0
        self._audio_end = 0.0
        self._packets = 0
        self._frames = 0

    def start(self) -> None:
        self._thread.start()

    def put_video(self, data: bytes, pts: int, keyframe: bool) -> None:
        self._queue.put(VideoItem(data, pts, keyframe))

    def put_audio(self, frame: AudioFrame) -> None:
        self._queue.put(frame)

    async def finish(self) -> WebmResult:
        """Ends the file (after what was put so far) and waits for the thread; RecordingError when it failed."""
        self._queue.put(None)
        await asyncio.to_thread(self._thread.join)
        if self._error is not None:
            raise RecordingError(str(self._error) or type(self._error).__name__) from self._error
        if self._result is None:
            raise RecordingError("nothing was recorded (no picture came before the recording stopped)")
        return self._result

    # -- in the thread

    def _run(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            while (item := self._queue.get()) is not None:
                if isinstance(item, VideoItem):
                    self._write_video(item)
                else:
                    self._write_audio(item)
            self._close()
        except BaseException as exc:  # kept for finish(); the rest of the queue is drained and dropped
            log.exception("eyeson: writing the recording %s failed", self.path.name)
            self._error = exc
            self._abandon()
            while self._queue.get() is not None:
                pass

    def _open(self, first: VideoItem) -> None:
        container = av.open(str(self.path), "w", format="webm")
        video = container.add_mux_stream("vp8", width=self.width, height=self.height)
        audio = container.add_stream("libopus", rate=AUDIO_RATE, layout="stereo")
        assert isinstance(audio, AudioStream)
        audio.format = "s16"
        audio.bit_rate = OPUS_BITRATE
        self._container, self._video, self._audio = container, video, audio
        self._video_start = first.pts
        self._audio_start = round(first.pts * AUDIO_RATE / 90000)
        waiting, self._pending_audio = self._pending_audio, []
        for frame in waiting:
            self._write_audio(frame)

    def _write_video(self, item: VideoItem) -> None:
        if self._container is None:
            if not item.keyframe:
                return
            self._open(item)
        assert self._container is not None and self._video is not None
        pts = item.pts - self._video_start
        if pts < 0:
            return
        packet = av.Packet(item.data)
        packet.pts = packet.dts = pts
        packet.time_base = VIDEO_TIME_BASE
        packet.is_keyframe = item.keyframe
        packet.stream = self._video
        self._container.mux(packet)
        self._packets += 1
        self._video_end = max(self._video_end, pts / 90000 + 1 / self.fps)

    def _write_audio(self, frame: AudioFrame) -> None:
        if self._container is None:
            self._pending_audio.append(frame)
            return
        assert self._audio is not None and frame.pts is not None
        pts = frame.pts - self._audio_start
        if pts < 0:
            return
        frame.pts = pts
        for packet in self._audio.encode(frame):
            self._container.mux(packet)
        self._frames += 1
        self._audio_end = max(self._audio_end, (pts + frame.samples) / AUDIO_RATE)

    def _close(self) -> None:
        container = self._container
        if container is None:
            return
        assert self._audio is not None
        for packet in self._audio.encode(None):
            container.mux(packet)
        container.close()
        self._container = None
        duration = max(self._video_end, self._audio_end)
        self._result = WebmResult(self.path, duration, self.path.stat().st_size, self._packets, self._frames)

    def _abandon(self) -> None:
        if self._container is not None:
            try:
                self._container.close()
            except Exception:
                log.debug("eyeson: closing a failed recording", exc_info=True)
            self._container = None
