"""Video encodes (X264Encode, X265Encode, generic VideoEncode): codec options, passes, nested audio."""

from __future__ import annotations

import os

from mediaplane.services.encore.encode.audio import MUXERS, audio_spec
from mediaplane.services.encore.encode.filters import rendition_filters
from mediaplane.services.encore.encode.plan import PlanError, PlannedOutput
from mediaplane.services.encore.encode.specs import AudioSpec, Context, OutputSpec, VideoSpec, params_args, skip_or_fail
from mediaplane.services.encore.profiles.model import VideoEncode, X264Encode, X265Encode
from mediaplane.services.encore.schemas.job import AudioVideoInput, VideoInput

AnyVideoEncode = X264Encode | X265Encode | VideoEncode
CODEC_KEYS = frozenset({"c:v", "codec:v", "vcodec"})
NULL_OUTPUT = ["-f", "null", os.devnull]


def codec_params(encode: AnyVideoEncode, ctx: Context, pass_number: int | None) -> list[str]:
    """``-c:v`` then the profile's params in order; x264/x265 carry the pass in their own params,
    other encoders take ``-pass``/``-passlogfile``."""
    args = ["-c:v", encode.codec, *params_args({k: v for k, v in encode.params.items() if k not in CODEC_KEYS})]
    stats = str(ctx.workdir / f"log{encode.suffix}{ctx.name_suffix}")
    if isinstance(encode, X264Encode | X265Encode):
        own = dict(encode.codec_params)
        if pass_number is not None:
            own |= {"pass": str(pass_number), "stats": stats}
        if own:
            name = "x264-params" if isinstance(encode, X264Encode) else "x265-params"
            args += [f"-{name}", ":".join(k if v is None else f"{k}={v}" for k, v in own.items())]
    elif pass_number is not None:
        args += ["-pass", str(pass_number), "-passlogfile", stats]
    return args


def rendition_chain(encode: AnyVideoEncode, ctx: Context, index: int) -> tuple[str, ...]:
    source = ctx.inputs[index].input
    assert isinstance(source, VideoInput | AudioVideoInput)
    stream = ctx.video_stream(index)
    return tuple(rendition_filters(encode, source, stream, debug_overlay=ctx.job.debug_overlay))


def video_output(
    encode: AnyVideoEncode, encode_index: int, ctx: Context, *, video: bool, audio: bool
) -> OutputSpec | None:
    """The encode's file: its video (when ``video``) with its audio muxed in (when ``audio``).
    With only audio asked for, the file holds that audio alone, under the same name."""
    audio_specs: list[AudioSpec] = []
    if audio:
        audio_specs = [found for a in encode.audio if (found := audio_spec(a, ctx)) is not None]
        if len(audio_specs) > 1 and any(s.preserve for s in audio_specs):
            raise PlanError(
                "Error in profile! Preserve audio layout in combination with multiple audiostreams not supported."
            )
    path = ctx.output_path(encode.suffix, encode.format)
    muxer = MUXERS.get(encode.format)
    if not video:
        if not audio_specs:
            return None
        planned = PlannedOutput(path=path, kind="audio", encode_index=encode_index, optional=encode.optional)
        return OutputSpec(planned=planned, video=None, audio=tuple(audio_specs), muxer=muxer)
    index = ctx.video_input(encode.input_label)
    if index is None or ctx.video_stream(index) is None:
        skip_or_fail(encode.optional, f"No valid video input with label {encode.input_label}!")
        return None
    spec = VideoSpec(
        input_index=index,
        chain=rendition_chain(encode, ctx, index),
        params=tuple(codec_params(encode, ctx, 2 if encode.two_pass else None)),
        first_pass=tuple(codec_params(encode, ctx, 1)) if encode.two_pass else None,
    )
    planned = PlannedOutput(path=path, kind="video", encode_index=encode_index, optional=encode.optional)
    return OutputSpec(planned=planned, video=spec, audio=tuple(audio_specs), muxer=muxer)
