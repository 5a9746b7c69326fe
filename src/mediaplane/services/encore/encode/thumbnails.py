"""Thumbnails and thumbnail maps: a branch of the input's video through `select`, written as JPEGs.

`decodeOutput` (thumbnails of what a rendition shows) is made with a branch that runs the rendition's own
filters (scale, crop, overlay) rather than FFmpeg's loopback decoder: the same picture without decoding the
encoded file again, and it keeps working when the rendition is not encoded in the same command.
"""

from __future__ import annotations

from mediaplane.services.encore.encode.plan import PlannedOutput
from mediaplane.services.encore.encode.specs import Context, OutputSpec, VideoSpec, seconds, skip_or_fail
from mediaplane.services.encore.encode.video import rendition_chain
from mediaplane.services.encore.profiles.model import (
    ThumbnailEncode,
    ThumbnailMapEncode,
    VideoEncode,
    X264Encode,
    X265Encode,
)


def _source(
    encode: ThumbnailEncode | ThumbnailMapEncode, ctx: Context, what: str
) -> tuple[int, tuple[str, ...]] | None:
    """The video input to read and the filters before the thumbnail's own."""
    if encode.decode_output is not None:
        encodes = ctx.profile.encodes
        target = encodes[encode.decode_output] if encode.decode_output < len(encodes) else None
        if not isinstance(target, X264Encode | X265Encode | VideoEncode):
            skip_or_fail(encode.optional, f"Can not produce {what}. decodeOutput {encode.decode_output} is no video!")
            return None
        index = ctx.video_input(target.input_label)
        if index is None or ctx.video_stream(index) is None:
            skip_or_fail(encode.optional, f"Can not produce {what}. No video input with label {target.input_label}!")
            return None
        return index, rendition_chain(target, ctx, index)
    index = ctx.video_input(encode.input_label)
    if index is None or ctx.video_stream(index) is None:
        skip_or_fail(encode.optional, f"Can not produce {what}. No video input with label {encode.input_label}!")
        return None
    return index, ()


def select_times(times: list[float]) -> str:
    """The first frame at or after each time."""
    terms = (f"(isnan(prev_pts)+lt(prev_pts*TB\\,{seconds(t)}))*gte(pts*TB\\,{seconds(t)})" for t in times)
    return "select=" + "+".join(terms)


def select_interval(interval: float, seek: float | None) -> str:
    """The first frame of every ``interval`` seconds (counted from the output seek)."""
    i = seconds(interval)
    if seek:
        s = seconds(seek)
        return f"select=gte(t\\,{s})*(isnan(prev_selected_t)+gt(floor((t-{s})/{i})\\,floor((prev_selected_t-{s})/{i})))"
    return f"select=isnan(prev_selected_t)+gt(floor(t/{i})\\,floor(prev_selected_t/{i}))"


def thumbnail_output(encode: ThumbnailEncode, encode_index: int, ctx: Context) -> OutputSpec | None:
    found = _source(encode, ctx, f"thumbnail {encode.suffix}")
    if found is None:
        return None
    index, chain = found
    seek = ctx.job.seek_to
    if ctx.job.thumbnail_time is not None:
        select = select_times([ctx.job.thumbnail_time - ctx.input_seek(index)])
    elif encode.interval_seconds is not None:
        select = select_interval(encode.interval_seconds, seek)
    else:
        duration = ctx.output_duration(index)
        if duration <= 0:
            skip_or_fail(encode.optional, f"Can not produce thumbnail {encode.suffix}. Could not detect duration.")
            return None
        if not encode.percentages:
            skip_or_fail(encode.optional, f"Can not produce thumbnail {encode.suffix}. No times selected.")
            return None
        select = select_times([p * duration / 100 + (seek or 0.0) for p in encode.percentages])
    scale = f"scale=w={encode.thumbnail_width}:h={encode.thumbnail_height}:out_range=jpeg"
    number = f"%0{encode.suffix_zero_pad}d" if encode.suffix_zero_pad else "%d"
    path = ctx.workdir / f"{ctx.job.base_name}{encode.suffix}{ctx.name_suffix}{number}.jpg"
    video = VideoSpec(input_index=index, chain=(*chain, select, scale), params=("-fps_mode", "vfr"))
    planned = PlannedOutput(path=path, kind="image", encode_index=encode_index, optional=encode.optional)
    return OutputSpec(planned=planned, video=video, extra=("-q:v", str(encode.quality)), muxer="image2")


def thumbnail_map_output(encode: ThumbnailMapEncode, encode_index: int, ctx: Context) -> OutputSpec | None:
    """cols*rows frames evenly over the output, each fitted into a tile, tiled into one picture."""
    suffix = encode.output_suffix
    found = _source(encode, ctx, f"thumbnail map {suffix}")
    if found is None:
        return None
    index, chain = found
    duration = ctx.output_duration(index)
    if duration <= 0:
        skip_or_fail(encode.optional, f"Cannot create thumbnail map {suffix}! Could not detect duration.")
        return None
    width, height = encode.tile_width, encode.tile_height
    fit = f"scale={width}:{height}:force_original_aspect_ratio=decrease:force_divisible_by=2"
    if encode.format in ("jpg", "jpeg"):
        fit += ":out_range=jpeg"
    filters = (
        select_interval(duration / (encode.cols * encode.rows), ctx.job.seek_to),
        fit,
        f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2",
        "setsar=1/1",
        f"tile={encode.cols}x{encode.rows}",
    )
    video = VideoSpec(input_index=index, chain=(*chain, *filters), params=("-fps_mode", "vfr"))
    planned = PlannedOutput(
        path=ctx.output_path(suffix, encode.format), kind="image", encode_index=encode_index, optional=encode.optional
    )
    extra = ("-q:v", str(encode.quality), "-frames:v", "1", "-update", "1")
    return OutputSpec(planned=planned, video=video, extra=extra, muxer="image2")
