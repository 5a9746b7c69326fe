"""Real RTMP peers for the kit.rtmp tests: nginx-rtmp, FFmpeg publishers and receivers, TCP/TLS proxies, PyAV checks."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
from tests.fixtures.required import require_or_skip
from tests.fixtures.servers import free_port, listening

from mediaplane.kit.ffmpeg import find_ffmpeg
from mediaplane.kit.rtmp import Message, SinkState

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")


# -- waiting --------------------------------------------------------------------------------------


async def eventually(predicate: Callable[[], Any], within: float = 20.0, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it is truthy (the deadline only bounds a failing test)."""
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


async def until_listening(port: int) -> None:
    await eventually(lambda: listening(port))


# -- nginx-rtmp -----------------------------------------------------------------------------------


@dataclass
class NginxRtmp:
    """One nginx-rtmp in the foreground, one process (so a kill takes it down at once)."""

    root: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def records(self) -> Path:
        return self.root / "records"

    def url(self, app: str, key: str) -> str:
        return f"rtmp://127.0.0.1:{self.port}/{app}/{key}"

    def record(self, key: str) -> Path:
        return self.records / f"{key}.flv"

    def write_config(self) -> Path:
        self.records.mkdir(parents=True, exist_ok=True)
        user = "user root;" if os.geteuid() == 0 else ""
        conf = self.root / "nginx.conf"
        conf.write_text(
            f"""load_module {RTMP_MODULE};
{user}
daemon off;
master_process off;
pid {self.root / "nginx.pid"};
error_log {self.root / "error.log"} info;
events {{}}
rtmp {{
  server {{
    listen 127.0.0.1:{self.port};
    application live {{ live on; }}
    application notify {{ live on; publish_notify on; }}
    application recv {{ live on; record all; record_path {self.records}; record_unique off; }}
  }}
}}
"""
        )
        return conf

    async def start(self) -> NginxRtmp:
        conf = self.write_config()
        self.process = spawn([NGINX, "-p", str(self.root), "-c", str(conf), "-e", str(self.root / "error.log")])
        try:
            await eventually(lambda: listening(self.port) or self.process is None or self.process.poll() is not None)
        except AssertionError:
            self.stop()
            raise
        if self.process.poll() is not None:
            raise RuntimeError(f"nginx did not start: {self.log()}")
        return self

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        path = self.root / "error.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def spawn(argv: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def require_nginx_rtmp() -> None:
    if not (os.access(NGINX, os.X_OK) and RTMP_MODULE.is_file()):
        require_or_skip("nginx with the RTMP module")


# -- FFmpeg ---------------------------------------------------------------------------------------


