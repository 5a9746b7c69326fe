"""The FFmpeg error tree; each is a MediaplaneError so an API can render it in its own format.

FFmpegNotFound   (503) no usable ffmpeg/ffprobe binary
FFmpegError      (500) ffmpeg ran and failed: ``returncode`` and the tail of its stderr
FFmpegCancelled  (409) the run was stopped through its cancel event
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mediaplane.kit.errors import MediaplaneError, Unavailable

if TYPE_CHECKING:
    from mediaplane.kit.ffmpeg.progress import Progress

__all__ = ["FFmpegCancelled", "FFmpegError", "FFmpegNotFound"]


class FFmpegNotFound(Unavailable):
    code = "ffmpeg_not_found"


class FFmpegError(MediaplaneError):
    code = "ffmpeg_failed"

    def __init__(self, returncode: int, stderr_tail: str, *, argv: list[str] | None = None) -> None:
        last = next((line for line in reversed(stderr_tail.splitlines()) if line.strip()), "")
        super().__init__(f"ffmpeg exited with code {returncode}" + (f": {last.strip()}" if last else ""))
        self.returncode = returncode
        self.stderr_tail = stderr_tail
        self.argv = argv or []


class FFmpegCancelled(MediaplaneError):
    status_code = 409
    code = "ffmpeg_cancelled"

    def __init__(self, *, returncode: int | None = None, progress: Progress | None = None) -> None:
        super().__init__("the ffmpeg run was cancelled")
        self.returncode = returncode
        self.progress = progress
