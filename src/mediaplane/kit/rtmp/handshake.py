"""The simple RTMP handshake (RTMP specification §5.2), both sides: version 3 and no digest.

    client                          server
    C0 (1 byte: version 3)  ──▶
    C1 (1536 bytes)         ──▶
                            ◀──  S0 (version), S1 (1536 bytes)
    C2 (S1 echoed)          ──▶
                            ◀──  S2 (C1 echoed)

C1 is our time, four zero bytes and random bytes. Zeros in the version field tell servers (nginx-rtmp,
FFmpeg, YouTube, Twitch) that no digest handshake follows.
"""

from __future__ import annotations

import asyncio
import os
import struct
import time
from typing import Final

from mediaplane.kit.rtmp.errors import RtmpConnectionError, RtmpProtocolError

__all__ = ["HANDSHAKE_SIZE", "RTMP_VERSION", "client_handshake", "make_c1", "make_c2", "server_handshake"]

RTMP_VERSION: Final = 3
HANDSHAKE_SIZE: Final = 1536

_TIMES = struct.Struct(">II")


def _uptime_ms(epoch: float) -> int:
    return int((time.monotonic() - epoch) * 1000) & 0xFFFFFFFF


def make_c1(time_ms: int = 0) -> bytes:
    return _TIMES.pack(time_ms & 0xFFFFFFFF, 0) + os.urandom(HANDSHAKE_SIZE - 8)


def make_c2(s1: bytes, read_at_ms: int) -> bytes:
    """S1 echoed: its time, the time we read it, and its random bytes (what FFmpeg's server checks)."""
    if len(s1) != HANDSHAKE_SIZE:
        raise RtmpProtocolError(f"S1 is {len(s1)} bytes, not {HANDSHAKE_SIZE}")
    return s1[:4] + struct.pack(">I", read_at_ms & 0xFFFFFFFF) + s1[8:]


async def client_handshake(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Run the handshake on a fresh connection; raises RtmpConnectionError or RtmpProtocolError."""
    epoch = time.monotonic()
    writer.write(bytes((RTMP_VERSION,)) + make_c1(0))
    try:
        await writer.drain()
        s0 = await reader.readexactly(1)
        if s0[0] != RTMP_VERSION:
            raise RtmpProtocolError(f"the server answered the handshake with version {s0[0]}, not 3")
        s1 = await reader.readexactly(HANDSHAKE_SIZE)
        writer.write(make_c2(s1, _uptime_ms(epoch)))
        await writer.drain()
        await reader.readexactly(HANDSHAKE_SIZE)  # S2: our C1 echoed; nobody checks it
    except asyncio.IncompleteReadError as exc:
        raise RtmpConnectionError("the server closed the connection during the RTMP handshake") from exc
    except OSError as exc:
        raise RtmpConnectionError(f"RTMP handshake failed: {exc}") from exc


async def server_handshake(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The server's side: S0, S1 and S2 (C1 echoed) as soon as C1 is in; C2 is read and not checked, as
    nginx-rtmp and FFmpeg's server do with clients that use no digest."""
    epoch = time.monotonic()
    try:
        c0 = await reader.readexactly(1)
        if c0[0] != RTMP_VERSION:
            raise RtmpProtocolError(f"the client asked for RTMP version {c0[0]}, not 3")
        c1 = await reader.readexactly(HANDSHAKE_SIZE)
        writer.write(bytes((RTMP_VERSION,)) + make_c1(_uptime_ms(epoch)) + make_c2(c1, _uptime_ms(epoch)))
        await writer.drain()
        await reader.readexactly(HANDSHAKE_SIZE)
    except asyncio.IncompleteReadError as exc:
        raise RtmpConnectionError("the client closed the connection during the RTMP handshake") from exc
    except OSError as exc:
        raise RtmpConnectionError(f"RTMP handshake failed: {exc}") from exc
