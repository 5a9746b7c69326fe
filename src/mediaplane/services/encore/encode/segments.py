"""Segmented encoding: how many segments, and joining the encoded segments (with the whole audio) by copy."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

from mediaplane.services.encore.encode.specs import COMMENT, params_args

__all__ = ["join_segments_command", "segment_count"]


def segment_count(duration: float, segment_length: float) -> int:
    """Segments of ``segment_length`` seconds that cover ``duration`` (the last one may be shorter)."""
    if segment_length <= 0:
        raise ValueError("segment length must be positive")
    if duration <= 0:
        raise ValueError("a segmented encode needs a known, positive duration")
    # A remainder of a few microseconds is rounding, not a segment.
    return max(1, math.ceil(duration / segment_length - 1e-6))


def _concat_line(path: Path) -> str:
    quoted = str(path.absolute()).replace("'", "'\\''")
    return f"file '{quoted}'\n"


def join_segments_command(
    segment_files: list[Path], audio_file: Path | None, output: Path, join_params: Mapping[str, str | None]
) -> list[str]:
    """FFmpeg arguments that join ``segment_files`` in order by stream copy (concat demuxer; its list file is
    written next to the segments) into ``output``. With ``audio_file`` (the audio encoded whole) the video
    comes from the segments and the audio from that file, so the audio has no gaps at the joins; with no
    segments the audio file alone is copied. ``join_params`` (the profile's joinSegmentParams) go last."""
    head = ["-loglevel", "+level", "-y"]
    tail = ["-map_metadata", "-1", "-metadata", COMMENT, *params_args(join_params), str(output)]
    if not segment_files:
        if audio_file is None:
            raise ValueError("nothing to join: no segments and no audio")
        return [*head, "-i", str(audio_file), "-map", "0", "-c", "copy", *tail]
    listing = segment_files[0].parent / f"{output.stem}_filelist.txt"
    listing.write_text("".join(_concat_line(p) for p in segment_files), encoding="utf-8")
    args = [*head, "-f", "concat", "-safe", "0", "-i", str(listing)]
    if audio_file is not None:
        args += ["-i", str(audio_file), "-map", "0:v", "-map", "1:a"]
    else:
        args += ["-map", "0"]
    return [*args, "-ignore_unknown", "-c", "copy", *tail]
