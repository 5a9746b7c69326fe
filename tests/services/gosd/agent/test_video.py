"""The agent's video pusher against a real RTMP receiver (FFmpeg listening), which drops and comes back."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from mediaplane.kit.ffmpeg import find_ffmpeg
from mediaplane.services.gosd.agent.video import VideoPusher, check_source, redacted, video_argv
from tests.fixtures.servers import free_port, listening


@contextlib.contextmanager
def receiver(port: int, out: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`ffmpeg -listen 1`: takes one publisher and copies what it sends into `out`."""
    argv = [find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-nostdin", "-listen", "1"]
    argv += ["-analyzeduration", "500000", "-i", f"rtmp://127.0.0.1:{port}/gosd/5", "-c", "copy", "-y", str(out)]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


async def until(check: object, within: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "not in time"
        await asyncio.sleep(0.05)


def received(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 20_000


async def test_pushes_and_starts_again_after_the_receiver_drops(tmp_path: Path) -> None:
    port = free_port()
    url = f"rtmp://127.0.0.1:{port}/gosd/5?secret=s3cret"
    pusher = VideoPusher(url, "lavfi", first_wait=0.2, max_wait=0.5)
    first, second = tmp_path / "first.flv", tmp_path / "second.flv"
    with receiver(port, first) as proc:
        await until(lambda: listening(port))
        task = asyncio.create_task(pusher.run())
        try:
            await until(lambda: received(first))
            proc.kill()  # the ingest goes away mid-stream
            proc.wait()
            with receiver(port, second):
                await until(lambda: received(second))
                assert pusher.starts >= 2
                pushing = pusher.process
                assert pushing is not None and pushing.returncode is None
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert first.read_bytes()[:3] == b"FLV" and second.read_bytes()[:3] == b"FLV"
    assert pushing.returncode is not None  # FFmpeg is stopped with the pusher


def test_ffmpeg_arguments() -> None:
    lavfi = video_argv("ffmpeg", "lavfi", "rtmp://h/gosd/1?secret=x")
    assert lavfi[-3:] == ["-f", "flv", "rtmp://h/gosd/1?secret=x"]
    assert "-an" in lavfi and "testsrc2=size=640x360:rate=25" in lavfi and "zerolatency" in lavfi
    camera = video_argv("ffmpeg", "/dev/video0", "rtmp://h/gosd/1")
    assert camera[camera.index("-i") - 2 : camera.index("-i") + 2] == ["-f", "v4l2", "-i", "/dev/video0"]
    assert redacted("rtmp://h/gosd/1?secret=x") == "rtmp://h/gosd/1"
    with pytest.raises(ValueError, match="--video"):
        check_source("webcam")