def publisher(
    url: str, seconds: float = 4.0, *, gop: int = 25, quality: list[str] | None = None
) -> subprocess.Popen[bytes]:
    """FFmpeg publishing a 320x240 test pattern and a tone in real time (H.264 + AAC in FLV)."""
    argv = [
        find_ffmpeg(),
        *("-hide_banner", "-loglevel", "error", "-nostdin", "-re"),
        *("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440"),
        *("-t", f"{seconds:g}", "-c:v", "libx264", "-preset", "ultrafast", "-g", str(gop), "-pix_fmt", "yuv420p"),
        *(quality or []),
        *("-c:a", "aac", "-b:a", "64k", "-f", "flv", url),
    ]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_flv(path: Path, seconds: float = 2.0) -> Path:
    """An FLV file of the test pattern and tone, written as fast as FFmpeg can."""
    argv = [
        find_ffmpeg(),
        *("-hide_banner", "-loglevel", "error", "-nostdin"),
        *("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440"),
        *("-t", f"{seconds:g}", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p"),
        *("-c:a", "aac", "-b:a", "64k", "-y", str(path)),
    ]
    subprocess.run(argv, check=True, capture_output=True, timeout=60)
    return path


@dataclass
class FFmpegReceiver:
    """``ffmpeg -listen 1 -i rtmp://127.0.0.1:PORT/app/key -c copy out.flv``: takes one publisher."""

    out: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"rtmp://127.0.0.1:{self.port}/app/key"

    async def start(self) -> FFmpegReceiver:
        argv = [find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-nostdin", "-listen", "1"]
        argv += ["-i", self.url, "-c", "copy", "-y", str(self.out)]
        self.process = spawn(argv)
        await until_listening(self.port)
        return self

    async def finished(self, within: float = 20.0) -> int:
        assert self.process is not None
        await eventually(lambda: self.process is not None and self.process.poll() is not None, within)
        return self.process.returncode

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- FLV files ------------------------------------------------------------------------------------


def flv_messages(path: Path) -> list[Message]:
    """The tags of an FLV file as RTMP messages (type, timestamp, body)."""
    data = path.read_bytes()
    assert data[:3] == b"FLV"
    offset = int.from_bytes(data[5:9], "big") + 4
    messages = []
    while offset + 11 <= len(data):
        type_id = data[offset]
        size = int.from_bytes(data[offset + 1 : offset + 4], "big")
        timestamp = int.from_bytes(data[offset + 4 : offset + 7], "big") | (data[offset + 7] << 24)
        body = data[offset + 11 : offset + 11 + size]
        messages.append(Message(type_id, 1, timestamp, body))
        offset += 11 + size + 4
    return messages


@dataclass
class Probe:
    video_codec: str | None
    audio_codec: str | None
    video_frames: int
    audio_frames: int
    first_video_is_key: bool
    monotonic: bool
    """Decode timestamps never go back, per stream."""
    first_timestamp: float | None
    """Seconds, the earliest packet."""
    duration: float
    """Seconds between the first and the last video packet."""


def probe(path: Path) -> Probe:
    """Decode every packet of ``path`` with PyAV; any decoding error fails the test."""
    video_codec = audio_codec = None
    counts = {"video": 0, "audio": 0}
    last: dict[str, int] = {}
    first_key: bool | None = None
    monotonic = True
    first_ts: float | None = None
    video_span: list[float] = []
    with av.open(str(path)) as container:
        for stream in container.streams:
            if stream.type == "video":
                video_codec = stream.codec_context.name
            elif stream.type == "audio":
                audio_codec = stream.codec_context.name
        for packet in container.demux():
            if packet.dts is None or packet.stream.type not in counts:
                continue
            kind = packet.stream.type
            if kind in last and packet.dts < last[kind]:
                monotonic = False
            last[kind] = packet.dts
            seconds = float(packet.dts * packet.time_base)
            first_ts = seconds if first_ts is None else min(first_ts, seconds)
            if kind == "video":
                if first_key is None:
                    first_key = packet.is_keyframe
                video_span.append(seconds)
            for _frame in packet.decode():
                counts[kind] += 1
    return Probe(
        video_codec=video_codec,
        audio_codec=audio_codec,
        video_frames=counts["video"],
        audio_frames=counts["audio"],
        first_video_is_key=bool(first_key),
        monotonic=monotonic,
        first_timestamp=first_ts,
        duration=(video_span[-1] - video_span[0]) if video_span else 0.0,
    )


# -- proxies --------------------------------------------------------------------------------------


@dataclass
class _Link:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter
    frozen: bool = False


class Proxy:
    """A TCP proxy to ``target_port`` (TLS on its side when given ``tls``). :meth:`freeze` makes it hang
    like a receiver that stopped reading: the client's connections stay open and are never read again,
    while nginx sees them go (so it frees their stream names). New connections work as before."""

    def __init__(self, target_port: int, *, tls: ssl.SSLContext | None = None) -> None:
        self.target_port = target_port
        self.tls = tls
        self.port = free_port()
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._links: list[_Link] = []
        self._handlers: set[asyncio.Task[Any]] = set()
        self._closing = asyncio.Event()

    async def start(self) -> Proxy:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a hung receiver fills up fast
        sock.bind(("127.0.0.1", self.port))
        self._server = await asyncio.start_server(self._serve, sock=sock, ssl=self.tls)
        return self

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.accepted += 1
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        link = _Link(client_writer, upstream_writer)
        self._links.append(link)
        pipes = [
            asyncio.create_task(self._pipe(client_reader, upstream_writer, link)),
            asyncio.create_task(self._pipe(upstream_reader, client_writer, None)),
        ]
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
            if link.frozen:
                await self._closing.wait()  # the client's side stays open, unread
        finally:
            for pipe in pipes:
                pipe.cancel()
            client_writer.transport.abort()
            upstream_writer.transport.abort()
            self._handlers.discard(task)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, link: _Link | None) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                if link is not None and link.frozen:
                    link.client.transport.pause_reading()
                    return
                writer.write(data)
                await writer.drain()

    def freeze(self) -> None:
        """Stop reading from every connection made so far, and let their upstream side go."""
        for link in self._links:
            link.frozen = True
            link.client.transport.pause_reading()
            link.upstream.transport.abort()

    async def close(self) -> None:
        self._closing.set()
        if self._server is not None:
            self._server.close()
        for link in self._links:
            link.client.transport.abort()
            link.upstream.transport.abort()
        if self._handlers:
            await asyncio.wait(list(self._handlers), timeout=2)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)


