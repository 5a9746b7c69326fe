"""The ingest of this process: nginx supervised, its publish hooks answered by the services, relays run.

Sessions live here, in the process that runs nginx; other processes reach them through IngestControl
(event bus). State that others read (live or not, output states) is written by the services' handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import socket
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx

from mediaplane.core.ingest.control import CHANNEL
from mediaplane.core.ingest.nginx import (
    AppConfig,
    IngestLayout,
    Nginx,
    NginxSupervisor,
    find_nginx,
    ingest_root,
    render_config,
)
from mediaplane.core.ingest.preview import PreviewMirror, preview_name, preview_url
from mediaplane.core.ingest.session import LiveSession
from mediaplane.core.ingest.spec import IngestHandler, Publish, Refused, SessionEnd, node_name
from mediaplane.core.ingest.taker import PublisherTaker
from mediaplane.kit.security import derive_key

if TYPE_CHECKING:
    from mediaplane.core.runtime import Runtime

log = logging.getLogger(__name__)
MANAGER_KEY = "ingest.manager"
SOURCE_READY_WAIT = 2.0  # seconds a publish waits for its relay to be playing before it is let in


def hook_token(secret: str) -> str:
    return derive_key(secret, "ingest-hooks").hex()[:40]


def handlers_of(runtime: Runtime) -> dict[str, IngestHandler]:
    handlers: dict[str, IngestHandler] = {}
    for spec in runtime.registry:
        if spec.ingest is not None:
            handler = spec.ingest()
            handlers[handler.app] = handler
    return handlers


class IngestManager:
    def __init__(self, runtime: Runtime, handlers: Mapping[str, IngestHandler], nginx: Nginx, http_port: int) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.handlers = dict(handlers)
        self.node = node_name(runtime)
        self.layout = IngestLayout(ingest_root(settings.data_dir))
        self.taker = PublisherTaker(self) if settings.publishers_in_process else None
        self.port = settings.rtmp_port  # nginx's; a free loopback port instead when publishers are taken here
        self.token = hook_token(settings.secret)
        self.hook_base = f"http://127.0.0.1:{http_port}/_ingest/{self.token}"
        self.nginx = nginx
        # A restart of nginx loses its publishers; when they are ours, it loses only previews for a moment.
        self.supervisor = NginxSupervisor(nginx, self.layout, on_restart=None if self.taker else self._lost_all)
        self.sessions: dict[tuple[str, str], LiveSession] = {}
        self._lock = asyncio.Lock()
        self._listener: asyncio.Task[None] | None = None

    @classmethod
    def create(cls, runtime: Runtime, http_port: int) -> IngestManager | None:
        handlers = handlers_of(runtime)
        if not handlers:
            return None
        nginx = find_nginx(runtime.settings.nginx_path, runtime.settings.nginx_modules_dir)
        return cls(runtime, handlers, nginx, http_port)

    # -- life -------------------------------------------------------------------------------------

    async def start(self) -> None:
        settings = self.runtime.settings
        apps = [AppConfig(app, handler.hls) for app, handler in sorted(self.handlers.items())]
        host = settings.rtmp_host or settings.host
        if self.taker is not None:
            self.port = _free_loopback_port()
        config = render_config(
            self.nginx,
            self.layout,
            apps,
            host="127.0.0.1" if self.taker else host,
            port=self.port,
            hook_base=self.hook_base,
            update_seconds=settings.rtmp_heartbeat_seconds,
        )
        self.supervisor.prepare(config)
        for handler in self.handlers.values():  # whatever this node held before is gone
            await handler.reset(self.runtime, self.node)
        await self.supervisor.start()
        if self.taker is not None:
            await self.taker.start(host, settings.rtmp_port)
        self._listener = asyncio.get_running_loop().create_task(self._listen())
        self.runtime.extras[MANAGER_KEY] = self
        log.info("RTMP ingest on %s (apps: %s)", settings.rtmp_base_url, ", ".join(sorted(self.handlers)))

    async def stop(self) -> None:
        self.runtime.extras.pop(MANAGER_KEY, None)
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        if self.taker is not None:
            await self.taker.stop()
        await self.supervisor.stop()
        await self._lost_all("the ingest stopped")

    async def _lost_all(self, message: str = "the ingest restarted") -> None:
        async with self._lock:
            sessions = list(self.sessions.values())
            self.sessions.clear()
        for session in sessions:
            await self._end(session, SessionEnd("lost", message))

    async def _listen(self) -> None:
        while True:
            try:
                async with self.runtime.events.subscribe(CHANNEL) as messages:
                    async for message in messages:
                        await self._control(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("ingest control channel failed; listening again", exc_info=True)
                await asyncio.sleep(1)

    async def _control(self, message: dict[str, Any]) -> None:
        app, key, action = str(message.get("app")), str(message.get("key")), message.get("action")
        if (app, key) not in self.sessions:
            return
        if action == "refresh":
            await self.refresh(app, key)
        elif action == "drop":
            await self.drop(app, key)
        elif action == "preview":
            self.sessions[(app, key)].want_preview(mirror=bool(message.get("mirror")))

    # -- hooks from nginx ---------------------------------------------------------------------------

    def token_ok(self, token: str) -> bool:
        return hmac.compare_digest(token, self.token)

    async def on_publish(self, form: Mapping[str, str]) -> Refused | None:
        return await self.open(_publish(form))

    async def open(self, publish: Publish, *, taken: bool = False) -> Refused | None:
        """Admits a publish and starts its session; ``taken``: the publisher is taken in this process (the
        caller then hands its stream to :meth:`LiveSession.run_source`), else nginx has it."""
        handler = self.handlers.get(publish.app)
        if handler is None or not publish.key:
            return Refused("unknown", "no such application or stream key")
        if (publish.app, publish.key) in self.sessions:
            return Refused("in_use", "this stream key is already live")
        try:
            admission = await handler.admit(self.runtime, publish)
        except Refused as refused:
            log.info("publish to %s refused: %s", publish.app, refused.message)
            return refused
        except Exception:
            log.exception("publish to %s refused: its service failed", publish.app)
            return Refused("invalid", "the service could not admit this publish")
        source = f"rtmp://127.0.0.1:{self.port}/{publish.app}/{publish.key}"
        session = LiveSession(
            self.runtime,
            handler,
            publish.key,
            admission.ref,
            publish.client_id,
            source,
            self._relay_factory(),
            preview_url=preview_url(self.port, self.runtime.settings, publish.app, publish.key)
            if handler.hls
            else None,
            mirror=self._mirror(publish.app, publish.key) if handler.hls else None,
            taken=taken,
        )
        async with self._lock:
            if (publish.app, publish.key) in self.sessions:  # another publisher was let in meanwhile
                return Refused("in_use", "this stream key is already live")
            self.sessions[(publish.app, publish.key)] = session
        session.set_outputs(admission.outputs)
        if not taken:
            await session.source_ready(SOURCE_READY_WAIT)
        return None

    async def on_publish_done(self, form: Mapping[str, str]) -> None:
        await self.done(_publish(form))

    async def done(self, publish: Publish, end: SessionEnd | None = None) -> None:
        """The publisher left: its session ends (unless it was dropped already)."""
        async with self._lock:
            session = self.sessions.get((publish.app, publish.key))
            if session is None or session.client_id != publish.client_id:
                return  # a refused publisher leaving, not the live one
            del self.sessions[(publish.app, publish.key)]
        await self._end(session, end or SessionEnd("done", "the publisher stopped"))

    async def on_update(self, form: Mapping[str, str]) -> bool:
        """The heartbeat of every connection; False drops it. Players are our relays: always fine."""
        if form.get("call") != "update_publish":
            return True
        publish = _publish(form)
        session = self.sessions.get((publish.app, publish.key))
        if session is None or session.client_id != publish.client_id:
            return False
        return await self.still_allowed(session)

    async def still_allowed(self, session: LiveSession) -> bool:
        try:
            return await session.handler.still_allowed(self.runtime, session.key, session.ref)
        except Exception:
            log.exception("heartbeat of %s/%s failed", session.app, session.ref)
            return True  # a database hiccup must not cut a live stream

    # -- control ------------------------------------------------------------------------------------

    async def refresh(self, app: str, key: str) -> None:
        session = self.sessions.get((app, key))
        if session is not None:
            session.set_outputs(await session.handler.outputs(self.runtime, key, session.ref))

    async def drop(self, app: str, key: str) -> None:
        """Disconnects the publisher and ends its session (nginx's publish_done that follows finds none)."""
        async with self._lock:
            session = self.sessions.pop((app, key), None)
        if session is None:
            return
        if not session.taken:  # a publisher taken here goes with its session's relay, in _end
            await self._drop_from_nginx(app, key, session.ref)
        await self._end(session, SessionEnd("dropped", "the stream key or stream changed"))

    async def _drop_from_nginx(self, app: str, key: str, ref: str) -> None:
        transport = httpx.AsyncHTTPTransport(uds=str(self.layout.control_socket))
        try:
            async with httpx.AsyncClient(transport=transport, timeout=5) as client:
                await client.get("http://ingest/control/drop/publisher", params={"app": app, "name": key})
        except httpx.HTTPError:
            log.warning("could not drop the publisher of %s/%s", app, ref, exc_info=True)

    async def _end(self, session: LiveSession, end: SessionEnd) -> None:
        await session.close()
        try:
            await session.handler.ended(self.runtime, session.key, session.ref, end)
        except Exception:
            log.exception("%s could not end session %s", session.app, session.ref)

    def _mirror(self, app: str, key: str) -> PreviewMirror:
        return PreviewMirror(self.runtime.storage, self.layout, app, preview_name(self.runtime.settings, app, key))

    def _relay_factory(self) -> Any:
        """Builds a relay when a session first has outputs (kit.rtmp is imported only then)."""
        settings = self.runtime.settings

        def make(source: str, sinks: Any, on_state: Any, stream: Any = None) -> Any:
            if settings.relay_engine == "ffmpeg":
                from mediaplane.kit.ffmpeg import find_ffmpeg
                from mediaplane.kit.rtmp import FFmpegRelay

                return FFmpegRelay(source, sinks, on_state=on_state, ffmpeg=find_ffmpeg(settings.ffmpeg_path))
            from mediaplane.kit.rtmp import Relay

            interval = settings.relay_read_interval
            return Relay(source, sinks, on_state=on_state, read_interval=interval, source=stream)

        return make


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _publish(form: Mapping[str, str]) -> Publish:
    known = {"call", "name", "app", "addr", "clientid", "type", "flashver", "swfurl", "tcurl", "pageurl"}
    return Publish(
        app=form.get("app", ""),
        key=form.get("name", ""),
        addr=form.get("addr", ""),
        client_id=form.get("clientid", ""),
        args={k: v for k, v in form.items() if k not in known},
    )


def current_manager(runtime: Runtime) -> IngestManager | None:
    manager = runtime.extras.get(MANAGER_KEY)
    return manager if isinstance(manager, IngestManager) else None
