"""What the encore benchmarks share: test media, a `mediaplane serve` subprocess, a file server, a small client.

Run a benchmark as `.venv/bin/python bench/<name>.py` from the repository root; this module sits next to it.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from mediaplane.kit.ffmpeg import find_ffmpeg

LISTENING = re.compile(r"mediaplane listening on (http://\S+)")
EXPORTED_TOKEN = re.compile(r"export MEDIAPLANE_ACCESS_TOKEN=(\S+)")
TERMINAL = ("SUCCESSFUL", "FAILED", "CANCELLED")


# -- media


def make_clip(
    path: Path, seconds: float, size: str = "1280x720", rate: int = 25, video: Sequence[str] = (), fmt: str = "mp4"
) -> Path:
    """A testsrc2 picture with a 440 Hz tone, H.264/AAC (made once; kept when it already exists).

    `video` adds x264 options (rate control, GOP); `fmt` is the container."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    args = [find_ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error"]
    args += ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}"]
    args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", f"{seconds:g}"]
    args += ["-c:v", "libx264", "-preset", "veryfast", *video, "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k"]
    partial = path.with_suffix(f".part.{fmt}")
    subprocess.run([*args, "-f", fmt, "-y", str(partial)], check=True, capture_output=True, timeout=900)
    partial.rename(path)
    return path


def run_ffmpeg_direct(args: Sequence[str], log: Path) -> float:
    """`ffmpeg <args>` as someone would run it by hand (no progress pipe); returns wall seconds."""
    started = time.monotonic()
    with log.open("a") as out:
        subprocess.run(
            [find_ffmpeg(), "-hide_banner", "-nostdin", "-nostats", *args],
            check=True,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
        )
    return time.monotonic() - started


def process_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds of a running process: its own, and its finished children's (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    utime, stime, cutime, cstime = (int(value) / tick for value in fields[11:15])
    return utime + stime, cutime + cstime


def children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- numbers


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


def seconds_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def verdict(value: float, goal: float) -> str:
    return "meets the goal" if value <= goal else "misses the goal"


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return f"{os.cpu_count()} cores, {model}, Python {sys.version.split()[0]}; load average now {load}"


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def scratch(prefix: str) -> tempfile.TemporaryDirectory[str]:
    """A temporary folder for one run; SIGTERM and SIGINT now stop the run through its clean-up."""
    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGINT, _interrupted)
    return tempfile.TemporaryDirectory(prefix=f"mediaplane-bench-{prefix}-")


# -- a static file server (with Range, which FFmpeg needs to read MP4 over HTTP)


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class _ThreadedServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the main thread keeps its own handlers
        return None


class Callbacks:
    """Encore's progress callbacks as they arrive: (monotonic time, body)."""

    def __init__(self) -> None:
        self.received: list[tuple[float, dict[str, Any]]] = []
        self.changed = threading.Condition()

    async def endpoint(self, request: Request) -> Response:
        body = await request.json()
        with self.changed:
            self.received.append((time.monotonic(), body))
            self.changed.notify_all()
        return JSONResponse({"ok": True})

    def wait_for(self, job_id: str, statuses: tuple[str, ...], within: float) -> float | None:
        """When a callback with one of `statuses` for `job_id` arrived; None if none came within `within` s."""
        deadline = time.monotonic() + within
        with self.changed:
            while True:
                for at, body in self.received:
                    if body.get("jobId") == job_id and body.get("status") in statuses:
                        return at
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(left)


@contextlib.contextmanager
def serve_folder(folder: Path, callbacks: Callbacks | None = None) -> Iterator[str]:
    """Serves `folder` at http://127.0.0.1:<port>/ from a thread of this process (and `callbacks` at /callback)."""
    routes: list[Route | Mount] = [Route("/callback", callbacks.endpoint, methods=["POST"])] if callbacks else []
    app = Starlette(routes=[*routes, Mount("/", StaticFiles(directory=folder))])
    port = free_port()
    server = _ThreadedServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the file server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


# -- the platform, as `mediaplane serve` in a subprocess


