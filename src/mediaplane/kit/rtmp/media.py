"""What an RTMP audio/video/data message holds, read from its first bytes (FLV tag bodies, Enhanced RTMP).

Video: the first byte is frame type (high 4 bits: 1 key frame, 2 inter frame, 5 info/command) and codec
id (7 AVC, 12 HEVC as Chinese CDNs send it); AVC/HEVC then say in one byte whether this is the
sequence header (0) or a frame (1). Enhanced RTMP sets the top bit, keeps the frame type in bits 4 to 6,
a packet type in the low 4 bits (0 sequence start, 1/3 coded frames) and a FourCC (``hvc1``, ``av01``,
``vp09``) next. Audio: the sound format is the high 4 bits (10 AAC, whose next byte is 0 for the
AudioSpecificConfig, 9 Enhanced RTMP's FourCC header).
"""

from __future__ import annotations

import enum
import struct
from typing import Any, Final

from mediaplane.kit.rtmp import amf0
from mediaplane.kit.rtmp.chunks import Message
from mediaplane.kit.rtmp.errors import RtmpError
from mediaplane.kit.rtmp.messages import AUDIO, DATA_AMF0, VIDEO

__all__ = ["Kind", "audio_codec", "kind_of", "metadata_fields", "publishable_data", "split_aggregate", "video_codec"]


class Kind(enum.IntEnum):
    VIDEO_KEY = 1
    VIDEO = 2
    """An inter frame."""
    VIDEO_CONFIG = 3
    """The decoder configuration (AVC/HEVC sequence header, Enhanced RTMP sequence start)."""
    VIDEO_OTHER = 4
    """End of sequence, info or command frames, Enhanced RTMP metadata."""
    AUDIO = 5
    AUDIO_CONFIG = 6
    """The AAC AudioSpecificConfig, or an Enhanced RTMP audio sequence start."""
    DATA = 7
    OTHER = 8


_LEGACY_VIDEO: Final = {2: "h263", 3: "screen", 4: "vp6", 5: "vp6a", 6: "screen2", 7: "h264", 12: "hevc"}
_FOURCC_VIDEO: Final = {b"avc1": "h264", b"hvc1": "hevc", b"av01": "av1", b"vp09": "vp9", b"vp08": "vp8"}
_LEGACY_AUDIO: Final = {
    **{0: "pcm", 1: "adpcm", 2: "mp3", 3: "pcm", 4: "nellymoser", 5: "nellymoser", 6: "nellymoser"},
    **{7: "pcm_alaw", 8: "pcm_mulaw", 10: "aac", 11: "speex", 14: "mp3"},
}
_FOURCC_AUDIO: Final = {
    b"Opus": "opus",
    b"fLaC": "flac",
    b"ac-3": "ac3",
    b"ec-3": "eac3",
    b"mp4a": "aac",
    b".mp3": "mp3",
}
_SET_DATA_FRAME: Final = amf0.encode("@setDataFrame")
_ON_METADATA: Final = amf0.encode("onMetaData")
_SAMPLE_ACCESS: Final = amf0.encode("|RtmpSampleAccess")


def _video_kind(payload: bytes) -> Kind:
    if not payload:
        return Kind.VIDEO_OTHER
    first = payload[0]
    if first & 0x80:  # Enhanced RTMP
        frame_type = (first >> 4) & 0x07
        packet_type = first & 0x0F
        if packet_type in (0, 5):
            return Kind.VIDEO_CONFIG
        if packet_type not in (1, 3) or frame_type == 5:
            return Kind.VIDEO_OTHER
        return Kind.VIDEO_KEY if frame_type == 1 else Kind.VIDEO
    frame_type = first >> 4
    if frame_type == 5:
        return Kind.VIDEO_OTHER
    if (first & 0x0F) in (7, 12):  # AVC and HEVC carry a packet type
        if len(payload) < 2:
            return Kind.VIDEO_OTHER
        if payload[1] == 0:
            return Kind.VIDEO_CONFIG
        if payload[1] != 1:
            return Kind.VIDEO_OTHER
    return Kind.VIDEO_KEY if frame_type == 1 else Kind.VIDEO


