"""Analysed media files as Encore reports them (svt/media-analyzer's model, JSON discriminator `type`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


class VideoStream(_Camel):
    format: str | None = None
    codec: str | None = None
    profile: str | None = None
    level: str | None = None
    width: int | None = None
    height: int | None = None
    sample_aspect_ratio: str | None = None
    display_aspect_ratio: str | None = None
    rotation: int | None = None
    pixel_format: str | None = None
    frame_rate: str | None = None
    duration: float | None = None
    bitrate: int | None = None
    bit_depth: int | None = None
    num_frames: int | None = None
    # The 0.2.11 OpenAPI names it `interlaced`, the fixtures `isInterlaced`: emit the latter, accept both.
    is_interlaced: bool = Field(
        default=False, validation_alias=AliasChoices("isInterlaced", "interlaced", "is_interlaced")
    )
    transfer_characteristics: str | None = None
    codec_tag_string: str | None = None
    color_range: str | None = None
    color_space: str | None = None
    color_transfer: str | None = None
    color_primaries: str | None = None


class AudioStream(_Camel):
    format: str | None = None
    codec: str | None = None
    duration: float | None = None
    channels: int | None = None
    channel_layout: str | None = None
    sampling_rate: int | None = None
    bitrate: int | None = None
    profile: str | None = None


class VideoFile(_Camel):
    type: Literal["VideoFile"] = "VideoFile"
    file: str
    file_size: int
    format: str | None = None
    overall_bitrate: int | None = None
    duration: float | None = None
    video_streams: list[VideoStream] = Field(default_factory=list)
    audio_streams: list[AudioStream] = Field(default_factory=list)
    is_truncated: bool = False


class AudioFile(_Camel):
    type: Literal["AudioFile"] = "AudioFile"
    file: str
    file_size: int
    format: str | None = None
    overall_bitrate: int | None = None
    duration: float | None = None
    audio_streams: list[AudioStream] = Field(default_factory=list)
    is_truncated: bool = False


class ImageFile(_Camel):
    type: Literal["ImageFile"] = "ImageFile"
    file: str
    file_size: int
    format: str | None = None
    width: int | None = None
    height: int | None = None


class SubtitleFile(_Camel):
    type: Literal["SubtitleFile"] = "SubtitleFile"
    file: str
    file_size: int
    format: str | None = None


MediaFile = Annotated[VideoFile | AudioFile | ImageFile | SubtitleFile, Field(discriminator="type")]
