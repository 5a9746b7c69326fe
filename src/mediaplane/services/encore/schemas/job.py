"""EncoreJob and its inputs, field for field as Encore 0.2.11 (Eyevinn fork) and 1.0 accept and return them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from mediaplane.services.encore.schemas.media import MediaFile
from mediaplane.services.encore.status import Status

RATIO = r"^[1-9]\d*[:/][1-9]\d*$"
CHANNEL_LAYOUTS = frozenset(
    [
        "mono",
        "stereo",
        "2.1",
        "3.0",
        "3.0(back)",
        "4.0",
        "quad",
        "quad(side)",
        "3.1",
        "5.0",
        "5.0(side)",
        "4.1",
        "5.1",
        "5.1(side)",
        "6.0",
        "6.0(front)",
        "3.1.2",
        "hexagonal",
        "6.1",
        "6.1(back)",
        "6.1(front)",
        "7.0",
        "7.0(front)",
        "7.1",
        "7.1(wide)",
        "7.1(wide-side)",
        "5.1.2",
        "octagonal",
        "cube",
        "5.1.4",
        "7.1.2",
        "7.1.4",
        "7.2.3",
        "9.1.4",
        "hexadecagonal",
        "downmix",
        "22.2",
    ]
)


class AudioEncodingMode(StrEnum):
    ENCODE_WITH_VIDEO = "ENCODE_WITH_VIDEO"
    ENCODE_SEPARATELY_FULL = "ENCODE_SEPARATELY_FULL"
    ENCODE_SEPARATELY_SEGMENTED = "ENCODE_SEPARATELY_SEGMENTED"


class _Camel(BaseModel):
    # Unknown keys are ignored, as Jackson does in Spring Boot; read-only keys sent by a client are reset.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True, extra="ignore")


class _InputBase(_Camel):
    uri: str = Field(min_length=1)
    params: dict[str, str | None] = Field(default_factory=dict)
    seek_to: float | None = Field(default=None, ge=0)
    copy_ts: bool = False
    analyzed: MediaFile | None = Field(default=None, json_schema_extra={"readOnly": True})
    access_uri: str | None = Field(default=None, json_schema_extra={"readOnly": True})

    @field_validator("uri")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("params", mode="before")
    @classmethod
    def _params_as_text(cls, value: Any) -> Any:
        # Real clients send numbers ({"framerate": 25}); FFmpeg takes every option as text.
        if isinstance(value, dict):
            return {str(k): v if v is None or isinstance(v, str) else _text(v) for k, v in value.items()}
        return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float | str):
        return str(value)
    raise ValueError("input params must be strings, numbers or booleans")


class _VideoFields(_Camel):
    video_label: str = "main"
    video_stream: int | None = Field(default=None, ge=0)
    dar: str | None = Field(default=None, pattern=RATIO)
    crop_to: str | None = Field(default=None, pattern=RATIO)
    pad_to: str | None = Field(default=None, pattern=RATIO)
    video_filters: list[str] = Field(default_factory=list)
    probe_interlaced: bool = True


class _AudioFields(_Camel):
    audio_label: str = "main"
    audio_stream: int | None = Field(default=None, ge=0)
    audio_filters: list[str] = Field(default_factory=list)
    channel_layout: str | None = None

    @field_validator("channel_layout")
    @classmethod
    def _known_layout(cls, value: str | None) -> str | None:
        if value is not None and value not in CHANNEL_LAYOUTS:
            raise ValueError(f"unknown channel layout {value!r}")
        return value


class AudioVideoInput(_InputBase, _VideoFields, _AudioFields):
    type: Literal["AudioVideo"]


class VideoInput(_InputBase, _VideoFields):
    type: Literal["Video"]


class AudioInput(_InputBase, _AudioFields):
    type: Literal["Audio"]


Input = Annotated[AudioVideoInput | VideoInput | AudioInput, Field(discriminator="type")]


def _now() -> datetime:
    return datetime.now().astimezone()


class SegmentedEncodingInfo(_Camel):
    segment_length: float
    num_segments: int
    num_tasks: int
    audio_encoding_mode: AudioEncodingMode
    audio_segment_padding: float = 0.0
    audio_segment_length: float | None = None
    num_audio_segments: int = 0


class EncoreJob(_Camel):
    """The job as stored and returned. `READ_ONLY` fields sent by a client are reset on create and update."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    external_id: str | None = None
    profile: str
    profile_params: dict[str, Any] = Field(default_factory=dict)
    output_folder: str
    base_name: str
    created_date: datetime = Field(default_factory=_now)
    progress_callback_uri: str | None = None
    priority: int = Field(default=0, ge=0, le=100)
    segment_length: float | None = Field(default=None, gt=0)
    message: str | None = None
    progress: int = 0
    speed: float | None = None
    started_date: datetime | None = None
    completed_date: datetime | None = None
    debug_overlay: bool = False
    log_context: dict[str, str] = Field(default_factory=dict)
    seek_to: float | None = Field(default=None, ge=0)
    duration: float | None = Field(default=None, ge=0)
    thumbnail_time: float | None = Field(default=None, gt=0)
    inputs: list[Input] = Field(min_length=1)
    output: list[MediaFile] = Field(default_factory=list)
    quality_metrics: dict[str, dict[str, dict[str, float]]] | None = None
    status: Status = Status.NEW
    audio_encoding_mode: AudioEncodingMode | None = None
    audio_segment_length: float | None = Field(default=None, gt=0)
    segmented_encoding_info: SegmentedEncodingInfo | None = None
    # Beyond Encore: HLS and/or DASH packages made from the renditions by stream copy.
    package_formats: list[Literal["hls", "dash"]] = Field(default_factory=list)
    # Where the packages' manifests were stored: {"hls": "/usercontent/x/demo_hls/master.m3u8", ...}.
    packages: dict[str, str] = Field(default_factory=dict)

    @field_validator("profile", "output_folder", "base_name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("inputs")
    @classmethod
    def _unique_labels(cls, inputs: list[Input]) -> list[Input]:
        for kind in ("video_label", "audio_label"):
            labels = [getattr(i, kind) for i in inputs if hasattr(i, kind)]
            if len(labels) != len(set(labels)):
                raise ValueError(f"duplicate {to_camel(kind)} {sorted(labels)}")
        return inputs

    @property
    def duration_hint(self) -> float | None:
        return self.duration if self.duration and self.duration > 0 else None


__all__ = ["READ_ONLY", "EncoreJob", "Input", "Status"]

READ_ONLY = frozenset(
    {
        "id",
        "created_date",
        "message",
        "progress",
        "speed",
        "started_date",
        "completed_date",
        "output",
        "quality_metrics",
        "status",
        "segmented_encoding_info",
        "packages",
    }
)
