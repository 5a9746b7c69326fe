"""Video filters: those of an input (before the split to the renditions) and those of one rendition."""

from __future__ import annotations

import functools
import logging
import os
from fractions import Fraction
from pathlib import Path

from mediaplane.services.encore.profiles.model import Profile, VideoEncode, X264Encode, X265Encode
from mediaplane.services.encore.schemas.job import AudioVideoInput, VideoInput
from mediaplane.services.encore.schemas.media import VideoStream

log = logging.getLogger(__name__)

DEFAULT_DAR = Fraction(16, 9)
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.fonts", "/Library/Fonts", "/System/Library/Fonts")
PREFERRED_FONTS = ("DejaVuSans.ttf", "LiberationSans-Regular.ttf", "Arial.ttf", "FreeSans.ttf")


def ratio(text: str | None) -> Fraction | None:
    """ "16:9" or "16/9" → Fraction; None when missing, zero or unreadable."""
    if not text:
        return None
    parts = text.replace(":", "/").split("/")
    try:
        value = Fraction(int(parts[0]), int(parts[1])) if len(parts) == 2 else Fraction(parts[0])
    except (ValueError, ZeroDivisionError):
        return None
    return value if value > 0 else None


def _text(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def escape(value: str) -> str:
    """Quote a filter option value for a filtergraph: first for the option parser, then for the graph parser."""
    option = "".join("\\" + c if c in "\\':" else c for c in value)
    return "".join("\\" + c if c in "\\'[],;" else c for c in option)


def crop_to(value: str) -> str:
    r = _text(ratio(value) or Fraction(1))
    return f"crop=min(iw\\,ih*{r}):min(ih\\,iw/({r}))"


def pad_to(value: str) -> str:
    return f"pad=aspect={_text(ratio(value) or Fraction(1))}:x=(ow-iw)/2:y=(oh-ih)/2"


def input_filters(source: VideoInput | AudioVideoInput, stream: VideoStream | None, profile: Profile) -> list[str]:
    """Deinterlace, square pixels, crop/pad to a ratio, then the input's own filters."""
    filters: list[str] = []
    stream = stream or VideoStream()
    if source.probe_interlaced and stream.is_interlaced:
        filters.append(profile.deinterlace_filter)
    sar = ratio(stream.sample_aspect_ratio)
    # Encore uses `dar` only for anamorphic input; it is also honoured here when set on square pixels,
    # the case of a file whose aspect metadata is missing.
    if source.dar or (sar is not None and sar != 1):
        dar = ratio(source.dar) or ratio(stream.display_aspect_ratio) or DEFAULT_DAR
        filters += [f"setdar={_text(dar)}", "scale=trunc(iw*sar/2)*2:ih", "setsar=1/1"]
    elif sar is None:
        filters.append("setsar=1/1")
    if source.crop_to:
        filters.append(crop_to(source.crop_to))
    if source.pad_to:
        filters.append(pad_to(source.pad_to))
    return filters + list(source.video_filters)


def _output_ratio(
    encode: X264Encode | X265Encode | VideoEncode, source: VideoInput | AudioVideoInput, stream: VideoStream
) -> Fraction | None:
    chosen = ratio(encode.pad_to or encode.crop_to or source.pad_to or source.crop_to or source.dar)
    if chosen is not None:
        return chosen
    shown = ratio(stream.display_aspect_ratio)
    if shown is None and stream.width and stream.height:
        shown = Fraction(stream.width, stream.height)
    if shown is not None and abs(stream.rotation or 0) % 180 == 90:
        shown = 1 / shown
    return shown


def rendition_filters(
    encode: X264Encode | X265Encode | VideoEncode,
    source: VideoInput | AudioVideoInput,
    stream: VideoStream | None,
    *,
    debug_overlay: bool,
) -> list[str]:
    """Crop/pad of the encode, scaling (width and height swapped for portrait output), its filters, overlay."""
    stream = stream or VideoStream()
    filters: list[str] = []
    if encode.crop_to:
        filters.append(crop_to(encode.crop_to))
    if encode.pad_to:
        filters.append(pad_to(encode.pad_to))
    width, height = encode.width, encode.height
    if width is not None and height is not None:
        shown = _output_ratio(encode, source, stream)
        if shown is not None and shown < 1 and Fraction(width, height) > 1:
            width, height = height, width
        filters.append(f"scale={width}:{height}:force_original_aspect_ratio=decrease:force_divisible_by=2")
        filters.append("setsar=1/1")
    elif width is not None or height is not None:
        filters.append(f"scale={width if width is not None else -2}:{height if height is not None else -2}")
    filters += encode.filters
    if debug_overlay and (text := drawtext(encode.suffix)):
        filters.append(text)
    return filters


def drawtext(text: str) -> str | None:
    """Encore's debug overlay: the output suffix in the top-left corner; None (logged) when no font exists."""
    font = find_font()
    if font is None:
        log.warning("debugOverlay: no font file found; the overlay is left out")
        return None
    return (
        f"drawtext=fontfile={escape(font)}:text={escape(text)}:expansion=none"
        ":fontcolor=white:fontsize=50:box=1:boxcolor=black@0.75:boxborderw=5:x=10:y=10"
    )


@functools.cache
def find_font() -> str | None:
    """A TrueType/OpenType font on this machine, named to drawtext explicitly so no fontconfig setup is needed."""
    found: list[Path] = []
    for folder in FONT_DIRS:
        root = Path(os.path.expanduser(folder))
        if root.is_dir():
            found += sorted(p for p in root.rglob("*") if p.suffix.lower() in (".ttf", ".otf") and p.is_file())
    for name in PREFERRED_FONTS:
        match = next((p for p in found if p.name == name), None)
        if match is not None:
            return str(match)
    return str(found[0]) if found else None
