"""The RTMP chunk stream (RTMP specification §5.3): messages cut into chunks and put back together.

A message travels as chunks of at most the sender's chunk size (128 bytes until a Set Chunk Size
message says otherwise). Each chunk starts with a basic header (format 0 to 3 and the chunk stream id,
``csid``) and a message header whose size depends on the format:

- format 0 (11 bytes): timestamp, length, type id, message stream id — a new message, absolute time;
- format 1 (7 bytes): timestamp delta, length, type id — same message stream;
- format 2 (3 bytes): timestamp delta — same stream, length and type;
- format 3 (none): the rest of a message, or a new message repeating the previous one's header and delta.

A timestamp field of 0xFFFFFF means the real value follows as a 4-byte extended timestamp, which
FFmpeg and nginx-rtmp also repeat after every format 3 header of that message.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass
from typing import Final

from mediaplane.kit.rtmp.errors import RtmpProtocolError

__all__ = ["DEFAULT_CHUNK_SIZE", "ChunkReader", "ChunkWriter", "Message", "encode_message"]

log = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE: Final = 128
"""Every RTMP peer's chunk size until it sends Set Chunk Size."""
MAX_CHUNK_SIZE: Final = 0x7FFFFFFF
MAX_MESSAGE_SIZE: Final = 32 * 1024 * 1024
"""Larger messages are refused: no real video frame comes close, and the length is only 24 bits anyway."""

SET_CHUNK_SIZE: Final = 1
ABORT: Final = 2

_EXTENDED: Final = 0xFFFFFF
_U32 = struct.Struct(">I")
_U32LE = struct.Struct("<I")
_HEADER_SIZES: Final = (11, 7, 3, 0)


@dataclass(slots=True)  # not frozen: a frozen dataclass is three times slower to make, once per message
class Message:
    type_id: int
    stream_id: int
    timestamp: int
    """Milliseconds, 32 bits (wraps around)."""
    payload: bytes


class _ChunkStream:
    """What a chunk stream id remembers from its previous headers."""

    __slots__ = ("delta", "extended", "length", "parts", "received", "stream_id", "timestamp", "type_id")

    def __init__(self) -> None:
        self.timestamp = 0
        self.delta = 0
        self.length = 0
        self.type_id = 0
        self.stream_id = 0
        self.extended = False
        self.parts: list[bytes] = []
        self.received = 0


class ChunkReader:
    """An incremental chunk stream parser: :meth:`feed` it bytes as they arrive, get whole messages back.

    It applies the peer's Set Chunk Size and Abort messages itself (and still returns them).
    """

    def __init__(self, chunk_size: int = DEFAULT_CHUNK_SIZE, *, max_message_size: int = MAX_MESSAGE_SIZE) -> None:
        self.chunk_size = chunk_size
        self.max_message_size = max_message_size
        self._buffer = bytearray()
        self._streams: dict[int, _ChunkStream] = {}

    @property
    def buffered(self) -> int:
        """Bytes received that do not make a whole chunk yet."""
        return len(self._buffer)

    def feed(self, data: bytes | bytearray | memoryview) -> list[Message]:
        self._buffer += data
        messages: list[Message] = []
        buffer = self._buffer
        pos = 0
        try:
            while True:
                consumed = self._chunk(buffer, pos, messages)
                if consumed == 0:
                    break
                pos += consumed
        finally:
            del buffer[:pos]
        return messages

    def _chunk(self, buf: bytearray, pos: int, messages: list[Message]) -> int:
        """Parse one chunk at ``pos``; returns its size, or 0 when it has not fully arrived."""
        end = len(buf)
        if pos >= end:
            return 0
        first = buf[pos]
        fmt = first >> 6
        csid = first & 0x3F
        start = pos + 1
        if csid == 0:
            if start + 1 > end:
                return 0
            csid = 64 + buf[start]
            start += 1
        elif csid == 1:
            if start + 2 > end:
                return 0
            csid = 64 + buf[start] + (buf[start + 1] << 8)
            start += 2
        header_end = start + _HEADER_SIZES[fmt]
        if header_end > end:
            return 0

        stream = self._streams.get(csid)
        if stream is None:
            if fmt != 0:
                raise RtmpProtocolError(f"chunk stream {csid} starts with a format {fmt} header")
            stream = self._streams[csid] = _ChunkStream()
        if fmt != 3 and stream.received:
            raise RtmpProtocolError(f"chunk stream {csid}: a new message header in the middle of a message")

        field = 0
        if fmt != 3:
            field = (buf[start] << 16) | (buf[start + 1] << 8) | buf[start + 2]
        extended = field == _EXTENDED if fmt != 3 else stream.extended
        data_start = header_end
        ext_value = 0
        if extended:
            if header_end + 4 > end:
                return 0
            ext_value = _U32.unpack_from(buf, header_end)[0]
            if fmt == 3 and stream.received and ext_value != stream.delta:
                # Some encoders leave the extended timestamp out of continuation chunks: these 4 bytes
                # are payload then.
                ext_value = 0
            else:
                data_start += 4

        new_message = stream.received == 0
        length = stream.length
        if fmt <= 1:
            length = (buf[start + 3] << 16) | (buf[start + 4] << 8) | buf[start + 5]
            if length > self.max_message_size:
                raise RtmpProtocolError(f"a {length}-byte message is larger than allowed")
        size = min(self.chunk_size, length - stream.received) if length else 0
        if data_start + size > end:
            return 0

        # The whole chunk is here: only now change the chunk stream's state.
        if fmt != 3:
            stream.extended = extended
            value = ext_value if extended else field
            stream.delta = value
            if fmt == 0:
                stream.timestamp = value
                stream.stream_id = _U32LE.unpack_from(buf, start + 7)[0]
            else:
                stream.timestamp = (stream.timestamp + value) & 0xFFFFFFFF
            if fmt <= 1:
                stream.length = length
                stream.type_id = buf[start + 6]
        elif new_message:
            stream.timestamp = (stream.timestamp + stream.delta) & 0xFFFFFFFF

        if new_message and size < length and csid < 64 and not extended:
            whole = self._whole(buf, data_start, length, 0xC0 | csid, end)
            if whole is not None:
                payload, stop = whole
                self._done(Message(stream.type_id, stream.stream_id, stream.timestamp, payload), messages)
                return stop - pos
        if size:
            stream.parts.append(bytes(buf[data_start : data_start + size]))
            stream.received += size
        if stream.received >= stream.length:
            payload = stream.parts[0] if len(stream.parts) == 1 else b"".join(stream.parts)
            stream.parts = []
            stream.received = 0
            self._done(Message(stream.type_id, stream.stream_id, stream.timestamp, payload), messages)
        return data_start + size - pos

    def _whole(self, buf: bytearray, data_start: int, length: int, header: int, end: int) -> tuple[bytes, int] | None:
        """A message whose continuation chunks follow its first chunk back to back and have all arrived (what
        encoders send): its payload, put together in one go, and where it ends. None otherwise: another chunk
        stream's chunk in between, or not all of it here yet; the chunks are then read one by one."""
        size = self.chunk_size
        stop = data_start + length + (length - 1) // size  # the payload and one header byte per continuation
        if stop > end:
            return None
        heads = range(data_start + size, stop, size + 1)
        if any(buf[i] != header for i in heads):
            return None
        with memoryview(buf) as view:
            parts = [view[data_start : data_start + size]] + [view[i + 1 : min(i + 1 + size, stop)] for i in heads]
            return b"".join(parts), stop

    def _done(self, message: Message, messages: list[Message]) -> None:
        self._control(message)
        messages.append(message)

    def _control(self, message: Message) -> None:
        if message.stream_id != 0 or len(message.payload) < 4:
            return
        if message.type_id == SET_CHUNK_SIZE:
            size = _U32.unpack_from(message.payload)[0] & MAX_CHUNK_SIZE
            if size < 1:
                raise RtmpProtocolError("the peer set a chunk size of 0")
            self.chunk_size = size
        elif message.type_id == ABORT:
            csid = _U32.unpack_from(message.payload)[0]
            aborted = self._streams.get(csid)
            if aborted is not None:
                aborted.parts = []
                aborted.received = 0


