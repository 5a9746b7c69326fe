"""The profiles page: the instance's profile index, each profile checked and its encodes summed up (what each
output is: codec, size, bitrate, container), as `mediaplane encore profiles` and `GET …/profiles` read them."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, replace

from fastapi import APIRouter
from starlette.responses import Response

from mediaplane.console import CurrentConsole
from mediaplane.services.encore.options import EncoreOptions
from mediaplane.services.encore.profiles.loader import ProfileError, check_all
from mediaplane.services.encore.profiles.model import (
    AudioEncode,
    Encode,
    Profile,
    SimpleAudioEncode,
    ThumbnailEncode,
    ThumbnailMapEncode,
    VideoEncode,
    X264Encode,
    X265Encode,
)

router = APIRouter()
# Every profile file is read: an index on a slow server should not hold the page for long.
CHECK_SECONDS = 20


@dataclass(frozen=True)
class EncodeView:
    output: str  # the output's file name after the job's base name, e.g. `_x264_3100.mp4`
    kind: str  # the encode's type, as the profile names it
    codec: str
    size: str
    bitrate: str
    container: str
    notes: str  # audio muxed in, two-pass, optional, ...


@dataclass(frozen=True)
class ProfileView:
    name: str
    location: str | None
    description: str = ""
    encodes: tuple[EncodeView, ...] = ()
    error: str | None = None

    @property
    def anchor(self) -> str:
        return "profile-" + re.sub(r"[^A-Za-z0-9_-]+", "-", self.name)


def _size(width: int | None, height: int | None) -> str:
    width, height = (w if w and w > 0 else None for w in (width, height))  # -1/-2: FFmpeg keeps the aspect
    if width and height:
        return f"{width}x{height}"
    if height:
        return f"height {height}"
    return f"width {width}" if width else "as the input"


def _audio(encode: AudioEncode | SimpleAudioEncode) -> str:
    layout = encode.channel_layout if isinstance(encode, AudioEncode) else ""
    return " ".join(part for part in (encode.codec, _rate(encode.bitrate), layout) if part)


def _rate(value: str | None) -> str:
    """FFmpeg's `806121` as `806k`; `3100k` as written."""
    return f"{int(value) / 1000:.0f}k" if value and value.isdigit() else value or ""


def _video(encode: X264Encode | X265Encode | VideoEncode) -> EncodeView:
    params = encode.params
    bitrate = _rate(params.get("b:v") or params.get("b"))
    if params.get("maxrate"):
        bitrate = f"{bitrate} (max {_rate(params['maxrate'])})".strip()
    if not bitrate and params.get("crf"):
        bitrate = f"CRF {params['crf']}"
    notes = (["two-pass"] if encode.two_pass else []) + [f"audio {_audio(a)}" for a in encode.audio]
    size = _size(encode.width, encode.height)
    output = f"{encode.suffix}.{encode.format}"
    return EncodeView(output, encode.type, encode.codec, size, bitrate, encode.format, "; ".join(notes))


def encode_view(encode: Encode) -> EncodeView:
    if isinstance(encode, ThumbnailEncode):
        shares = ", ".join(str(p) for p in encode.percentages)
        at = f"every {encode.interval_seconds:g} s" if encode.interval_seconds else f"at {shares} %"
        size = _size(encode.thumbnail_width, encode.thumbnail_height)
        view = EncodeView(f"{encode.suffix}01.jpg, …", encode.type, "mjpeg", size, "", "jpg", f"stills {at}")
    elif isinstance(encode, ThumbnailMapEncode):
        size = f"{encode.cols}x{encode.rows} tiles of {encode.tile_width}x{encode.tile_height}"
        view = EncodeView(f"{encode.output_suffix}.{encode.format}", encode.type, "mjpeg", size, "", encode.format, "")
    elif isinstance(encode, AudioEncode | SimpleAudioEncode):
        notes = f"{encode.channel_layout}, {encode.samplerate} Hz" if isinstance(encode, AudioEncode) else ""
        output = f"{encode.output_suffix}.{encode.format}"
        view = EncodeView(output, encode.type, encode.codec, "", _rate(encode.bitrate), encode.format, notes)
    else:
        view = _video(encode)
    flags = (["optional"] if encode.optional else []) + ([] if encode.enabled else ["disabled"])
    return replace(view, notes="; ".join([view.notes, *flags] if view.notes else flags))


def profile_view(name: str, location: str | None, result: Profile | ProfileError) -> ProfileView:
    if isinstance(result, ProfileError):
        return ProfileView(name, location, error=str(result))
    encodes = tuple(encode_view(e) for e in result.encodes)
    return ProfileView(name, location, result.description, encodes)


@router.get("/profiles")
async def profiles(ctx: CurrentConsole) -> Response:
    url = EncoreOptions.of(ctx.instance.options).profiles_url
    listed: list[ProfileView] = []
    problem = None
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            listed = [profile_view(*entry) for entry in await check_all(url)]
    except ProfileError as exc:
        problem = f"The profile index cannot be read: {exc}."
    except TimeoutError:
        problem = f"The profile index and its files were not all read within {CHECK_SECONDS} s; try again."
    return ctx.render(
        "encore/profiles.html",
        title=f"Profiles: {ctx.instance.name}",
        profiles=listed,
        index=url or "the profiles shipped with mediaplane",
        problem=problem,
    )
