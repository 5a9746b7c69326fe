"""Locate and run FFmpeg: progress reports, cancellation, typed errors, and a modest probe.

    result = await run_ffmpeg(
        ["-i", src, "-c:v", "libx264", "-y", dst],
        duration=info.duration, on_progress=report, cancel=stop_event, ffmpeg=settings.ffmpeg_path,
    )

See :mod:`~mediaplane.kit.ffmpeg.locate` for which binary runs.
"""

from __future__ import annotations

from mediaplane.kit.ffmpeg.errors import FFmpegCancelled, FFmpegError, FFmpegNotFound
from mediaplane.kit.ffmpeg.locate import find_ffmpeg, find_ffprobe
from mediaplane.kit.ffmpeg.probe import MediaInfo, StreamInfo, parse_ffmpeg_info, parse_ffprobe_json, probe
from mediaplane.kit.ffmpeg.progress import Progress, ProgressReader, parse_progress_block
from mediaplane.kit.ffmpeg.runner import FFmpegResult, ProgressCallback, run_ffmpeg

__all__ = [
    "FFmpegCancelled",
    "FFmpegError",
    "FFmpegNotFound",
    "FFmpegResult",
    "MediaInfo",
    "Progress",
    "ProgressCallback",
    "ProgressReader",
    "StreamInfo",
    "find_ffmpeg",
    "find_ffprobe",
    "parse_ffmpeg_info",
    "parse_ffprobe_json",
    "parse_progress_block",
    "probe",
    "run_ffmpeg",
]
