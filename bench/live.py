"""What the live benchmarks share: nginx-rtmp servers of their own, FFmpeg publishers, CPU of process trees,
frame counts of what receivers recorded, and arrival times of the same frames at two places."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
from harness import free_port, make_clip

from mediaplane.core.ingest.nginx import find_nginx
from mediaplane.kit.ffmpeg import find_ffmpeg
from mediaplane.kit.rtmp import RtmpConnection

VIDEO = 9


def make_live_clip(path: Path, seconds: float, size: str = "1280x720", rate: int = 25) -> Path:
    """A 2.5 Mb/s H.264 + AAC FLV with a keyframe every 2 s, as an encoder like OBS would send."""
    video = ["-b:v", "2500k", "-maxrate", "2500k", "-bufsize", "5000k", "-g", str(rate * 2)]
    return make_clip(path, seconds, size, rate, video=video, fmt="flv")


def video_frames(path: Path) -> int:
    """Video packets in a recorded FLV (0 when nothing arrived)."""
    if not path.exists() or path.stat().st_size == 0:
        return 0
    with av.open(str(path)) as container:
        if not container.streams.video:
            return 0
        return sum(1 for p in container.demux(container.streams.video[0]) if p.size)


# -- nginx-rtmp servers of the benchmark's own


@dataclass
class Nginx:
    """An nginx-rtmp on a free port with the applications given (each a block of directives)."""

    root: Path
    apps: dict[str, str]
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Nginx:
        nginx = find_nginx()
        self.port = self.port or free_port()
        self.root.mkdir(parents=True, exist_ok=True)
        apps = "\n".join(f"application {name} {{ live on; {body} }}" for name, body in self.apps.items())
        user = "user root root;" if os.geteuid() == 0 else ""
        conf = (
            f"load_module {nginx.module}; daemon off; master_process on; worker_processes 1; {user}\n"
            f"pid {self.root}/nginx.pid; error_log {self.root}/error.log warn;\n"
            "events { worker_connections 4096; }\n"
            f"rtmp {{ server {{ listen 127.0.0.1:{self.port}; chunk_size 4096;\n{apps}\n}} }}\n"
        )
        (self.root / "nginx.conf").write_text(conf)
        argv = [nginx.binary, "-p", str(self.root), "-e", str(self.root / "error.log"), "-c", "nginx.conf"]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
        time.sleep(0.3)
        if self.proc.poll() is not None:
            raise RuntimeError(f"nginx did not start: {(self.root / 'error.log').read_text()}")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def url(self, app: str, name: str = "") -> str:
        return f"rtmp://127.0.0.1:{self.port}/{app}" + (f"/{name}" if name else "")

    def __enter__(self) -> Nginx:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- publishers


@contextlib.contextmanager
def publishers(clip: Path, urls: Sequence[str], loop: bool = False) -> Iterator[list[subprocess.Popen[bytes]]]:
    """One `ffmpeg -re -i clip -c copy -f flv URL` per URL, as an encoder at real-time speed would send."""
    procs = []
    try:
        for url in urls:
            argv = [find_ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-re"]
            argv += ["-stream_loop", "-1"] if loop else []
            argv += ["-i", str(clip), "-c", "copy", "-f", "flv", url]
            procs.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL))
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)


# -- CPU of a process and everything it started


def _stat(pid: int) -> tuple[int, float] | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / tick


def tree_cpu(root: int) -> dict[int, float]:
    """CPU seconds of `root` and each live descendant, by pid."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            found = _stat(int(entry))
            if found is not None:
                parents[int(entry)], cpu[int(entry)] = found
    wanted, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        kids = [child for child, parent in parents.items() if parent == pid and child not in wanted]
        wanted.update(kids)
        frontier.extend(kids)
    return {pid: cpu[pid] for pid in wanted if pid in cpu}


def cpu_over(roots: Sequence[int], seconds: float) -> float:
    """CPU seconds the trees under `roots` used in the next `seconds` (processes alive at both ends)."""
    before: dict[int, float] = {}
    for root in roots:
        before.update(tree_cpu(root))
    time.sleep(seconds)
    after: dict[int, float] = {}
    for root in roots:
        after.update(tree_cpu(root))
    return sum(after[pid] - before.get(pid, after[pid]) for pid in after if pid in before)


# -- added latency: the same frame seen at the ingest and at a receiver


async def _arrivals(url: str, seconds: float, out: dict[bytes, float]) -> None:
    connection = await RtmpConnection.open(url)
    try:
        await connection.play(wait_start=False)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                async with asyncio.timeout(max(0.1, deadline - time.monotonic())):
                    message = await connection.read()
            except TimeoutError:
                break
            if message is None:
                break
            if message.type_id == VIDEO and len(message.payload) > 5:
                out.setdefault(hashlib.sha1(message.payload).digest(), time.monotonic())
    finally:
        await connection.close()


def added_latency(ingest_url: str, receiver_url: str, seconds: float) -> list[float]:
    """Seconds each video frame took from the ingest to the receiver (frames matched by their bytes)."""

    async def both() -> tuple[dict[bytes, float], dict[bytes, float]]:
        at_ingest: dict[bytes, float] = {}
        at_receiver: dict[bytes, float] = {}
        await asyncio.gather(_arrivals(ingest_url, seconds, at_ingest), _arrivals(receiver_url, seconds, at_receiver))
        return at_ingest, at_receiver

    at_ingest, at_receiver = asyncio.run(both())
    return [at_receiver[h] - t for h, t in at_ingest.items() if h in at_receiver]