def _audio_kind(payload: bytes) -> Kind:
    if not payload:
        return Kind.OTHER
    sound_format = payload[0] >> 4
    if sound_format == 10:
        return Kind.AUDIO_CONFIG if len(payload) > 1 and payload[1] == 0 else Kind.AUDIO
    if sound_format == 9:  # Enhanced RTMP: the low 4 bits are the packet type
        return Kind.AUDIO_CONFIG if payload[0] & 0x0F == 0 else Kind.AUDIO
    return Kind.AUDIO


def kind_of(message: Message) -> Kind:
    if message.type_id == VIDEO:
        return _video_kind(message.payload)
    if message.type_id == AUDIO:
        return _audio_kind(message.payload)
    if message.type_id in (DATA_AMF0, 15):
        return Kind.DATA
    return Kind.OTHER


def video_codec(payload: bytes) -> str | None:
    if not payload:
        return None
    if payload[0] & 0x80:
        return _FOURCC_VIDEO.get(bytes(payload[1:5]), bytes(payload[1:5]).decode("latin-1"))
    return _LEGACY_VIDEO.get(payload[0] & 0x0F)


def audio_codec(payload: bytes) -> str | None:
    if not payload:
        return None
    if payload[0] >> 4 == 9:
        return _FOURCC_AUDIO.get(bytes(payload[1:5]), bytes(payload[1:5]).decode("latin-1"))
    return _LEGACY_AUDIO.get(payload[0] >> 4)


def publishable_data(message: Message) -> Message | None:
    """A played data message as a publisher sends it, or None when it is for players only.

    Servers give players ``onMetaData``; a publisher sends ``@setDataFrame`` + ``onMetaData``.
    ``|RtmpSampleAccess`` is the server's note to Flash players and never goes upstream.
    """
    payload = message.payload
    if message.type_id != DATA_AMF0:
        return message
    if payload.startswith(_ON_METADATA):
        return Message(DATA_AMF0, message.stream_id, message.timestamp, _SET_DATA_FRAME + payload)
    if payload.startswith(_SAMPLE_ACCESS):
        return None
    return message


def is_metadata(message: Message) -> bool:
    """``@setDataFrame``/``onMetaData`` as :func:`publishable_data` returns it."""
    return message.type_id == DATA_AMF0 and message.payload.startswith(_SET_DATA_FRAME + _ON_METADATA)


def metadata_fields(message: Message) -> dict[str, Any]:
    """The properties of an ``onMetaData`` message (empty when it is something else or malformed)."""
    try:
        values = amf0.decode(message.payload)
    except RtmpError:
        return {}
    return next((value for value in values if isinstance(value, dict)), {})


_TAG = struct.Struct(">B3s3sB3s")


def split_aggregate(message: Message) -> list[Message]:
    """The messages inside an aggregate message (FLV tags back to back), on the aggregate's clock."""
    payload = message.payload
    parts: list[Message] = []
    offset = 0
    first_ts: int | None = None
    while offset + _TAG.size <= len(payload):
        type_id, size_raw, ts_raw, ts_high, _stream = _TAG.unpack_from(payload, offset)
        size = int.from_bytes(size_raw, "big")
        start = offset + _TAG.size
        if start + size > len(payload):
            break
        timestamp = int.from_bytes(ts_raw, "big") | (ts_high << 24)
        if first_ts is None:
            first_ts = timestamp
        stamp = (message.timestamp + timestamp - first_ts) & 0xFFFFFFFF
        parts.append(Message(type_id, message.stream_id, stamp, payload[start : start + size]))
        offset = start + size + 4  # and the previous-tag-size field
    return parts
