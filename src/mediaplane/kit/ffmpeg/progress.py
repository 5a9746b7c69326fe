"""FFmpeg's ``-progress`` output: blocks of ``key=value`` lines, each ended by ``progress=continue|end``.

A block, as FFmpeg writes it (every ``-stats_period``, 0.5 s by default, and once at the end)::

    frame=22
    fps=0.00
    stream_0_0_q=16.0
    bitrate=   0.4kbits/s
    total_size=48
    out_time_us=975238
    out_time_ms=975238
    out_time=00:00:00.975238
    dup_frames=0
    drop_frames=0
    speed=1.95x
    progress=continue

``out_time_ms`` is in microseconds too (a historical misnomer); values are ``N/A`` until known,
and ``out_time`` can be negative before the first packet.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Progress", "ProgressReader", "parse_progress_block"]

_CLOCK = re.compile(r"^(-?)(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class Progress:
    """One progress report. Every measure is None while FFmpeg reports it as unknown."""

    out_time: float | None = None
    """Seconds of output written so far."""
    frame: int | None = None
    fps: float | None = None
    speed: float | None = None
    """Encoding speed relative to real time (2.0 = twice as fast)."""
    bitrate_kbps: float | None = None
    total_size: int | None = None
    """Bytes written so far."""
    done: bool = False
    """FFmpeg's last report (``progress=end``)."""
    percent: float | None = None
    """0 to 100, when the expected output duration was given; 100 on the last report."""
    fields: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    """Every key of the block, as written (per-stream ``stream_0_0_q`` and the like)."""


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    match = _NUMBER.search(value)
    return float(match.group()) if match else None


def _integer(value: str | None) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def _out_time(values: Mapping[str, str]) -> float | None:
    for key in ("out_time_us", "out_time_ms"):  # both are microseconds
        micros = _integer(values.get(key))
        if micros is not None:
            return micros / 1_000_000 if micros >= 0 else None
    match = _CLOCK.match(values.get("out_time", ""))
    if match is None or match.group(1):
        return None
    hours, minutes, seconds = match.group(2, 3, 4)
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def parse_progress_block(block: str | Mapping[str, str], duration: float | None = None) -> Progress:
    """Parse one block (the text, or its ``key=value`` pairs).

    ``duration`` is the expected output length in seconds; with it, ``percent`` is filled in.
    Unknown keys and malformed lines are kept in ``fields`` or ignored, never an error.
    """
    if isinstance(block, str):
        values: dict[str, str] = {}
        for line in block.splitlines():
            key, sep, value = line.partition("=")
            if sep:
                values[key.strip()] = value.strip()
    else:
        values = {key: value.strip() for key, value in block.items()}
    known = {key: value for key, value in values.items() if value != "N/A"}

    out_time = _out_time(known)
    done = known.get("progress") == "end"
    percent: float | None = None
    if duration is not None and duration > 0:
        if done:
            percent = 100.0
        elif out_time is not None:
            percent = min(100.0, max(0.0, out_time / duration * 100))
    return Progress(
        out_time=out_time,
        frame=_integer(known.get("frame")),
        fps=_number(known.get("fps")),
        speed=_number(known.get("speed")),
        bitrate_kbps=_number(known.get("bitrate")),
        total_size=_integer(known.get("total_size")),
        done=done,
        percent=percent,
        fields=values,
    )


class ProgressReader:
    """Feed ``-progress`` output line by line; returns a Progress each time a block completes."""

    def __init__(self, duration: float | None = None) -> None:
        self.duration = duration
        self._values: dict[str, str] = {}

    def feed(self, line: str) -> Progress | None:
        key, sep, value = line.strip().partition("=")
        if not sep:
            return None
        self._values[key.strip()] = value.strip()
        if key.strip() != "progress":
            return None
        values, self._values = self._values, {}
        return parse_progress_block(values, self.duration)
