"""AMF0, the value encoding of RTMP commands and data messages (Adobe's "AMF 0 File Format Specification").

Python values map to AMF0 types as follows:

==================  =======================================================
``None``            null
:data:`UNDEFINED`   undefined
``bool``            boolean
``int``/``float``   number (a 64-bit double; decoding always gives ``float``)
``str``             string, or long string above 65,535 UTF-8 bytes
``dict``            anonymous object (string keys)
:class:`EcmaArray`  ECMA array (a ``dict`` with string keys)
``list``/``tuple``  strict array
``datetime``        date (milliseconds since the epoch, UTC)
==================  =======================================================

The object end marker only ever closes an object or an ECMA array. Decoding also accepts what
servers occasionally send: typed objects (as ``dict``), XML documents (as ``str``) and the
"unsupported" marker (as ``None``).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from mediaplane.kit.rtmp.errors import RtmpProtocolError

__all__ = ["UNDEFINED", "EcmaArray", "Undefined", "decode", "decode_value", "encode", "encode_value"]

NUMBER: Final = 0x00
BOOLEAN: Final = 0x01
STRING: Final = 0x02
OBJECT: Final = 0x03
NULL: Final = 0x05
UNDEFINED_MARKER: Final = 0x06
REFERENCE: Final = 0x07
ECMA_ARRAY: Final = 0x08
OBJECT_END: Final = 0x09
STRICT_ARRAY: Final = 0x0A
DATE: Final = 0x0B
LONG_STRING: Final = 0x0C
UNSUPPORTED: Final = 0x0D
XML_DOCUMENT: Final = 0x0F
TYPED_OBJECT: Final = 0x10

_DOUBLE = struct.Struct(">d")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_DATE = struct.Struct(">dh")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_DEPTH = 64


class Undefined:
    """AMF0's ``undefined``, distinct from ``null`` (``None``)."""

    _instance: Undefined | None = None

    def __new__(cls) -> Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED: Final = Undefined()


class EcmaArray(dict[str, Any]):
    """An associative array; encodes as an ECMA array where a plain ``dict`` encodes as an object."""


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _key(name: str) -> bytes:
    raw = _utf8(name)
    if len(raw) > 0xFFFF:
        raise ValueError("an AMF0 property name is at most 65,535 bytes")
    return _U16.pack(len(raw)) + raw


def _properties(out: bytearray, items: Mapping[str, Any], depth: int) -> None:
    for name, value in items.items():
        if not isinstance(name, str):
            raise TypeError(f"AMF0 property names are strings, not {type(name).__name__}")
        out += _key(name)
        _encode(out, value, depth + 1)
    out += b"\x00\x00\x09"


