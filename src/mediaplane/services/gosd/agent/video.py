"""Pushes a live point's video to its RTMP publish URL with FFmpeg, and starts FFmpeg again (with a growing
wait) whenever it exits: the ingest restarted, the network dropped, the camera went away."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from mediaplane.kit.ffmpeg import find_ffmpeg

LAVFI = "lavfi"
NONE = "none"
TEST_PATTERN = "testsrc2=size=640x360:rate=25"
STABLE_SECONDS = 10.0  # a run this long resets the wait before the next start
log = logging.getLogger(__name__)


def check_source(source: str) -> str:
    """`lavfi` (a test pattern), `none`, or a V4L2 device such as /dev/video0."""
    if source in (LAVFI, NONE) or source.startswith("/dev/"):
        return source
    raise ValueError(f"--video must be lavfi, none or a V4L2 device such as /dev/video0, not {source!r}")


def video_argv(ffmpeg: str, source: str, url: str) -> list[str]:
    """H.264 (ultrafast, zerolatency, a key frame every 2 s), no audio, in FLV to `url`."""
    given = ["-re", "-f", "lavfi", "-i", TEST_PATTERN] if source == LAVFI else ["-f", "v4l2", "-i", source]
    return [
        ffmpeg,
        *("-hide_banner", "-loglevel", "error", "-nostdin"),
        *given,
        *("-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p"),
        *("-force_key_frames", "expr:gte(t,n_forced*2)", "-an"),
        *("-rw_timeout", "10000000"),  # a receiver that stops reading ends the run after 10 s
        *("-f", "flv", url),
    ]


def redacted(url: str) -> str:
    """The URL without its query (the node secret rides there)."""
    return url.split("?", 1)[0]


class VideoPusher:
    def __init__(
        self,
        url: str,
        source: str = LAVFI,
        *,
        ffmpeg: str | None = None,
        first_wait: float = 1.0,
        max_wait: float = 30.0,
    ) -> None:
        self.url = url
        self.source = check_source(source)
        self.ffmpeg = ffmpeg
        self.first_wait = first_wait
        self.max_wait = max_wait
        self.starts = 0
        self.process: asyncio.subprocess.Process | None = None

    async def run(self) -> None:
        """Pushes until cancelled; FFmpeg is stopped on the way out."""
        argv = video_argv(self.ffmpeg or find_ffmpeg(), self.source, self.url)
        loop = asyncio.get_running_loop()
        wait = self.first_wait
        while True:
            started = loop.time()
            self.starts += 1
            if self.starts > 1:
                log.info("video %s: starting FFmpeg again (start %d)", redacted(self.url), self.starts)
            self.process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                _, err = await self.process.communicate()
            finally:
                await self._stop()
            ran = loop.time() - started
            if ran >= STABLE_SECONDS:
                wait = self.first_wait
            last = err.decode(errors="replace").strip().splitlines()[-1:] if err else []
            log.warning(
                "video %s: FFmpeg exited (%s) after %.1f s%s; again in %.0f s",
                redacted(self.url),
                self.process.returncode,
                ran,
                f": {last[0]}" if last else "",
                wait,
            )
            await asyncio.sleep(wait)
            wait = min(wait * 2, self.max_wait)

    async def _stop(self) -> None:
        proc = self.process
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()  # FFmpeg closes the stream properly on SIGTERM
        try:
            async with asyncio.timeout(5):
                await proc.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
