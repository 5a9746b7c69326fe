"""nginx with the RTMP module as the platform's ingest: found, configured from a template, supervised.

nginx-rtmp asks us about every publish (`on_publish`, form POST) and answers 2xx = let in, anything else =
refused — and refuses when we cannot be reached, so the ingest fails closed. Players are loopback only:
the relays and nothing else read streams from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MODULE = "ngx_rtmp_module.so"
MODULE_DIRS = (Path("/usr/lib/nginx/modules"), Path("/usr/lib64/nginx/modules"), Path("/usr/local/nginx/modules"))
LOOPBACK = ("127.0.0.1", "localhost")
WILDCARD = ("0.0.0.0", "::", "[::]")
INSTALL_HINT = "install nginx with the RTMP module (Debian: apt install nginx-light libnginx-mod-rtmp)"


def ingest_root(data_dir: Path) -> Path:
    return data_dir.resolve() / "ingest"


class NginxNotFound(Exception):
    pass


@dataclass(frozen=True)
class Nginx:
    binary: str
    module: Path | None  # None when the RTMP module is built in


def find_nginx(configured: str | None = None, modules_dir: Path | None = None) -> Nginx:
    binary = (
        configured
        or shutil.which("nginx")
        or next(
            (str(p) for p in (Path("/usr/sbin/nginx"), Path("/usr/local/nginx/sbin/nginx")) if os.access(p, os.X_OK)),
            None,
        )
    )
    if not binary or not (shutil.which(binary) or os.access(binary, os.X_OK)):
        raise NginxNotFound(f"no nginx found: {INSTALL_HINT}, or set MEDIAPLANE_NGINX_PATH")
    dirs = (modules_dir,) if modules_dir else MODULE_DIRS
    module = next((d / MODULE for d in dirs if d and (d / MODULE).is_file()), None)
    if module is None and modules_dir:
        raise NginxNotFound(f"no {MODULE} in {modules_dir}: {INSTALL_HINT}")
    if module is None:
        raise NginxNotFound(f"nginx has no RTMP module ({MODULE}): {INSTALL_HINT}")
    return Nginx(binary, module)


@dataclass(frozen=True)
class AppConfig:
    name: str
    hls: bool


@dataclass(frozen=True)
class IngestLayout:
    """Where the ingest keeps its files: config, pid, logs, control socket, HLS previews."""

    root: Path

    @property
    def conf(self) -> Path:
        return self.root / "nginx.conf"

    @property
    def control_socket(self) -> Path:
        return self.root / "control.sock"

    @property
    def error_log(self) -> Path:
        return self.root / "error.log"

    def hls_dir(self, app: str) -> Path:
        return self.root / "hls" / app

    def hls_file(self, app: str, name: str) -> Path | None:
        """A file of an HLS preview (nginx names them <key>.m3u8 and <key>-N.ts), or None."""
        if not name or "/" in name or "\\" in name or name.startswith("."):
            return None
        path = self.hls_dir(app) / name
        return path if path.is_file() else None


def preview_app(app: str) -> str:
    """The application an app's HLS previews are published to (see core.ingest.preview)."""
    return f"preview-{app}"


def listen_lines(host: str, port: int) -> list[str]:
    """The relays play from 127.0.0.1, so loopback is always among the listened addresses."""
    if host in WILDCARD:
        return [f"listen {port};"] if host == "0.0.0.0" else [f"listen [::]:{port} ipv6only=off;"]
    if host in LOOPBACK:
        return [f"listen 127.0.0.1:{port};"]
    return [f"listen {host}:{port};", f"listen 127.0.0.1:{port};"]