def _encode(out: bytearray, value: Any, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise ValueError("AMF0 value nested too deeply")
    if value is None:
        out.append(NULL)
    elif value is UNDEFINED:
        out.append(UNDEFINED_MARKER)
    elif isinstance(value, bool):
        out += bytes((BOOLEAN, 1 if value else 0))
    elif isinstance(value, int | float):
        out.append(NUMBER)
        out += _DOUBLE.pack(float(value))
    elif isinstance(value, str):
        raw = _utf8(value)
        if len(raw) <= 0xFFFF:
            out.append(STRING)
            out += _U16.pack(len(raw))
        else:
            out.append(LONG_STRING)
            out += _U32.pack(len(raw))
        out += raw
    elif isinstance(value, EcmaArray):
        out.append(ECMA_ARRAY)
        out += _U32.pack(len(value))
        _properties(out, value, depth)
    elif isinstance(value, Mapping):
        out.append(OBJECT)
        _properties(out, value, depth)
    elif isinstance(value, list | tuple):
        out.append(STRICT_ARRAY)
        out += _U32.pack(len(value))
        for item in value:
            _encode(out, item, depth + 1)
    elif isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("AMF0 dates need a timezone-aware datetime")
        millis = (value - _EPOCH) / timedelta(milliseconds=1)
        out.append(DATE)
        out += _DATE.pack(millis, 0)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as AMF0")


def encode_value(value: Any) -> bytes:
    """One value as AMF0 bytes."""
    out = bytearray()
    _encode(out, value, 0)
    return bytes(out)


def encode(*values: Any) -> bytes:
    """Several values back to back, as in a command (name, transaction id, object, arguments …)."""
    out = bytearray()
    for value in values:
        _encode(out, value, 0)
    return bytes(out)


class _Decoder:
    def __init__(self, data: bytes | bytearray | memoryview, offset: int) -> None:
        self.data = memoryview(data)
        self.pos = offset

    def take(self, size: int) -> memoryview:
        end = self.pos + size
        if end > len(self.data):
            raise RtmpProtocolError(f"AMF0 data ends early: {size} bytes needed at offset {self.pos}")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def u16(self) -> int:
        value: int = _U16.unpack(self.take(2))[0]
        return value

    def u32(self) -> int:
        value: int = _U32.unpack(self.take(4))[0]
        return value

    def text(self, size: int) -> str:
        return bytes(self.take(size)).decode("utf-8", "surrogateescape")

    def properties(self, into: dict[str, Any], depth: int) -> dict[str, Any]:
        while True:
            name = self.text(self.u16())
            if not name and self.pos < len(self.data) and self.data[self.pos] == OBJECT_END:
                self.pos += 1
                return into
            into[name] = self.value(depth + 1)

    def value(self, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise RtmpProtocolError("AMF0 value nested too deeply")
        marker = self.take(1)[0]
        if marker == NUMBER:
            return _DOUBLE.unpack(self.take(8))[0]
        if marker == BOOLEAN:
            return self.take(1)[0] != 0
        if marker == STRING:
            return self.text(self.u16())
        if marker in (LONG_STRING, XML_DOCUMENT):
            return self.text(self.u32())
        if marker == OBJECT:
            return self.properties({}, depth)
        if marker == ECMA_ARRAY:
            self.u32()  # the count is a hint; the end marker is what ends the array
            return self.properties(EcmaArray(), depth)
        if marker == STRICT_ARRAY:
            count = self.u32()
            if count > len(self.data) - self.pos:  # every item takes at least one byte
                raise RtmpProtocolError(f"AMF0 strict array of {count} items does not fit the data")
            return [self.value(depth + 1) for _ in range(count)]
        if marker in (NULL, UNSUPPORTED):
            return None
        if marker == UNDEFINED_MARKER:
            return UNDEFINED
        if marker == DATE:
            millis, _zone = _DATE.unpack(self.take(10))
            if not math.isfinite(millis):
                raise RtmpProtocolError("AMF0 date is not a finite number")
            try:
                return _EPOCH + timedelta(milliseconds=millis)
            except OverflowError as exc:
                raise RtmpProtocolError("AMF0 date out of range") from exc
        if marker == TYPED_OBJECT:
            self.text(self.u16())  # the class name; callers see a plain object
            return self.properties({}, depth)
        if marker == REFERENCE:
            raise RtmpProtocolError("AMF0 object references are not supported")
        if marker == OBJECT_END:
            raise RtmpProtocolError("AMF0 object end marker outside an object")
        raise RtmpProtocolError(f"unknown AMF0 type marker 0x{marker:02x}")


def decode_value(data: bytes | bytearray | memoryview, offset: int = 0) -> tuple[Any, int]:
    """The value at ``offset`` and the offset just after it."""
    decoder = _Decoder(data, offset)
    value = decoder.value()
    return value, decoder.pos


def decode(data: bytes | bytearray | memoryview) -> list[Any]:
    """Every value in ``data``, in order (a command's name, transaction id, object and arguments)."""
    decoder = _Decoder(data, 0)
    values: list[Any] = []
    while decoder.pos < len(decoder.data):
        values.append(decoder.value())
    return values
