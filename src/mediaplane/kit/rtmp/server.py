"""The server side of RTMP publishing: take a publisher's stream in this process, without a second hop.

    async def admit(request: PublishRequest) -> str | None:   # None lets it in, a text refuses it
        ...
    async def on_stream(stream: PublishedStream) -> None:     # returns when the caller is done with it
        await poller_for(0.2).follow(stream, deliver)

    server = await PublishServer.start("127.0.0.1", 1935, admit=admit, on_stream=on_stream)
    ...
    await server.close()

A published stream is read like a played one (:meth:`RtmpConnection.poll` on a shared tick, or
:meth:`RtmpConnection.read_batch`): the media messages as the publisher sent them. ``FCUnpublish``,
``deleteStream`` or the connection closing end it. Playing is not served here.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import ssl
import struct
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qsl

from mediaplane.kit.rtmp import messages as m
from mediaplane.kit.rtmp.chunks import Message
from mediaplane.kit.rtmp.client import RtmpConnection
from mediaplane.kit.rtmp.errors import RtmpError
from mediaplane.kit.rtmp.handshake import server_handshake
from mediaplane.kit.rtmp.url import RtmpUrl

__all__ = ["PublishRequest", "PublishServer", "PublishedStream"]

log = logging.getLogger(__name__)

WINDOW: Final = 2_500_000
"""The acknowledgement window and peer bandwidth we announce, as nginx-rtmp does by default."""
STREAM_ID: Final = 1
SETUP_TIMEOUT: Final = 10.0
"""Seconds from accepting a connection to its publish (handshake, connect, createStream, publish)."""
_ENDING: Final = frozenset({"FCUnpublish", "deleteStream", "closeStream"})
_ANSWERED: Final = frozenset({"releaseStream", "FCPublish", "_checkbw", "getStreamLength"})


@dataclass(frozen=True)
class PublishRequest:
    app: str
    name: str
    """The stream name without its query: the stream key."""
    args: dict[str, str] = field(default_factory=dict)
    """The query of the stream name (``key?token=…``)."""
    tc_url: str = ""
    addr: str = ""
    client_id: str = ""
    """This server's number for the connection, unique while it runs."""


Admit = Callable[[PublishRequest], Awaitable[str | None]]
OnStream = Callable[["PublishedStream"], Awaitable[None]]


class PublishedStream(RtmpConnection):
    """A publisher's connection, server side; see the module docs."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, url: RtmpUrl) -> None:
        super().__init__(reader, writer, url)
        self.request: PublishRequest | None = None
        self._commands: deque[m.Command] = deque()

    def _on_command(self, command: m.Command) -> None:
        if self._mode == "receive":
            if command.name in _ENDING and self.end_reason is None:
                self.end_reason = command.name
            return
        self._commands.append(command)

    async def _setup(self, admit: Admit, addr: str, client_id: str) -> None:
        """Answer the publisher's commands up to its publish; ``request`` is set once it is admitted."""
        app, tc_url = "", ""
        while True:
            while not self._commands:
                await self._receive()
            command = self._commands.popleft()
            if command.name == "connect":
                obj = command.obj if isinstance(command.obj, dict) else {}
                app, tc_url = str(obj.get("app", "")).strip("/"), str(obj.get("tcUrl", ""))
                self._connected()
                info = _status("NetConnection.Connect.Success", "Connection succeeded.")
                self._answer(command, {"fmsVer": "FMS/3,0,1,123", "capabilities": 31.0}, info)
            elif command.name == "createStream":
                self._answer(command, None, float(STREAM_ID))
            elif command.name == "publish":
                await self._publish(command, admit, PublishRequest(app, "", {}, tc_url, addr, client_id))
                return
            elif command.name == "play":
                self.send(_on_status(STREAM_ID, "error", "NetStream.Play.Failed", "this server takes publishers only"))
                await self.drain()
                return
            elif command.name in _ANSWERED:
                self._answer(command, None)
            await self.drain()

    def _connected(self) -> None:
        self.send(m.window_ack_size(WINDOW))
        self.send(Message(m.SET_PEER_BANDWIDTH, 0, 0, struct.pack(">IB", WINDOW, 2)))
        self.send(m.set_chunk_size(self._out_chunk_size))
        self._chunks_out.chunk_size = self._out_chunk_size

    async def _publish(self, command: m.Command, admit: Admit, connection: PublishRequest) -> None:
        raw = command.args[0] if command.args and isinstance(command.args[0], str) else ""
        name, _, query = raw.partition("?")
        request = dataclasses.replace(connection, name=name, args=dict(parse_qsl(query)))
        refusal = "no stream name" if not name else await admit(request)
        stream_id = self.stream_id = STREAM_ID
        if refusal is not None:
            self.send(_on_status(stream_id, "error", "NetStream.Publish.BadName", refusal))
            await self.drain()
            return
        self.request = request  # admitted: from here on the stream goes to on_stream, whatever happens
        self.url = RtmpUrl("rtmp", request.addr or "client", 0, request.app, name)
        self._mode = "receive"
        self.send(m.user_control(m.STREAM_BEGIN, stream_id))
        self.send(_on_status(stream_id, "status", "NetStream.Publish.Start", f"{name} is now published."))
        await self.drain()

    async def close(self, *, grace: float = 2.0) -> None:
        self.stream_id = 0  # the publisher's stream: a server sends it no deleteStream
        await super().close(grace=grace)

    def _answer(self, command: m.Command, obj: Any, *args: Any) -> None:
        self.send(m.Command("_result", command.transaction, obj, args).message())


def _status(code: str, description: str, level: str = "status") -> dict[str, Any]:
    return {"level": level, "code": code, "description": description}


def _on_status(stream_id: int, level: str, code: str, description: str) -> Message:
    return m.Command("onStatus", 0.0, None, (_status(code, description, level),)).message(stream_id)


class PublishServer:
    """Accepts publishers on ``host:port``; each admitted stream goes to ``on_stream`` in its own task."""

    def __init__(self, server: asyncio.Server, admit: Admit, on_stream: OnStream) -> None:
        self._server = server
        self._admit = admit
        self._on_stream = on_stream
        self._tasks: set[asyncio.Task[None]] = set()
        self._ids = itertools.count(1)

    @classmethod
    async def start(
        cls, host: str, port: int, *, admit: Admit, on_stream: OnStream, tls: ssl.SSLContext | None = None
    ) -> PublishServer:
        """Listens on host:port; with ``tls``, for RTMPS."""
        holder: list[PublishServer] = []

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await holder[0]._handle(reader, writer)

        server = await asyncio.start_server(handle, host, port, ssl=tls)
        holder.append(cls(server, admit, on_stream))
        return holder[0]

    @property
    def port(self) -> int:
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        peer = writer.get_extra_info("peername")
        addr = str(peer[0]) if isinstance(peer, tuple) else ""
        stream = PublishedStream(reader, writer, RtmpUrl("rtmp", addr or "client", 0, "", ""))
        try:
            try:
                async with asyncio.timeout(SETUP_TIMEOUT):
                    await server_handshake(reader, writer)
                    await stream._setup(self._admit, addr, str(next(self._ids)))
            except (RtmpError, TimeoutError) as exc:
                log.info("publisher %s: %s", addr, exc)
            if stream.request is not None:
                # Admitted, even if the publisher left before hearing so: its owner ends what admit began.
                await self._on_stream(stream)
        except Exception:
            log.exception("publisher %s: the stream's handler failed", addr)
        finally:
            self._tasks.discard(task)
            await stream.close()
