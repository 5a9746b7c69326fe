"""Find the ffmpeg and ffprobe binaries.

ffmpeg, in this order:

1. the configured path (``MEDIAPLANE_FFMPEG_PATH``): a path, or a name looked up on ``PATH``; when it
   is set and unusable that is an error, never a silent fallback;
2. the binary bundled with ``imageio-ffmpeg``: a static build (x264, x265, VP8/9, AV1, AAC, Opus …)
   that is the same on every machine and the one the test suite runs, so results do not depend
   on what a distribution ships;
3. ``ffmpeg`` on ``PATH``.

ffprobe: the configured path, then an ``ffprobe`` beside the ffmpeg in use, then ``PATH``; else None.
imageio-ffmpeg ships no ffprobe, so :func:`~mediaplane.kit.ffmpeg.probe` falls back to ``ffmpeg -i``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import imageio_ffmpeg

from mediaplane.kit.ffmpeg.errors import FFmpegNotFound

__all__ = ["find_ffmpeg", "find_ffprobe"]

_EXE = ".exe" if sys.platform == "win32" else ""


def _executable(candidate: str) -> str | None:
    """``candidate`` as an absolute path when it is an executable file; a bare name is looked up on PATH."""
    if os.sep not in candidate and (os.altsep is None or os.altsep not in candidate):
        return shutil.which(candidate)
    path = Path(candidate).expanduser()
    if path.is_file() and os.access(path, os.X_OK):
        return str(path.absolute())
    return None


def find_ffmpeg(configured: str | None = None) -> str:
    """The ffmpeg to run (see the module docs for the order); raises FFmpegNotFound."""
    if configured:
        found = _executable(configured)
        if found is None:
            raise FFmpegNotFound(f"the configured ffmpeg {configured!r} is not an executable file")
        return found
    try:
        bundled = imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError:
        bundled = None
    if bundled and _executable(bundled):
        return str(bundled)
    system = shutil.which("ffmpeg")
    if system:
        return system
    raise FFmpegNotFound("no ffmpeg found: install imageio-ffmpeg or ffmpeg, or set MEDIAPLANE_FFMPEG_PATH")


def find_ffprobe(configured: str | None = None, *, ffmpeg: str | None = None) -> str | None:
    """The ffprobe to run, or None when there is none (configured but unusable raises FFmpegNotFound)."""
    if configured:
        found = _executable(configured)
        if found is None:
            raise FFmpegNotFound(f"the configured ffprobe {configured!r} is not an executable file")
        return found
    if ffmpeg:
        sibling = _executable(str(Path(ffmpeg).with_name(f"ffprobe{_EXE}")))
        if sibling:
            return sibling
    return shutil.which("ffprobe")
