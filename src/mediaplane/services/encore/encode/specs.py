"""The builder's working model: the job's inputs with their labels, and one entry per FFmpeg output file."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mediaplane.services.encore.encode.plan import PlanError, PlannedOutput, ResolvedInput
from mediaplane.services.encore.profiles.model import Profile
from mediaplane.services.encore.schemas.job import AudioInput, AudioVideoInput, EncoreJob, VideoInput
from mediaplane.services.encore.schemas.media import AudioFile, AudioStream, ImageFile, VideoFile, VideoStream

log = logging.getLogger(__name__)

COMMENT = "comment=Transcoded using Encore"


@dataclass(frozen=True)
class VideoSpec:
    input_index: int
    """Index into the job's inputs."""
    chain: tuple[str, ...]
    """Filters between the input's split and the encoder."""
    params: tuple[str, ...]
    """Output options of the last pass."""
    first_pass: tuple[str, ...] | None = None
    """Output options of the first pass of a two-pass encode."""


@dataclass(frozen=True)
class AudioSpec:
    input_index: int
    chain: tuple[str, ...]
    params: tuple[str, ...]
    """Output options; ``{stream_index}`` stands for the stream's number within its output."""
    preserve: bool = False
    """Map the input's audio as it is (SimpleAudioEncode), without the input's filters."""


@dataclass(frozen=True)
class OutputSpec:
    planned: PlannedOutput
    video: VideoSpec | None
    audio: tuple[AudioSpec, ...] = ()
    extra: tuple[str, ...] = ()
    """Output options after the codecs (image sequence options)."""
    muxer: str | None = None


def params_args(params: Mapping[str, str | None]) -> list[str]:
    """``{"b:v": "3M", "an": None}`` → ``-b:v 3M -an``, in the map's order (Encore drops empty values)."""
    args: list[str] = []
    for key, value in params.items():
        args.append(f"-{key}")
        if value:
            args.append(value)
    return args


def seconds(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"


@dataclass
class Context:
    job: EncoreJob
    profile: Profile
    inputs: list[ResolvedInput]
    workdir: Path
    seek: float | None
    length: float | None
    name_suffix: str

    def output_path(self, suffix: str, ext: str) -> Path:
        return self.workdir / f"{self.job.base_name}{suffix}{self.name_suffix}.{ext}"

    def input_seek(self, index: int) -> float:
        return (self.inputs[index].input.seek_to or 0.0) + (self.seek or 0.0)

    @property
    def duration(self) -> float | None:
        """Output length asked for: the plan's, else the job's."""
        return self.length if self.length is not None else self.job.duration_hint

    @property
    def output_seek(self) -> float:
        # With -copyts the timestamps keep the input seek: the output seek must include it.
        copied = [self.input_seek(i) for i, r in enumerate(self.inputs) if r.input.copy_ts]
        return max(copied, default=0.0) + (self.job.seek_to or 0.0)

    def video_input(self, label: str) -> int | None:
        for index, resolved in enumerate(self.inputs):
            if isinstance(resolved.input, AudioVideoInput | VideoInput) and resolved.input.video_label == label:
                return index
        return None

    def audio_input(self, label: str) -> int | None:
        for index, resolved in enumerate(self.inputs):
            if isinstance(resolved.input, AudioVideoInput | AudioInput) and resolved.input.audio_label == label:
                return index
        return None

    def video_stream(self, index: int) -> VideoStream | None:
        resolved = self.inputs[index]
        analyzed = resolved.analyzed
        if isinstance(analyzed, ImageFile):
            return VideoStream(width=analyzed.width, height=analyzed.height)
        if not isinstance(analyzed, VideoFile):
            return None
        number = getattr(resolved.input, "video_stream", None) or 0
        return analyzed.video_streams[number] if number < len(analyzed.video_streams) else None

    def audio_streams(self, index: int) -> list[AudioStream]:
        analyzed = self.inputs[index].analyzed
        return list(analyzed.audio_streams) if isinstance(analyzed, VideoFile | AudioFile) else []

    def input_duration(self, index: int, *, video: bool = False) -> float | None:
        """What is left of an input after its seek (the video stream's length when ``video``)."""
        analyzed = self.inputs[index].analyzed
        if isinstance(analyzed, VideoFile | AudioFile):
            stream = self.video_stream(index) if video else None
            length = (stream.duration if stream else None) or analyzed.duration
            if length is not None:
                return length - self.input_seek(index)
        return None

    def expected_duration(self) -> float:
        if self.duration is not None:
            return self.duration
        lengths = [d for i in range(len(self.inputs)) if (d := self.input_duration(i)) is not None]
        if not lengths:
            return 0.0
        return max(0.0, max(lengths) - (self.job.seek_to or 0.0))

    def output_duration(self, index: int) -> float:
        """Encore's thumbnail base: the job's duration, else the video input's length after both seeks."""
        if self.duration is not None:
            return self.duration
        left = self.input_duration(index, video=True)
        return (left - (self.job.seek_to or 0.0)) if left is not None else 0.0


def skip_or_fail(optional: bool, message: str) -> None:
    """Encore's logOrThrow: an optional output is skipped with a log line, a required one fails the plan."""
    if optional:
        log.info("%s", message)
        return
    raise PlanError(message)
