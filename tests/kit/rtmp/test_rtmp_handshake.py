from __future__ import annotations

import asyncio
import os

import pytest

from mediaplane.kit.rtmp import RtmpConnectionError, RtmpProtocolError
from mediaplane.kit.rtmp.handshake import HANDSHAKE_SIZE, client_handshake


async def run_against(server_side: object) -> bytes:
    """Run the client handshake against ``server_side(reader, writer)``; returns what the client sent."""
    received = bytearray()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            received.extend(await server_side(reader, writer))  # type: ignore[operator]
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            await client_handshake(reader, writer)
        finally:
            writer.close()
        await asyncio.sleep(0.05)
    finally:
        server.close()
        await server.wait_closed()
    return bytes(received)


async def test_simple_handshake() -> None:
    s1 = b"\x00\x00\x01\x00" + b"\x00" * 4 + os.urandom(HANDSHAKE_SIZE - 8)

    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        c0c1 = await reader.readexactly(1 + HANDSHAKE_SIZE)
        writer.write(b"\x03" + s1 + c0c1[1:])  # S0, S1, S2 (C1 echoed)
        await writer.drain()
        c2 = await reader.readexactly(HANDSHAKE_SIZE)
        return c0c1 + c2

    sent = await run_against(server)
    c0, c1, c2 = sent[0], sent[1 : 1 + HANDSHAKE_SIZE], sent[1 + HANDSHAKE_SIZE :]
    assert c0 == 3
    assert c1[4:8] == b"\x00\x00\x00\x00"  # no digest handshake
    assert c2[:4] == s1[:4] and c2[8:] == s1[8:]  # S1 echoed, as FFmpeg's server checks


async def test_wrong_version() -> None:
    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        await reader.readexactly(1 + HANDSHAKE_SIZE)
        writer.write(b"HTTP/1.1 400 Bad Request\r\n" + b"x" * 2000)
        await writer.drain()
        return b""

    with pytest.raises(RtmpProtocolError, match="version"):
        await run_against(server)


async def test_server_hangs_up() -> None:
    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        await reader.readexactly(1 + HANDSHAKE_SIZE)
        writer.write(b"\x03" + b"\x00" * 100)
        await writer.drain()
        return b""

    with pytest.raises(RtmpConnectionError, match="handshake"):
        await run_against(server)