@dataclass
class Server:
    """`mediaplane serve` on a free port with its own data dir; output goes to `log_path`."""

    data_dir: Path
    workers: int | None = 2  # None: --no-workers
    env: dict[str, str] = field(default_factory=dict)  # MEDIAPLANE_* settings of this server
    url: str = ""
    pat: str = ""
    proc: subprocess.Popen[bytes] | None = None
    _log: TextIO | None = field(default=None, repr=False)

    @property
    def log_path(self) -> Path:
        return self.data_dir.with_name(self.data_dir.name + ".log")

    def start(self, timeout: float = 60) -> Server:
        args = [sys.executable, "-m", "mediaplane", "serve", "--host", "127.0.0.1", "--port", "0"]
        args += ["--data", str(self.data_dir)]
        args += ["--no-workers"] if self.workers is None else ["--workers", str(self.workers)]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIAPLANE_", "OSC_"))}
        env["MEDIAPLANE_SECRET_KEY"] = secrets.token_urlsafe(48)
        env.update(self.env)
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            args, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            output = self.log_path.read_text()
            found, token = LISTENING.search(output), EXPORTED_TOKEN.search(output)
            if found and token:
                self.url, self.pat = found.group(1), token.group(1)
                if httpx.get(f"{self.url}/health", timeout=5).status_code == 200:
                    return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"mediaplane serve exited with {self.proc.returncode}:\n{output}")
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"mediaplane serve did not start in {timeout} s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def instance(self, service: str, name: str, **options: str) -> tuple[httpx.Client, str]:
        """A new instance of the admin tenant: a client holding a fresh SAT for the service, and its path."""
        client = httpx.Client(base_url=self.url, timeout=60)
        r = client.post("/servicetoken", headers={"x-pat-jwt": f"Bearer {self.pat}"}, json={"serviceId": service})
        r.raise_for_status()
        sat = r.json()["token"]
        r = client.post(f"/{service}instance", headers={"x-jwt": f"Bearer {sat}"}, json={"name": name, **options})
        if r.status_code != 200:
            raise RuntimeError(f"creating {service} instance {name}: {r.status_code} {r.text}")
        client.headers["x-jwt"] = f"Bearer {sat}"
        return client, f"/{service}/admin-{name}"

    def encore(self, name: str, **options: str) -> Encore:
        """A new encore instance of the admin tenant (a fresh SAT for it)."""
        return Encore(*self.instance("encore", name, **options))


@dataclass
class Encore:
    """One encore instance's API, over HTTP."""

    client: httpx.Client
    base: str

    def another(self) -> Encore:
        """The same instance through a client of its own (one per thread)."""
        client = httpx.Client(base_url=self.client.base_url, headers=self.client.headers, timeout=self.client.timeout)
        return Encore(client, self.base)

    def enqueue(self, body: dict[str, Any]) -> dict[str, Any]:
        r = self.client.post(f"{self.base}/encoreJobs", json=body)
        if r.status_code != 201:
            raise RuntimeError(f"enqueue: {r.status_code} {r.text}")
        job: dict[str, Any] = r.json()
        return job

    def job(self, job_id: str) -> dict[str, Any]:
        r = self.client.get(f"{self.base}/encoreJobs/{job_id}")
        r.raise_for_status()
        job: dict[str, Any] = r.json()
        return job

    def page(self, number: int, size: int) -> dict[str, Any]:
        r = self.client.get(f"{self.base}/encoreJobs", params={"page": number, "size": size})
        r.raise_for_status()
        body: dict[str, Any] = r.json()
        return body

    def wait(
        self, job_id: str, statuses: tuple[str, ...] = TERMINAL, every: float = 0.1, within: float = 3600
    ) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while True:
            job = self.job(job_id)
            if job["status"] in statuses:
                return job
            if job["status"] in TERMINAL:
                raise RuntimeError(f"job {job_id} ended {job['status']}: {job.get('message')}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"job {job_id} still {job['status']} after {within} s")
            time.sleep(every)
