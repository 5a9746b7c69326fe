"""What the command builder returns: the FFmpeg command lines of one encode and the files they write."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mediaplane.services.encore.schemas.job import AudioInput, AudioVideoInput, VideoInput
from mediaplane.services.encore.schemas.media import AudioFile, ImageFile, VideoFile

__all__ = ["EncodePlan", "PlanError", "PlannedOutput", "ResolvedInput", "output_files"]


class PlanError(ValueError):
    """The profile cannot be encoded from these inputs (the message is the job's failure message)."""


@dataclass(frozen=True)
class ResolvedInput:
    input: AudioVideoInput | VideoInput | AudioInput
    url: str
    """What FFmpeg opens: a local path or an http(s) URL."""
    analyzed: VideoFile | AudioFile | ImageFile


@dataclass(frozen=True)
class PlannedOutput:
    path: Path
    """The file, inside the work folder; for thumbnails an FFmpeg sequence pattern (``demo_thumb%02d.jpg``)."""
    kind: Literal["video", "audio", "image"]
    encode_index: int
    """Index into ``profile.encodes``."""
    optional: bool


@dataclass(frozen=True)
class EncodePlan:
    commands: list[list[str]]
    """FFmpeg arguments, one list per pass, without the binary and without -progress/-nostdin."""
    outputs: list[PlannedOutput]
    duration: float
    """Expected output length in seconds (0 when unknown): the base for progress."""


_SEQUENCE = re.compile(r"%0?(\d*)d")


def output_files(output: PlannedOutput) -> list[Path]:
    """The files an output produced: the file itself, or every file of a sequence pattern, in order."""
    name = output.path.name
    match = _SEQUENCE.search(name)
    if match is None:
        return [output.path] if output.path.is_file() else []
    digits = rf"\d{{{int(match.group(1))},}}" if match.group(1) else r"\d+"
    regex = re.compile(re.escape(name[: match.start()]) + digits + re.escape(name[match.end() :]))
    folder = output.path.parent
    found = [p for p in folder.iterdir() if p.is_file() and regex.fullmatch(p.name)] if folder.is_dir() else []
    return sorted(found, key=lambda p: (len(p.name), p.name))
