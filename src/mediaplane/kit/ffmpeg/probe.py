"""What a media file holds: ffprobe's JSON when ffprobe exists, else what ``ffmpeg -i`` prints.

Deliberately modest: container, duration, bit rate, and per stream its kind, codec, picture size,
frame rate, sample rate and channels.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from mediaplane.kit.ffmpeg.errors import FFmpegError
from mediaplane.kit.ffmpeg.locate import find_ffmpeg, find_ffprobe

__all__ = ["MediaInfo", "StreamInfo", "parse_ffmpeg_info", "parse_ffprobe_json", "probe"]

_LAYOUT_CHANNELS = {"mono": 1, "stereo": 2, "2.1": 3, "3.0": 3, "quad": 4, "4.0": 4, "5.0": 5, "5.1": 6}
_LAYOUT_CHANNELS |= {"6.1": 7, "7.1": 8}


@dataclass(frozen=True, slots=True)
class StreamInfo:
    index: int
    kind: str
    """"video", "audio", "subtitle", "data" or "attachment"."""
    codec: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    sample_rate: int | None = None
    channels: int | None = None
    bit_rate: int | None = None
    """Bits per second."""


@dataclass(frozen=True, slots=True)
class MediaInfo:
    format_name: str | None
    duration: float | None
    """Seconds."""
    bit_rate: int | None
    """Bits per second."""
    streams: tuple[StreamInfo, ...]

    @property
    def video(self) -> StreamInfo | None:
        return next((s for s in self.streams if s.kind == "video"), None)

    @property
    def audio(self) -> StreamInfo | None:
        return next((s for s in self.streams if s.kind == "audio"), None)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _rate(value: Any) -> float | None:
    """ "25/1" or "30000/1001" → frames per second; "0/0" → None."""
    try:
        rate = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        return None
    return float(rate) if rate > 0 else None


def parse_ffprobe_json(data: dict[str, Any]) -> MediaInfo:
    """From ``ffprobe -print_format json -show_format -show_streams``."""
    fmt = data.get("format", {})
    streams = []
    for stream in data.get("streams", []):
        streams.append(
            StreamInfo(
                index=_int(stream.get("index")) or 0,
                kind=str(stream.get("codec_type", "data")),
                codec=stream.get("codec_name"),
                width=_int(stream.get("width")),
                height=_int(stream.get("height")),
                fps=_rate(stream.get("avg_frame_rate")) or _rate(stream.get("r_frame_rate"))
                if stream.get("codec_type") == "video"
                else None,
                sample_rate=_int(stream.get("sample_rate")),
                channels=_int(stream.get("channels")),
                bit_rate=_int(stream.get("bit_rate")),
            )
        )
    return MediaInfo(
        format_name=fmt.get("format_name"),
        duration=_float(fmt.get("duration")),
        bit_rate=_int(fmt.get("bit_rate")),
        streams=tuple(streams),
    )


_INPUT = re.compile(r"^Input #0, (.+?), from ")
_DURATION = re.compile(
    r"^\s+Duration: (N/A|(\d+):(\d\d):(\d\d(?:\.\d+)?))(?:, start: [-\d.]+)?(?:, bitrate: (\d+) kb/s)?"
)
_STREAM = re.compile(r"^\s+Stream #0:(\d+)(?:\[\w+\])?(?:\([^)]*\))?: (\w+): (.*)$")
_SIZE = re.compile(r"(?:^|[ ,])(\d{1,5})x(\d{1,5})(?=[ ,]|$)")
_FPS = re.compile(r"([\d.]+)(k?) (?:fps|tbr)")
_HZ = re.compile(r"(\d+) Hz")
_KBPS = re.compile(r"(\d+) kb/s")
_CHANNELS = re.compile(r"(\d+) channels")


def parse_ffmpeg_info(text: str) -> MediaInfo | None:
    """From the log of ``ffmpeg -i <file>``; None when it shows no input (the file could not be read)."""
    format_name: str | None = None
    duration: float | None = None
    bit_rate: int | None = None
    streams: list[StreamInfo] = []
    seen_input = False
    for line in text.splitlines():
        if line.startswith(("Output #", "Input #1")):
            break
        if match := _INPUT.match(line):
            seen_input = True
            format_name = match.group(1)
        elif seen_input and (match := _DURATION.match(line)):
            if match.group(2):
                duration = int(match.group(2)) * 3600 + int(match.group(3)) * 60 + float(match.group(4))
            if match.group(5):
                bit_rate = int(match.group(5)) * 1000
        elif seen_input and (match := _STREAM.match(line)):
            streams.append(_parse_stream(int(match.group(1)), match.group(2).lower(), match.group(3)))
    if not seen_input:
        return None
    return MediaInfo(format_name=format_name, duration=duration, bit_rate=bit_rate, streams=tuple(streams))


def _parse_stream(index: int, kind: str, details: str) -> StreamInfo:
    codec = re.split(r"[ ,]", details, maxsplit=1)[0] or None
    kbps = _KBPS.search(details)
    stream = StreamInfo(index=index, kind=kind, codec=codec, bit_rate=int(kbps.group(1)) * 1000 if kbps else None)
    if kind == "video":
        size = _SIZE.search(details)
        fps = _FPS.search(details)
        return StreamInfo(
            index=index,
            kind=kind,
            codec=codec,
            width=int(size.group(1)) if size else None,
            height=int(size.group(2)) if size else None,
            fps=float(fps.group(1)) * (1000 if fps.group(2) else 1) if fps else None,
            bit_rate=stream.bit_rate,
        )
    if kind == "audio":
        hz = _HZ.search(details)
        channels: int | None = None
        if count := _CHANNELS.search(details):
            channels = int(count.group(1))
        else:
            parts = [part.strip() for part in details.split(",")]
            channels = next(
                (_LAYOUT_CHANNELS[p.split("(")[0]] for p in parts if p.split("(")[0] in _LAYOUT_CHANNELS), None
            )
        return StreamInfo(
            index=index,
            kind=kind,
            codec=codec,
            sample_rate=int(hz.group(1)) if hz else None,
            channels=channels,
            bit_rate=stream.bit_rate,
        )
    return stream


async def _run(argv: list[str]) -> tuple[int, bytes, bytes]:
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await process.communicate()
    except BaseException:  # e.g. cancelled by the caller's asyncio.timeout()
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, stdout, stderr


def _tail(data: bytes, lines: int = 20) -> str:
    return "\n".join(data.decode(errors="replace").splitlines()[-lines:])


async def probe(path: str | Path, *, ffmpeg: str | None = None, ffprobe: str | None = None) -> MediaInfo:
    """Describe the media at ``path`` (a file or a URL FFmpeg can open). Raises FFmpegError if unreadable.

    For a URL, bound the wait with ``asyncio.timeout()``: the probe process is killed when cancelled.
    """
    ffmpeg_exe = find_ffmpeg(ffmpeg)
    ffprobe_exe = find_ffprobe(ffprobe, ffmpeg=ffmpeg_exe)
    if ffprobe_exe is not None:
        argv = [ffprobe_exe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)]
        returncode, stdout, stderr = await _run(argv)
        if returncode != 0:
            raise FFmpegError(returncode, _tail(stderr), argv=argv)
        return parse_ffprobe_json(json.loads(stdout))
    argv = [ffmpeg_exe, "-hide_banner", "-nostdin", "-i", str(path)]
    returncode, _stdout, stderr = await _run(argv)  # always non-zero: there is no output file
    info = parse_ffmpeg_info(stderr.decode(errors="replace"))
    if info is None:
        raise FFmpegError(returncode, _tail(stderr), argv=argv)
    return info
