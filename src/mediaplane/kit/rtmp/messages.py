"""RTMP message types (RTMP specification §5.4, §6, §7) and builders for the ones a client sends."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Final

from mediaplane.kit.rtmp import amf0
from mediaplane.kit.rtmp.chunks import Message
from mediaplane.kit.rtmp.errors import RtmpProtocolError

__all__ = ["Command", "csid_for", "parse_command"]

# Protocol control messages (message stream 0, chunk stream 2).
SET_CHUNK_SIZE: Final = 1
ABORT: Final = 2
ACKNOWLEDGEMENT: Final = 3
USER_CONTROL: Final = 4
WINDOW_ACK_SIZE: Final = 5
SET_PEER_BANDWIDTH: Final = 6
# Media and commands.
AUDIO: Final = 8
VIDEO: Final = 9
DATA_AMF3: Final = 15
SHARED_OBJECT_AMF3: Final = 16
COMMAND_AMF3: Final = 17
DATA_AMF0: Final = 18
SHARED_OBJECT_AMF0: Final = 19
COMMAND_AMF0: Final = 20
AGGREGATE: Final = 22

# User control events.
STREAM_BEGIN: Final = 0
STREAM_EOF: Final = 1
STREAM_DRY: Final = 2
SET_BUFFER_LENGTH: Final = 3
STREAM_IS_RECORDED: Final = 4
PING_REQUEST: Final = 6
PING_RESPONSE: Final = 7

# The chunk streams we send on (the ones FFmpeg uses).
CSID_CONTROL: Final = 2
CSID_COMMAND: Final = 3
CSID_AUDIO: Final = 4
CSID_VIDEO: Final = 6
CSID_STREAM: Final = 8
"""Commands and data on a media stream (play, publish, metadata)."""

_U32 = struct.Struct(">I")
_CSIDS: Final = {AUDIO: CSID_AUDIO, VIDEO: CSID_VIDEO, COMMAND_AMF0: CSID_COMMAND}


def csid_for(message: Message) -> int:
    if message.stream_id == 0 and message.type_id <= SET_PEER_BANDWIDTH:
        return CSID_CONTROL
    if message.type_id == COMMAND_AMF0 and message.stream_id != 0:
        return CSID_STREAM
    return _CSIDS.get(message.type_id, CSID_STREAM)


def set_chunk_size(size: int) -> Message:
    return Message(SET_CHUNK_SIZE, 0, 0, _U32.pack(size))


def acknowledgement(sequence: int) -> Message:
    return Message(ACKNOWLEDGEMENT, 0, 0, _U32.pack(sequence & 0xFFFFFFFF))


def window_ack_size(size: int) -> Message:
    return Message(WINDOW_ACK_SIZE, 0, 0, _U32.pack(size))


def user_control(event: int, *values: int) -> Message:
    payload = struct.pack(f">H{len(values)}I", event, *values)
    return Message(USER_CONTROL, 0, 0, payload)


def read_u32(message: Message) -> int:
    if len(message.payload) < 4:
        raise RtmpProtocolError(f"message type {message.type_id} is too short")
    value: int = _U32.unpack_from(message.payload)[0]
    return value


@dataclass(frozen=True, slots=True)
class Command:
    """An AMF0 command: ``name``, transaction id, command object, then optional arguments."""

    name: str
    transaction: float
    obj: Any = None
    args: tuple[Any, ...] = ()

    def message(self, stream_id: int = 0) -> Message:
        payload = amf0.encode(self.name, self.transaction, self.obj, *self.args)
        return Message(COMMAND_AMF0, stream_id, 0, payload)

    @property
    def info(self) -> dict[str, Any]:
        """The info object of ``onStatus``/``_result``/``_error`` (the first object among the arguments)."""
        return next((arg for arg in self.args if isinstance(arg, dict)), {})


def parse_command(message: Message) -> Command:
    """An AMF0 command, or an AMF3 command (which carries AMF0 after a leading zero byte)."""
    payload = message.payload
    if message.type_id == COMMAND_AMF3 and payload[:1] == b"\x00":
        payload = payload[1:]
    values = amf0.decode(payload)
    if not values or not isinstance(values[0], str):
        raise RtmpProtocolError("a command message without a name")
    # FFmpeg's server sends a bare "onFCPublish": the transaction id is missing then.
    transaction = values[1] if len(values) > 1 and isinstance(values[1], float) else 0.0
    return Command(values[0], transaction, values[2] if len(values) > 2 else None, tuple(values[3:]))