def render_config(
    nginx: Nginx,
    layout: IngestLayout,
    apps: list[AppConfig],
    *,
    host: str,
    port: int,
    hook_base: str,
    update_seconds: int = 10,
) -> str:
    user = "user root root;" if os.geteuid() == 0 else ""  # workers must write HLS where we can read it
    temp = layout.root / "tmp"
    lines = [
        f"load_module {nginx.module};" if nginx.module else "",
        "daemon off;",
        "master_process on;",
        "worker_processes 1;",  # nginx-rtmp's live streams live in one worker
        user,
        f"pid {layout.root / 'nginx.pid'};",
        f"error_log {layout.error_log} warn;",
        "events { worker_connections 4096; }",
        "rtmp {",
        "  server {",
        *(f"    {line}" for line in listen_lines(host, port)),
        "    chunk_size 16384;",
        "    notify_method post;",
        f"    notify_update_timeout {update_seconds}s;",
        "    notify_update_strict on;",
    ]
    for app in apps:
        lines += [
            f"    application {app.name} {{",
            "      live on;",
            "      publish_notify on;",  # players (the relays) are told when the publisher leaves
            "      allow play 127.0.0.1;",
            "      deny play all;",
            "      drop_idle_publisher 20s;",
            f"      on_publish {hook_base}/publish;",
            f"      on_publish_done {hook_base}/publish_done;",
            f"      on_update {hook_base}/update;",
        ]
        lines.append("    }")
        if app.hls:  # written only while watched: the live session publishes here from loopback then
            lines += [
                f"    application {preview_app(app.name)} {{",
                "      live on;",
                "      allow publish 127.0.0.1;",
                "      deny publish all;",
                "      deny play all;",
                "      hls on;",
                f"      hls_path {layout.hls_dir(app.name)};",
                "      hls_fragment 1s;",
                "      hls_playlist_length 6s;",
                "      hls_cleanup on;",
                "    }",
            ]
    lines += [
        "  }",
        "}",
        "http {",
        "  access_log off;",
        *(f"  {name} {temp / name.split('_temp')[0]};" for name in _TEMP_PATHS),
        "  server {",
        f"    listen unix:{layout.control_socket};",
        "    location /control { rtmp_control all; }",
        "    location /stat { rtmp_stat all; }",
        "  }",
        "}",
    ]
    return "\n".join(line for line in lines if line) + "\n"


_TEMP_PATHS = (
    "client_body_temp_path",
    "proxy_temp_path",
    "fastcgi_temp_path",
    "uwsgi_temp_path",
    "scgi_temp_path",
)


class NginxSupervisor:
    """Runs nginx in the foreground as our child, restarts it when it dies (with a growing pause)."""

    def __init__(self, nginx: Nginx, layout: IngestLayout, on_restart: object = None) -> None:
        self.nginx = nginx
        self.layout = layout
        self._on_restart = on_restart  # async callable: every session nginx held is gone
        self._process: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.started = asyncio.Event()

    def prepare(self, config: str) -> None:
        self.layout.root.mkdir(parents=True, exist_ok=True)
        (self.layout.root / "tmp").mkdir(exist_ok=True)
        (self.layout.root / "hls").mkdir(exist_ok=True)
        for old in (self.layout.control_socket, self.layout.root / "nginx.pid"):
            old.unlink(missing_ok=True)
        self.layout.conf.write_text(config)

    async def check(self) -> None:
        """`nginx -t`: a bad config is an error at start, not a crash loop."""
        proc = await asyncio.create_subprocess_exec(
            *self._argv("-t"), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        out, _ = await proc.communicate()
        if proc.returncode != 0:
            raise NginxNotFound(f"nginx refused its configuration: {out.decode(errors='replace').strip()}")

    def _argv(self, *extra: str) -> list[str]:
        return [
            self.nginx.binary,
            "-p",
            str(self.layout.root),
            "-e",
            str(self.layout.error_log),
            "-c",
            str(self.layout.conf),
            *extra,
        ]

    async def start(self) -> None:
        await self.check()
        await self._spawn()
        self._task = asyncio.get_running_loop().create_task(self._watch())

    async def _spawn(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            *self._argv(), stdin=asyncio.subprocess.DEVNULL, start_new_session=True
        )
        for _ in range(200):  # until it listens: the control socket appears with the listeners
            if self.layout.control_socket.exists() or self._process.returncode is not None:
                break
            await asyncio.sleep(0.025)
        self.started.set()

    async def _watch(self) -> None:
        pause = 0.5
        while not self._stopping:
            assert self._process is not None
            code = await self._process.wait()
            if self._stopping:
                return
            with contextlib.suppress(ProcessLookupError, PermissionError):
                # Its workers outlive a master that was killed, and hold the ports the next one needs.
                os.killpg(self._process.pid, signal.SIGKILL)
            log.error(
                "the RTMP ingest (nginx) exited with %s; restarting in %.1fs: see %s",
                code,
                pause,
                self.layout.error_log,
            )
            if callable(self._on_restart):
                with contextlib.suppress(Exception):
                    await self._on_restart()
            await asyncio.sleep(pause)
            pause = min(pause * 2, 30.0)
            with contextlib.suppress(OSError):
                self.layout.control_socket.unlink(missing_ok=True)
                await self._spawn()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process and self._process.returncode is None else None

    async def stop(self) -> None:
        self._stopping = True
        proc = self._process
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)  # fast shutdown: a graceful one waits for publishers to leave
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
