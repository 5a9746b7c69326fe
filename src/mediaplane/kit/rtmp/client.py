"""An RTMP client connection over asyncio streams (TCP, or TLS for ``rtmps://``): publish or play one stream.

    conn = await RtmpConnection.open("rtmp://127.0.0.1:1935/live/key")
    await conn.play()
    while (message := await conn.read()) is not None:
        ...                       # audio, video and data messages, as the server sent them
    await conn.close()

    conn = await RtmpConnection.open("rtmps://live.example.com/app/key", ssl_context=ctx)
    await conn.publish()
    conn.send(Message(VIDEO, conn.stream_id, 40, payload))
    await conn.drain()

Protocol control (chunk size, acknowledgements, window sizes, pings) is handled inside; a publishing
connection reads what the server sends in a background task, so pings are answered and a refusal or
a closed connection surfaces in :meth:`drain`, :attr:`failure` and the ``on_lost`` callback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl as ssl_module
from collections import deque
from collections.abc import Callable
from typing import Any, Final, cast

from mediaplane.kit.rtmp import messages as m
from mediaplane.kit.rtmp.chunks import ChunkReader, ChunkWriter, Message
from mediaplane.kit.rtmp.errors import RtmpConnectionError, RtmpError, RtmpProtocolError
from mediaplane.kit.rtmp.handshake import client_handshake
from mediaplane.kit.rtmp.media import split_aggregate
from mediaplane.kit.rtmp.url import RtmpUrl, parse_rtmp_url

__all__ = ["FLASH_VERSION", "RtmpConnection"]

log = logging.getLogger(__name__)

FLASH_VERSION: Final = "FMLE/3.0 (compatible; mediaplane)"
DEFAULT_OUT_CHUNK_SIZE: Final = 4096
READ_SIZE: Final = 64 * 1024
END_OF_STREAM: Final = frozenset(
    {"NetStream.Play.Stop", "NetStream.Play.UnpublishNotify", "NetStream.Play.Complete", "NetStream.Unpublish.Success"}
)
_PLAYED: Final = frozenset({m.AUDIO, m.VIDEO, m.DATA_AMF0, m.DATA_AMF3})
_RECEIVING: Final = frozenset({"play", "receive"})
"""Modes in which the stream's media comes to us: playing, or (server side) taking a publish."""


