"""Audio encodes: which input they read, how its channels are mixed, and the encoder options (Encore's rules)."""

from __future__ import annotations

from mediaplane.services.encore.encode.layouts import LAYOUTS, AudioSource, audio_source
from mediaplane.services.encore.encode.plan import PlanError, PlannedOutput
from mediaplane.services.encore.encode.specs import AudioSpec, Context, OutputSpec, params_args, skip_or_fail
from mediaplane.services.encore.profiles.model import AudioEncode, SimpleAudioEncode
from mediaplane.services.encore.schemas.job import AudioInput, AudioVideoInput

MUXERS = {"mp4": "mp4", "mov": "mov", "mxf": "mxf", "mkv": "matroska", "webm": "webm", "ts": "mpegts"}
MIX_PRESETS = frozenset({"default"})


def input_source(ctx: Context, index: int) -> AudioSource | None:
    source = ctx.inputs[index].input
    assert isinstance(source, AudioVideoInput | AudioInput)
    return audio_source(
        ctx.audio_streams(index),
        audio_stream=source.audio_stream,
        layout_hint=source.channel_layout,
        label=source.audio_label,
    )


def input_filters(ctx: Context, index: int) -> list[str]:
    """Before the split: mono streams joined into one layout, then the input's own audio filters."""
    source = ctx.inputs[index].input
    assert isinstance(source, AudioVideoInput | AudioInput)
    found = input_source(ctx, index)
    joined = found.join_filter() if found else None
    return ([joined] if joined else []) + list(source.audio_filters)


def input_selectors(ctx: Context, index: int, command_index: int) -> str:
    found = input_source(ctx, index)
    streams = found.streams if found else (0,)
    return "".join(f"[{command_index}:a:{n}]" for n in streams)


def audio_spec(encode: AudioEncode | SimpleAudioEncode, ctx: Context) -> AudioSpec | None:
    """One audio stream of an output, or None when an optional (or disabled) encode cannot be made."""
    name = f"{ctx.job.base_name}{encode.output_suffix}.{encode.format}"
    optional = encode.optional or not encode.enabled
    if not encode.enabled:
        skip_or_fail(True, f"{name} is disabled. Skipping...")
        return None
    index = ctx.audio_input(encode.input_label)
    if index is None:
        skip_or_fail(optional, f"Can not generate {name}! No audio input with label '{encode.input_label}'.")
        return None
    if not ctx.audio_streams(index):
        skip_or_fail(optional, f"Can not generate {name}! No audio streams in input!")
        return None
    if isinstance(encode, SimpleAudioEncode):
        params = [*params_args(encode.params), "-c:a", encode.codec]
        if encode.samplerate is not None:
            params += ["-ar", str(encode.samplerate)]
        if encode.bitrate:
            params += ["-b:a", encode.bitrate]
        return AudioSpec(input_index=index, chain=(), params=tuple(params), preserve=True)
    found = input_source(ctx, index)
    assert found is not None  # the input has audio streams
    if encode.audio_mix_preset not in MIX_PRESETS:
        raise PlanError(f"Audio mix preset '{encode.audio_mix_preset}' not found!")
    target = encode.channel_layout
    if target not in LAYOUTS:
        raise PlanError(f"Unknown channel layout '{target}' in {name}!")
    # No pan presets are configured: FFmpeg's own remix, as Encore's fallback-to-auto, where it applies.
    if not (target == "stereo" or 1 <= len(LAYOUTS[target]) <= found.channels):
        skip_or_fail(
            optional,
            f"Can not generate {name}! No audio mix preset for '{encode.audio_mix_preset}': "
            f"{found.layout} -> {target}!",
        )
        return None
    params = ["-c:a:{stream_index}", encode.codec, "-ar:a:{stream_index}", str(encode.samplerate)]
    if encode.bitrate:
        params += ["-b:a:{stream_index}", encode.bitrate]
    params += params_args(encode.params)
    chain = (f"aformat=channel_layouts={target}", *encode.filters)
    return AudioSpec(input_index=index, chain=chain, params=tuple(params))


def audio_output(encode: AudioEncode | SimpleAudioEncode, encode_index: int, ctx: Context) -> OutputSpec | None:
    """A top-level audio encode: a file of its own."""
    spec = audio_spec(encode, ctx)
    if spec is None:
        return None
    path = ctx.output_path(encode.output_suffix, encode.format)
    planned = PlannedOutput(path=path, kind="audio", encode_index=encode_index, optional=encode.optional)
    return OutputSpec(planned=planned, video=None, audio=(spec,), muxer=MUXERS.get(encode.format))