# -- relay states ---------------------------------------------------------------------------------


class StateLog:
    """Every ``on_state`` call, for assertions on the sequence of a sink's statuses."""

    def __init__(self) -> None:
        self.calls: list[tuple[SinkState, SinkState | None]] = []

    async def __call__(self, state: SinkState, previous: SinkState | None) -> None:
        self.calls.append((state, previous))

    def of(self, sink_id: str) -> list[SinkState]:
        return [state for state, _ in self.calls if state.id == sink_id]

    def statuses(self, sink_id: str) -> list[str]:
        """The sink's statuses in order, repeats (statistics reports) collapsed."""
        out: list[str] = []
        for state in self.of(sink_id):
            if not out or out[-1] != state.status:
                out.append(state.status)
        return out

    def latest(self, sink_id: str) -> SinkState | None:
        states = self.of(sink_id)
        return states[-1] if states else None


# -- a scripted RTMP server -----------------------------------------------------------------------


class ScriptedServer:
    """A minimal RTMP server for protocol corners nginx does not show: it answers connect, createStream,
    play and publish as told, can send a window size and a ping, and keeps every message it receives."""

    def __init__(
        self,
        *,
        connect_error: dict[str, Any] | None = None,
        publish_status: str = "NetStream.Publish.Start",
        window: int | None = None,
        ping: int | None = None,
        media: list[Message] | None = None,
        end_with: str | None = None,
        port: int = 0,
    ) -> None:
        self.connect_error = connect_error
        self.publish_status = publish_status
        self.window = window
        self.ping = ping
        self.media = media or []
        self.end_with = end_with
        self.received: list[Message] = []
        self.port = port
        self._server: asyncio.Server | None = None

    async def start(self) -> ScriptedServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def url(self, app: str = "app", key: str = "key") -> str:
        return f"rtmp://127.0.0.1:{self.port}/{app}/{key}"

    def commands(self) -> list[list[Any]]:
        from mediaplane.kit.rtmp.amf0 import decode

        return [decode(m.payload) for m in self.received if m.type_id == 20]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        from mediaplane.kit.rtmp import ChunkReader
        from mediaplane.kit.rtmp.amf0 import decode, encode
        from mediaplane.kit.rtmp.chunks import encode_message

        def send(message: Message, csid: int = 3) -> None:
            writer.write(encode_message(message, 128, csid))

        def command(*values: Any, stream_id: int = 0) -> None:
            send(Message(20, stream_id, 0, encode(*values)))

        def status(code: str, level: str = "status") -> None:
            command("onStatus", 0, None, {"level": level, "code": code, "description": code}, stream_id=1)

        try:
            c0c1 = await reader.readexactly(1 + 1536)
            writer.write(b"\x03" + os.urandom(1536) + c0c1[1:])
            await reader.readexactly(1536)
            chunks = ChunkReader()
            while data := await reader.read(65536):
                for message in chunks.feed(data):
                    self.received.append(message)
                    if message.type_id != 20:
                        continue
                    name, transaction, *_ = decode(message.payload)
                    if name == "connect":
                        if self.window:
                            send(Message(5, 0, 0, self.window.to_bytes(4, "big")), 2)
                        if self.connect_error is not None:
                            command("_error", transaction, None, self.connect_error)
                        else:
                            success = {"code": "NetConnection.Connect.Success"}
                            command("_result", transaction, {"fmsVer": "test"}, success)
                    elif name == "createStream":
                        command("_result", transaction, None, 1.0)
                    elif name == "publish":
                        level = "error" if "BadName" in self.publish_status else "status"
                        status(self.publish_status, level)
                    elif name == "play":
                        status("NetStream.Play.Start")
                        if self.ping is not None:
                            send(Message(4, 0, 0, (6).to_bytes(2, "big") + self.ping.to_bytes(4, "big")), 2)
                        for item in self.media:
                            send(item, 6)
                        if self.end_with is not None:
                            status(self.end_with)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