class RtmpConnection:
    """One client connection. Make it with :meth:`open`, then :meth:`publish` or :meth:`play`."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        url: RtmpUrl,
        *,
        chunk_size: int = DEFAULT_OUT_CHUNK_SIZE,
    ) -> None:
        self.url = url
        self.stream_id = 0
        self.end_reason: str | None = None
        """Why the stream ended: an onStatus code, "StreamEOF", or "closed by the server"."""
        self.server_info: dict[str, Any] = {}
        """The connect result's info object (``code``, ``description``, ``fmsVer`` …)."""
        self.on_lost: Callable[[], None] | None = None
        """Called when a publishing connection stops reading: the server closed it, or refused the stream."""
        self._reader = reader
        self._writer = writer
        self._chunks_in = ChunkReader()
        self._chunks_out = ChunkWriter(chunk_size)
        self._out_chunk_size = chunk_size
        self._media: deque[Message] = deque()
        self._results: dict[float, m.Command] = {}
        self._statuses: deque[m.Command] = deque(maxlen=64)
        self._failure: RtmpError | None = None
        self._transaction = 0
        self._ignored: set[float] = set()
        self._received = 0
        self._acked = 0
        self._ack_window = 0
        self._mode: str | None = None
        self._had_media = False
        self._background: asyncio.Task[None] | None = None
        self._closed = False
        self._name = url.name
        self._raw: socket.socket | None = None

    # -- opening ---------------------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        url: str | RtmpUrl,
        *,
        app: str | None = None,
        ssl_context: ssl_module.SSLContext | None = None,
        connect_timeout: float = 10.0,
        chunk_size: int = DEFAULT_OUT_CHUNK_SIZE,
        flash_version: str = FLASH_VERSION,
        send_buffer: int | None = None,
    ) -> RtmpConnection:
        """Connect (TCP or TLS), shake hands and send ``connect``; raises an RtmpError on any failure.

        ``rtmps://`` verifies the server's certificate against the system's trust store unless an
        ``ssl_context`` says otherwise; ``app`` splits a URL whose application has several segments.
        ``send_buffer`` caps the socket's send buffer (bytes; the operating system's autotuning otherwise).
        """
        target = url if isinstance(url, RtmpUrl) else parse_rtmp_url(url, app=app)
        tls: ssl_module.SSLContext | None = None
        if target.tls:
            tls = ssl_context or ssl_module.create_default_context()
        try:
            async with asyncio.timeout(connect_timeout):
                try:
                    reader, writer = await asyncio.open_connection(
                        target.host, target.port, ssl=tls, server_hostname=target.host if tls else None
                    )
                except ssl_module.SSLError as exc:
                    raise RtmpConnectionError(f"TLS with {target.host}:{target.port} failed: {exc}") from exc
                except OSError as exc:
                    raise RtmpConnectionError(
                        f"cannot connect to {target.host}:{target.port}: {exc.strerror or exc}"
                    ) from exc
                if send_buffer is not None:
                    sock = writer.get_extra_info("socket")
                    if sock is not None:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
                connection = cls(reader, writer, target, chunk_size=chunk_size)
                try:
                    await client_handshake(reader, writer)
                    await connection._connect(flash_version)
                except BaseException:
                    connection.abort()
                    raise
        except TimeoutError as exc:
            raise RtmpConnectionError(
                f"no RTMP session with {target.host}:{target.port} within {connect_timeout:g}s"
            ) from exc
        return connection

    async def _connect(self, flash_version: str) -> None:
        self.send(m.set_chunk_size(self._out_chunk_size))
        self._chunks_out.chunk_size = self._out_chunk_size
        obj = {"app": self.url.app, "type": "nonprivate", "flashVer": flash_version, "tcUrl": self.url.tc_url}
        result = await self._call("connect", obj, doing="connect")
        self.server_info = result.info

    # -- publish / play --------------------------------------------------------------------------

    async def publish(self, name: str | None = None, *, wait: float = 10.0) -> int:
        """Start publishing ``name`` (the URL's stream name by default) as a live stream; returns the stream id."""
        name = self._name = name if name is not None else self.url.name
        async with self._timeout(wait, "publish"):
            for command in ("releaseStream", "FCPublish"):
                # Answered by some servers, ignored by others (nginx-rtmp): never waited for.
                self._ignored.add(self._send_command(command, None, name))
            self.stream_id = await self._create_stream()
            self._send_command("publish", None, name, "live", stream_id=self.stream_id)
            await self._until_status("NetStream.Publish.Start", doing=f"publishing {name!r}")
        self._mode = "publish"
        self._background = asyncio.create_task(self._read_in_background(), name=f"rtmp-in {self.url.redacted()}")
        return self.stream_id

    async def play(
        self, name: str | None = None, *, buffer_ms: int = 3000, wait: float = 10.0, wait_start: bool = True
    ) -> int:
        """Start playing ``name`` (the URL's stream name by default); returns the stream id.

        With ``wait_start`` it returns once the server says ``NetStream.Play.Start``; media that
        arrives earlier is kept for :meth:`read`.
        """
        name = name if name is not None else self.url.name
        async with self._timeout(wait, "play"):
            self.stream_id = await self._create_stream()
            self._send_command("play", None, name, -2000.0, stream_id=self.stream_id)
            self.send(m.user_control(m.SET_BUFFER_LENGTH, self.stream_id, buffer_ms))
            await self._flush()
            self._mode = "play"
            if wait_start:
                await self._until_status("NetStream.Play.Start", doing=f"playing {name!r}")
        return self.stream_id

    async def read(self) -> Message | None:
        """The next audio, video or data message of the stream being played; None once the stream ended.

        Aggregate messages come split into their parts. The end is an end-of-stream status
        (``NetStream.Play.UnpublishNotify``, ``.Stop``, ``.Complete``, nginx-rtmp's StreamEOF) or the
        server closing the connection; :attr:`end_reason` says which. An error status raises RtmpError.
        """
        if not self._media and not await self._fill():
            return None
        return self._media.popleft()

    async def read_batch(self) -> list[Message]:
        """Every message received so far (waiting for one at least); an empty list once the stream ended."""
        if not self._media and not await self._fill():
            return []
        batch = list(self._media)
        self._media.clear()
        return batch

    async def _fill(self) -> bool:
        """Read until a message is there; False at the end of the stream."""
        while not self._media:
            if self._failure is not None:
                raise self._failure
            if self.end_reason is not None or self._closed:
                return False
            try:
                await self._receive()
            except RtmpConnectionError:
                if self._closed:
                    return False
                raise
        return True

    def detach_reading(self) -> None:
        """Read the played stream only through :meth:`poll` from now on (plain TCP only).

        The transport stops reading; :meth:`poll` takes what the socket holds straight from the
        kernel, without a task, a future or a wake-up per packet: a process relaying many streams
        reads them all on one timer (:class:`~mediaplane.kit.rtmp.poller.Poller`).
        """
        transport = cast(asyncio.Transport, self._writer.transport)  # uvloop's is not a subclass
        sock = transport.get_extra_info("socket")
        if sock is None or transport.get_extra_info("sslcontext") is not None:
            raise RtmpConnectionError("only a plain TCP connection can be polled")
        if self._raw is not None:
            return
        try:
            raw = socket.fromfd(sock.fileno(), sock.family, sock.type)
        except OSError as exc:  # closed under us (the peer left, or it was aborted)
            raise RtmpConnectionError(f"the connection to {self.url.host} was lost: {exc}") from exc
        transport.pause_reading()
        raw.setblocking(False)
        self._raw = raw
        # What the stream reader already holds came first. It has no public way to hand it over.
        held: bytearray = self._reader._buffer  # type: ignore[attr-defined]
        if held:
            pending = bytes(held)
            held.clear()
            self._take(pending)
        if self._reader.at_eof():
            self._at_eof()

    def poll(self) -> bool:
        """Handle what the socket holds, without waiting (after :meth:`detach_reading`); the media
        messages wait for :meth:`take_media`. False once the stream ended (it may leave media)."""
        raw = self._raw
        if raw is None:
            raise RuntimeError("poll() needs detach_reading() first")
        while self.end_reason is None and not self._closed:
            try:
                data = raw.recv(READ_SIZE)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                raise RtmpConnectionError(f"the connection to {self.url.host} was lost: {exc}") from exc
            if not data:
                self._at_eof()
                break
            self._take(data)
            if len(data) < READ_SIZE:
                break
        if self._failure is not None:
            raise self._failure
        return self.end_reason is None and not self._closed

    def take_media(self) -> list[Message]:
        """The media messages :meth:`poll` received, in order."""
        batch = list(self._media)
        self._media.clear()
        return batch

    # -- writing ---------------------------------------------------------------------------------

    def send(self, message: Message, csid: int | None = None) -> None:
        """Queue ``message`` for sending (see :meth:`drain`)."""
        self.write_bytes(self._chunks_out.encode(message, csid if csid is not None else m.csid_for(message)))

    def write_bytes(self, data: bytes) -> None:
        """Queue chunk bytes made at this connection's chunk size (:func:`encode_message`)."""
        if self._failure is not None:
            raise self._failure
        if self._closed or self._writer.transport.is_closing():
            raise RtmpConnectionError("the RTMP connection is closed")
        self._writer.write(data)

    async def drain(self) -> None:
        """Wait until the socket takes what was sent; raises when the connection failed."""
        await self._flush()
        if self._failure is not None:
            raise self._failure

    @property
    def congested(self) -> bool:
        """Whether more is waiting than the socket takes (above the transport's high-water mark):
        :meth:`drain` would wait."""
        transport = self._writer.transport
        return transport.get_write_buffer_size() > transport.get_write_buffer_limits()[1]

    # -- closing ---------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def failure(self) -> RtmpError | None:
        """Why a publishing connection can no longer be used (None while it can)."""
        return self._failure

    async def close(self, *, grace: float = 2.0) -> None:
        """End the stream politely (FCUnpublish/deleteStream), flush, and close; never raises."""
        if self._closed:
            return
        try:
            if self.stream_id and not self._writer.transport.is_closing():
                if self._mode == "publish":
                    self._send_command("FCUnpublish", None, self._name)
                self._send_command("deleteStream", None, float(self.stream_id))
            self._closed = True
            self._close_raw()
            self._writer.close()
            async with asyncio.timeout(grace):
                await self._writer.wait_closed()
        except (OSError, RtmpError, TimeoutError, ssl_module.SSLError) as exc:
            log.debug("closing %s: %s", self.url.redacted(), exc)
            self._writer.transport.abort()
        finally:
            self._closed = True
            self._close_raw()
            await self._stop_background()

    def abort(self) -> None:
        """Drop the connection at once, unsent data included (a receiver that stopped reading)."""
        self._closed = True
        self._close_raw()
        self._writer.transport.abort()
        if self._background is not None:
            self._background.cancel()

    def _close_raw(self) -> None:
        # The polled socket is a second descriptor of the connection: it stays open until both close.
        if self._raw is not None:
            self._raw.close()

    async def _stop_background(self) -> None:
        if self._background is not None and not self._background.done():
            self._background.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._background

    # -- commands --------------------------------------------------------------------------------

    def _send_command(self, name: str, obj: Any, *args: Any, stream_id: int = 0) -> float:
        self._transaction += 1
        transaction = float(self._transaction)
        self.send(m.Command(name, transaction, obj, args).message(stream_id))
        return transaction

    async def _call(self, name: str, obj: Any, *args: Any, doing: str) -> m.Command:
        transaction = self._send_command(name, obj, *args)
        await self._flush()
        await self._until(lambda: transaction in self._results)
        result = self._results.pop(transaction)
        if result.name == "_error":
            raise RtmpError.from_status(result.info, doing=doing)
        return result

    async def _create_stream(self) -> int:
        result = await self._call("createStream", None, doing="createStream")
        stream_id = next((arg for arg in result.args if isinstance(arg, float)), None)
        if stream_id is None:
            raise RtmpProtocolError("the createStream result carries no stream id")
        return int(stream_id)

    async def _until_status(self, code: str, *, doing: str) -> None:
        def seen() -> bool:
            while self._statuses:
                status = self._statuses.popleft()
                info = status.info
                if info.get("code") == code:
                    return True
                if info.get("level") == "error" or str(info.get("code", "")).endswith((".BadName", ".Failed")):
                    raise RtmpError.from_status(info, doing=doing)
            return False

        await self._until(seen)

    async def _until(self, done: Callable[[], bool]) -> None:
        while not done():
            if self._failure is not None:
                raise self._failure
            if self.end_reason is not None:
                raise RtmpConnectionError(f"the server ended the stream ({self.end_reason})")
            await self._receive()

    def _timeout(self, seconds: float, doing: str) -> contextlib.AbstractAsyncContextManager[None]:
        @contextlib.asynccontextmanager
        async def guard() -> Any:
            try:
                async with asyncio.timeout(seconds):
                    yield
            except TimeoutError as exc:
                raise RtmpConnectionError(f"{doing}: no answer from {self.url.redacted()} within {seconds:g}s") from exc

        return guard()

    # -- reading ---------------------------------------------------------------------------------

    async def _flush(self) -> None:
        try:
            await self._writer.drain()
        except (OSError, ssl_module.SSLError) as exc:
            raise RtmpConnectionError(f"the connection to {self.url.host} was lost: {exc}") from exc

    async def _receive(self) -> None:
        """Read what the socket has and handle every whole message in it."""
        try:
            data = await self._reader.read(READ_SIZE)
        except (OSError, ssl_module.SSLError) as exc:
            raise RtmpConnectionError(f"the connection to {self.url.host} was lost: {exc}") from exc
        if not data:
            self._at_eof()
            raise RtmpConnectionError(f"{self.url.redacted()} closed the connection")
        self._take(data)

    def _at_eof(self) -> None:
        if self.end_reason is None:
            self.end_reason = "closed" if self._closed else "closed by the server"

    def _take(self, data: bytes) -> None:
        self._received += len(data)
        for message in self._chunks_in.feed(data):
            self._handle(message)
        if self._ack_window and self._received - self._acked >= self._ack_window // 2:
            # Acknowledge at half the window, as librtmp does, so a strict server never waits on us.
            self._acked = self._received
            with contextlib.suppress(RtmpError):
                self.send(m.acknowledgement(self._received))

    def _handle(self, message: Message) -> None:
        type_id = message.type_id
        if type_id in _PLAYED:
            if self._mode in _RECEIVING:
                self._media.append(message)
                self._had_media = True
        elif type_id == m.AGGREGATE:
            if self._mode in _RECEIVING:
                self._media.extend(split_aggregate(message))
                self._had_media = True
        elif type_id in (m.COMMAND_AMF0, m.COMMAND_AMF3):
            self._on_command(m.parse_command(message))
        elif type_id == m.USER_CONTROL:
            self._on_user_control(message.payload)
        elif type_id == m.WINDOW_ACK_SIZE:
            self._ack_window = m.read_u32(message)
        # Set Chunk Size and Abort are applied by the chunk reader; acknowledgements and
        # Set Peer Bandwidth need nothing from a client.

    def _on_user_control(self, payload: bytes) -> None:
        if len(payload) < 6:
            return
        event = int.from_bytes(payload[:2], "big")
        value = int.from_bytes(payload[2:6], "big")
        if event == m.PING_REQUEST:
            with contextlib.suppress(RtmpError):
                self.send(m.user_control(m.PING_RESPONSE, value))
        elif event == m.STREAM_EOF and self._mode == "play" and value == self.stream_id and self._had_media:
            # nginx-rtmp's only sign, by default, that the publisher left (no status unless
            # publish_notify or play_restart is on); the connection stays open for the next one.
            self.end_reason = "StreamEOF"

    def _on_command(self, command: m.Command) -> None:
        if command.name in ("_result", "_error"):
            if command.transaction in self._ignored:
                self._ignored.discard(command.transaction)
            else:
                self._results[command.transaction] = command
        elif command.name == "onStatus":
            info = command.info
            code = str(info.get("code", ""))
            log.debug("%s: onStatus %s %s", self.url.redacted(), code, info.get("description", ""))
            if code in END_OF_STREAM:
                self.end_reason = code
            elif self._mode is not None and info.get("level") == "error":
                self._failure = RtmpError.from_status(info, doing="the stream")
            self._statuses.append(command)
        elif command.name == "close":
            self.end_reason = "closed by the server"

    async def _read_in_background(self) -> None:
        try:
            while self._failure is None and self.end_reason is None:
                await self._receive()
        except RtmpError as exc:
            if not self._closed:
                self._failure = exc
        finally:
            if self._failure is None and not self._closed:
                self._failure = RtmpConnectionError(f"{self.url.redacted()} ended the stream ({self.end_reason})")
            if self.on_lost is not None:
                self.on_lost()
