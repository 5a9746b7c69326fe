"""RTMP messages as an FLV stream (HTTP-FLV): the file header, then one tag per message.

RTMP audio, video and AMF0 data messages carry FLV tag bodies already, so a tag is the message's payload
behind an 11-byte header and before its size. Timestamps start at 0 with the first frame (per writer);
the publisher's ``@setDataFrame`` wrapper is taken off the metadata, as an FLV file holds ``onMetaData``.

    writer = FlvWriter()
    data = writer.write(batch)      # b"" until the first key frame; then the header and the tags so far
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Final

from mediaplane.kit.rtmp import amf0
from mediaplane.kit.rtmp.chunks import Message
from mediaplane.kit.rtmp.fanout import ALWAYS_SENT, Timeline
from mediaplane.kit.rtmp.media import Kind, is_metadata, metadata_fields
from mediaplane.kit.rtmp.messages import AUDIO, DATA_AMF0, VIDEO

__all__ = ["FlvWriter", "file_header", "tag"]

_SET_DATA_FRAME: Final = len(amf0.encode("@setDataFrame"))
_TAG_HEADER: Final = struct.Struct(">B3s3sB3s")  # type, size, timestamp (low 24 bits, high 8), stream id 0
_AUDIO_KINDS: Final = frozenset({Kind.AUDIO, Kind.AUDIO_CONFIG})
_VIDEO_KINDS: Final = frozenset({Kind.VIDEO_KEY, Kind.VIDEO, Kind.VIDEO_CONFIG})


def file_header(*, audio: bool, video: bool) -> bytes:
    """The 9-byte FLV header and the first PreviousTagSize (0)."""
    flags = (0x04 if audio else 0) | (0x01 if video else 0)
    return b"FLV\x01" + bytes([flags]) + b"\x00\x00\x00\x09" + b"\x00\x00\x00\x00"


def tag(type_id: int, timestamp: int, payload: bytes) -> bytes:
    """One FLV tag (8 audio, 9 video, 18 script data) and its PreviousTagSize."""
    size = len(payload)
    header = _TAG_HEADER.pack(
        type_id,
        size.to_bytes(3, "big"),
        (timestamp & 0xFFFFFF).to_bytes(3, "big"),
        (timestamp >> 24) & 0xFF,
        b"\x00\x00\x00",
    )
    return b"".join((header, payload, (11 + size).to_bytes(4, "big")))


class FlvWriter:
    """Turns batches of a relayed stream's ``(message, kind)`` into FLV bytes; see the module docs.

    Nothing is written before the first key frame (or, for a stream with no video, the first audio frame),
    and no media from before it; the header's audio and video flags come from what the stream showed by then.
    """

    def __init__(self) -> None:
        self.started = False
        self._pending: list[tuple[Message, Kind]] = []
        self._timeline = Timeline()

    def write(self, batch: Iterable[tuple[Message, Kind]]) -> bytes:
        if self.started:
            return self._tags(batch)
        self._pending.extend(batch)
        if not self._ready():
            return b""
        pending, self._pending = self._pending, []
        self.started = True
        audio, video = self._tracks(pending)
        if video:  # the media starts at the key frame: audio before it would start the clock early
            first = next(i for i, (_, kind) in enumerate(pending) if kind == Kind.VIDEO_KEY)
            pending = [entry for entry in pending[:first] if entry[1] in ALWAYS_SENT] + pending[first:]
        return file_header(audio=audio, video=video) + self._tags(pending)

    def _ready(self) -> bool:
        kinds = {kind for _, kind in self._pending}
        if Kind.VIDEO_KEY in kinds:
            return True
        _, video = self._tracks(self._pending)
        return Kind.AUDIO in kinds and not video

    @staticmethod
    def _tracks(items: list[tuple[Message, Kind]]) -> tuple[bool, bool]:
        """(audio, video): seen among ``items`` or announced by their metadata."""
        kinds = {kind for _, kind in items}
        audio, video = bool(kinds & _AUDIO_KINDS), bool(kinds & _VIDEO_KINDS)
        for message, kind in items:
            if kind == Kind.DATA and is_metadata(message):
                fields = metadata_fields(message)
                audio = audio or bool(fields.get("audiocodecid")) or fields.get("hasAudio") is True
                video = video or bool(fields.get("videocodecid")) or fields.get("hasVideo") is True
        return audio, video

    def _tags(self, items: Iterable[tuple[Message, Kind]]) -> bytes:
        parts: list[bytes] = []
        stamp = self._timeline.stamp
        for message, kind in items:
            type_id = message.type_id
            payload = message.payload
            if type_id == DATA_AMF0:
                if is_metadata(message):
                    payload = payload[_SET_DATA_FRAME:]
            elif type_id not in (AUDIO, VIDEO):
                continue  # AMF3 data and the like: not FLV tags
            parts.append(tag(type_id, stamp(message, kind), payload))
        return b"".join(parts)