def _basic_header(fmt: int, csid: int) -> bytes:
    if 2 <= csid <= 63:
        return bytes((fmt << 6 | csid,))
    if 64 <= csid <= 319:
        return bytes((fmt << 6, csid - 64))
    if 64 <= csid <= 65599:
        rest = csid - 64
        return bytes((fmt << 6 | 1, rest & 0xFF, rest >> 8))
    raise ValueError(f"chunk stream id {csid} is outside 2..65599")


def encode_message(message: Message, chunk_size: int, csid: int) -> bytes:
    """``message`` as chunks of ``chunk_size`` on chunk stream ``csid``: a format 0 header, then format 3."""
    payload = message.payload
    length = len(payload)
    if length > 0xFFFFFF:
        raise ValueError("an RTMP message carries at most 16 MiB")
    timestamp = message.timestamp & 0xFFFFFFFF
    extended = timestamp >= _EXTENDED
    header = bytearray(_basic_header(0, csid))
    header += (_EXTENDED if extended else timestamp).to_bytes(3, "big")
    header += length.to_bytes(3, "big")
    header.append(message.type_id)
    header += _U32LE.pack(message.stream_id)
    if extended:
        header += _U32.pack(timestamp)
    if length <= chunk_size:
        return bytes(header) + payload
    continuation = _basic_header(3, csid) + (_U32.pack(timestamp) if extended else b"")
    view = memoryview(payload)
    parts: list[bytes | bytearray | memoryview] = [header, view[:chunk_size]]
    for offset in range(chunk_size, length, chunk_size):
        parts.append(continuation)
        parts.append(view[offset : offset + chunk_size])
    return b"".join(parts)


_FMT0 = struct.Struct(">BBHBHB")


def chunk_body(payload: bytes, chunk_size: int, csid: int) -> bytes:
    """A message's chunks after the first chunk's header: the same for every connection that sends it
    with a timestamp below 0xFFFFFF, so a relay cuts each message once for all its destinations."""
    if len(payload) <= chunk_size:
        return payload
    continuation = _basic_header(3, csid)
    view = memoryview(payload)
    parts: list[bytes | memoryview] = [view[:chunk_size]]
    for offset in range(chunk_size, len(payload), chunk_size):
        parts.append(continuation)
        parts.append(view[offset : offset + chunk_size])
    return b"".join(parts)


def chunk_header(csid: int, timestamp: int, length: int, type_id: int, stream_id: bytes) -> bytes:
    """The format 0 header that goes before :func:`chunk_body` (csid 2..63, timestamp below 0xFFFFFF);
    ``stream_id`` as its 4 little-endian bytes."""
    return _FMT0.pack(csid, timestamp >> 16, timestamp & 0xFFFF, length >> 16, length & 0xFFFF, type_id) + stream_id


class ChunkWriter:
    """Turns messages into chunk bytes at our outgoing chunk size."""

    def __init__(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        self.chunk_size = chunk_size

    def encode(self, message: Message, csid: int) -> bytes:
        return encode_message(message, self.chunk_size, csid)
