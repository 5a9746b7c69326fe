"""A transcoding profile: Encore's encode types with their fields and defaults (upstream §2.9)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


class _Encode(BaseModel):
    # Profiles are written by people: keys are Encore's camelCase names, unknown keys are ignored.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    optional: bool = False
    enabled: bool = True
    input_label: str = Field(default="main", alias="inputLabel")

    @field_validator("params", mode="before", check_fields=False)
    @classmethod
    def _params_as_text(cls, value: Any) -> Any:
        # YAML reads `r: 25` and `level: 4.1` as numbers; FFmpeg options are text, in the profile's order.
        if isinstance(value, dict):
            return {str(k): None if v is None else _as_text(v) for k, v in value.items()}
        return value if value is not None else {}


class AudioEncode(_Encode):
    type: Literal["AudioEncode"] = "AudioEncode"
    codec: str = "aac"
    bitrate: str | None = None
    samplerate: int = 48000
    channel_layout: str = Field(default="stereo", alias="channelLayout")
    suffix: str | None = None
    params: dict[str, str | None] = Field(default_factory=dict)
    filters: list[str] = Field(default_factory=list)
    audio_mix_preset: str = Field(default="default", alias="audioMixPreset")
    format: str = "mp4"

    @field_validator("bitrate", mode="before")
    @classmethod
    def _bitrate_text(cls, value: Any) -> Any:
        return None if value is None else _as_text(value)

    @property
    def output_suffix(self) -> str:
        return self.suffix if self.suffix is not None else f"_{self.codec}_{self.channel_layout}"


class SimpleAudioEncode(_Encode):
    type: Literal["SimpleAudioEncode"] = "SimpleAudioEncode"
    codec: str = "aac"
    bitrate: str | None = None
    samplerate: int | None = None
    suffix: str | None = None
    params: dict[str, str | None] = Field(default_factory=dict)
    format: str = "mp4"

    @field_validator("bitrate", mode="before")
    @classmethod
    def _bitrate_text(cls, value: Any) -> Any:
        return None if value is None else _as_text(value)

    @property
    def output_suffix(self) -> str:
        return self.suffix if self.suffix is not None else f"_{self.codec}"


AnyAudioEncode = Annotated[AudioEncode | SimpleAudioEncode, Field(discriminator="type")]


class Vmaf(BaseModel):
    model_config = ConfigDict(extra="ignore")

    enabled: bool = False
    model: str | None = None
    threads: int | None = None
    subsample: int | None = None
    feature: list[str] = Field(default_factory=list)
    ref_filters: list[str] = Field(default_factory=list, alias="refFilters")


class _VideoEncode(_Encode):
    suffix: str
    width: int | None = None
    height: int | None = None
    two_pass: bool = Field(default=False, alias="twoPass")
    params: dict[str, str | None] = Field(default_factory=dict)
    filters: list[str] = Field(default_factory=list)
    format: str = "mp4"
    audio_encode: AnyAudioEncode | None = Field(default=None, alias="audioEncode")
    audio_encodes: list[AnyAudioEncode] = Field(default_factory=list, alias="audioEncodes")
    crop_to: str | None = Field(default=None, alias="cropTo", pattern=r"^[1-9]\d*[:/][1-9]\d*$")
    pad_to: str | None = Field(default=None, alias="padTo", pattern=r"^[1-9]\d*[:/][1-9]\d*$")
    vmaf: Vmaf = Field(default_factory=Vmaf)

    @model_validator(mode="before")
    @classmethod
    def _audio_encode_type(cls, data: Any) -> Any:
        # A nested audio encode without `type` is an AudioEncode, as Encore's Jackson default does.
        if isinstance(data, dict):
            for key in ("audioEncode", "audio_encode"):
                if isinstance(data.get(key), dict):
                    data = {**data, key: {"type": "AudioEncode", **data[key]}}
            for key in ("audioEncodes", "audio_encodes"):
                if isinstance(data.get(key), list):
                    data = {
                        **data,
                        key: [{"type": "AudioEncode", **a} if isinstance(a, dict) else a for a in data[key]],
                    }
        return data

    @property
    def audio(self) -> list[AudioEncode | SimpleAudioEncode]:
        """The audio muxed into this output: `audioEncodes`, else the single `audioEncode`."""
        return list(self.audio_encodes) if self.audio_encodes else ([self.audio_encode] if self.audio_encode else [])


class _X26xEncode(_VideoEncode):
    """x264/x265: their own `-x26N-params` map beside the FFmpeg options."""

    codec_params: dict[str, str | None] = Field(default_factory=dict)

    @field_validator("codec_params", mode="before")
    @classmethod
    def _codec_params_text(cls, value: Any) -> Any:
        return {str(k): _as_text(v) for k, v in value.items()} if isinstance(value, dict) else value or {}


class X264Encode(_X26xEncode):
    type: Literal["X264Encode"] = "X264Encode"
    codec_params: dict[str, str | None] = Field(default_factory=dict, alias="x264-params")

    @property
    def codec(self) -> str:
        return "libx264"


class X265Encode(_X26xEncode):
    type: Literal["X265Encode"] = "X265Encode"
    codec_params: dict[str, str | None] = Field(default_factory=dict, alias="x265-params")

    @property
    def codec(self) -> str:
        return "libx265"


class VideoEncode(_VideoEncode):
    """A generic FFmpeg video encoder (dnxhd/mxf, prores, …): `codec` and `format` are required."""

    type: Literal["VideoEncode"] = "VideoEncode"
    codec: str
    format: str


class ThumbnailEncode(_Encode):
    type: Literal["ThumbnailEncode"] = "ThumbnailEncode"
    percentages: list[int] = Field(default_factory=lambda: [25, 50, 75])
    interval_seconds: float | None = Field(default=None, alias="intervalSeconds", gt=0)
    thumbnail_width: int = Field(default=-2, alias="thumbnailWidth")
    thumbnail_height: int = Field(default=1080, alias="thumbnailHeight")
    quality: int = Field(default=5, ge=1, le=31)
    suffix: str = "_thumb"
    suffix_zero_pad: int = Field(default=2, alias="suffixZeroPad", ge=0)
    decode_output: int | None = Field(default=None, alias="decodeOutput", ge=0)


class ThumbnailMapEncode(_Encode):
    type: Literal["ThumbnailMapEncode"] = "ThumbnailMapEncode"
    optional: bool = True
    tile_width: int = Field(default=160, alias="tileWidth", gt=0)
    tile_height: int = Field(default=90, alias="tileHeight", gt=0)
    cols: int = Field(default=12, gt=0)
    rows: int = Field(default=20, gt=0)
    quality: int = Field(default=5, ge=1, le=31)
    suffix: str | None = None
    format: str = "jpg"
    decode_output: int | None = Field(default=None, alias="decodeOutput", ge=0)

    @property
    def output_suffix(self) -> str:
        if self.suffix is not None:
            return self.suffix
        return f"_{self.cols}x{self.rows}_{self.tile_width}x{self.tile_height}_thumbnail_map"


Encode = Annotated[
    X264Encode | X265Encode | VideoEncode | AudioEncode | SimpleAudioEncode | ThumbnailEncode | ThumbnailMapEncode,
    Field(discriminator="type"),
]
VideoEncodes = (X264Encode, X265Encode, VideoEncode)


class Profile(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    name: str
    description: str = ""
    scaling: str = "bicubic"
    deinterlace_filter: str = Field(default="yadif", alias="deinterlaceFilter")
    join_segment_params: dict[str, str | None] = Field(default_factory=dict, alias="joinSegmentParams")
    encodes: list[Encode] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_outputs(self) -> Profile:
        seen: set[str] = set()
        for encode in self.encodes:
            if isinstance(encode, ThumbnailEncode | ThumbnailMapEncode):
                continue
            suffix = encode.output_suffix if isinstance(encode, AudioEncode | SimpleAudioEncode) else encode.suffix
            key = f"{suffix}.{encode.format}"
            if key in seen:
                raise ValueError(f"profile {self.name}: two outputs named *{key}")
            seen.add(key)
        return self
