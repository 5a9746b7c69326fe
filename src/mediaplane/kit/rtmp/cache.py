"""What a destination needs to start mid-stream: metadata, decoder configurations, the current GOP.

A sink that connects while the stream is running gets these first, so it starts at a key frame and
its receiver can decode from the first frame, as if it had been there from the start.
"""

from __future__ import annotations

from collections import deque

from mediaplane.kit.rtmp.chunks import Message
from mediaplane.kit.rtmp.media import Kind, is_metadata

__all__ = ["StreamCache"]

DEFAULT_GOP_BYTES = 8 * 1024 * 1024
DEFAULT_GOP_MS = 20_000


class StreamCache:
    """The latest ``@setDataFrame``, video and audio sequence headers, and the GOP since the last key frame.

    The GOP is bounded (``max_bytes``, ``max_ms``): past either it is dropped until the next key
    frame. Audio-only streams cache no GOP: any audio frame is a fine place to start.
    """

    def __init__(self, *, max_bytes: int = DEFAULT_GOP_BYTES, max_ms: int = DEFAULT_GOP_MS) -> None:
        self.max_bytes = max_bytes
        self.max_ms = max_ms
        self.metadata: Message | None = None
        self.video_config: Message | None = None
        self.audio_config: Message | None = None
        self.has_video = False
        self._gop: deque[tuple[Message, Kind]] = deque()
        self._gop_bytes = 0
        self._gop_start = 0

    def add(self, message: Message, kind: Kind) -> None:
        if kind == Kind.VIDEO_KEY:
            self.has_video = True
            self._gop.clear()
            self._gop.append((message, kind))
            self._gop_bytes = len(message.payload)
            self._gop_start = message.timestamp
        elif kind == Kind.VIDEO_CONFIG:
            self.has_video = True
            self.video_config = message
        elif kind == Kind.AUDIO_CONFIG:
            self.audio_config = message
        elif kind == Kind.DATA and is_metadata(message):
            self.metadata = message
        elif self._gop:
            self._gop.append((message, kind))
            self._gop_bytes += len(message.payload)
            age = (message.timestamp - self._gop_start) & 0xFFFFFFFF
            if self._gop_bytes > self.max_bytes or (age < 0x80000000 and age > self.max_ms):
                self._gop.clear()
                self._gop_bytes = 0

    def is_sync_point(self, kind: Kind) -> bool:
        """Whether a sink may start with a message of this kind."""
        return kind == Kind.VIDEO_KEY or (kind == Kind.AUDIO and not self.has_video)

    def headers(self) -> list[tuple[Message, Kind]]:
        """Metadata and sequence headers, for a sink's start."""
        items: list[tuple[Message, Kind]] = []
        if self.metadata is not None:
            items.append((self.metadata, Kind.DATA))
        if self.video_config is not None:
            items.append((self.video_config, Kind.VIDEO_CONFIG))
        if self.audio_config is not None:
            items.append((self.audio_config, Kind.AUDIO_CONFIG))
        return items

    def gop(self) -> list[tuple[Message, Kind]]:
        """The messages from the last key frame on (empty when there is none to start from)."""
        return list(self._gop)

    @property
    def gop_bytes(self) -> int:
        return self._gop_bytes
