"""Encore's command builder: one FFmpeg process encodes every rendition of a job (one process per pass).

    plan = build_plan(job, profile, inputs, workdir)
    for args in plan.commands:
        await run_ffmpeg(args, duration=plan.duration, ...)

The inputs' video is split in one ``-filter_complex`` to every rendition, thumbnail and thumbnail map;
their audio is split to every audio stream. A two-pass profile gives two commands: the first writes the
two-pass renditions to the null muxer (stats files in ``workdir``), the second encodes everything.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

from mediaplane.services.encore.encode import audio as audio_encodes
from mediaplane.services.encore.encode.filters import input_filters
from mediaplane.services.encore.encode.plan import EncodePlan, PlanError, PlannedOutput, ResolvedInput
from mediaplane.services.encore.encode.segments import join_segments_command, segment_count
from mediaplane.services.encore.encode.specs import COMMENT, Context, OutputSpec, params_args, seconds
from mediaplane.services.encore.encode.thumbnails import thumbnail_map_output, thumbnail_output
from mediaplane.services.encore.encode.video import NULL_OUTPUT, video_output
from mediaplane.services.encore.profiles.model import (
    AudioEncode,
    Profile,
    SimpleAudioEncode,
    ThumbnailEncode,
    ThumbnailMapEncode,
    VideoEncode,
    X264Encode,
    X265Encode,
)
from mediaplane.services.encore.schemas.job import AudioVideoInput, EncoreJob, VideoInput

__all__ = [
    "EncodePlan",
    "PlanError",
    "PlannedOutput",
    "ResolvedInput",
    "build_plan",
    "join_segments_command",
    "segment_count",
]

log = logging.getLogger(__name__)

PROTOCOL_PARAMS: dict[str, dict[str, str | None]] = {
    "http": {"reconnect": "1", "reconnect_on_network_error": "1"},
}
GLOBAL_ARGS = ["-loglevel", "+level", "-y", "-xerror"]


def build_plan(
    job: EncoreJob,
    profile: Profile,
    inputs: list[ResolvedInput],
    workdir: Path,
    *,
    video: bool = True,
    audio: bool = True,
    thumbnails: bool = True,
    seek: float | None = None,
    length: float | None = None,
    name_suffix: str = "",
) -> EncodePlan:
    """The FFmpeg commands for ``job`` with ``profile``; ``inputs`` in the job's order, analysed.

    ``video``/``audio``/``thumbnails`` choose what is made (an audio-only plan writes the audio of each
    video encode alone, under that encode's name); ``seek`` is added to every input's seek and ``length``
    replaces the job's duration (a segment of a segmented encode); ``name_suffix`` goes before each file's
    extension. Raises PlanError when a required output cannot be made or nothing is left to make.
    """
    ctx = Context(job, profile, inputs, workdir, seek, length, name_suffix)
    outputs: list[OutputSpec] = []
    for index, encode in enumerate(profile.encodes):
        spec: OutputSpec | None = None
        if not encode.enabled:
            log.info("encode %d (%s) is disabled; skipping it", index, encode.type)
        elif isinstance(encode, X264Encode | X265Encode | VideoEncode):
            spec = video_output(encode, index, ctx, video=video, audio=audio)
        elif isinstance(encode, AudioEncode | SimpleAudioEncode):
            spec = audio_encodes.audio_output(encode, index, ctx) if audio else None
        elif isinstance(encode, ThumbnailEncode):
            spec = thumbnail_output(encode, index, ctx) if thumbnails else None
        elif isinstance(encode, ThumbnailMapEncode):
            spec = thumbnail_map_output(encode, index, ctx) if thumbnails else None
        if spec is not None:
            outputs.append(spec)
    if not outputs:
        raise PlanError("No outputs to encode! Check your profile and inputs!")
    commands = []
    two_pass = [o for o in outputs if o.video is not None and o.video.first_pass is not None]
    if two_pass:
        commands.append(_command(ctx, two_pass, first_pass=True))
    commands.append(_command(ctx, outputs, first_pass=False))
    return EncodePlan(commands=commands, outputs=[o.planned for o in outputs], duration=ctx.expected_duration())


def _command(ctx: Context, outputs: list[OutputSpec], *, first_pass: bool) -> list[str]:
    audio_specs = [] if first_pass else [(j, n, a) for j, o in enumerate(outputs) for n, a in enumerate(o.audio)]
    used = sorted({o.video.input_index for o in outputs if o.video} | {a.input_index for _, _, a in audio_specs})
    number = {job_index: position for position, job_index in enumerate(used)}
    args = list(GLOBAL_ARGS)
    for job_index in used:
        args += _input_args(ctx, job_index)
    graph = _video_graph(ctx, outputs, number) + _audio_graph(ctx, audio_specs, number)
    if graph:
        args += ["-filter_complex", ";".join([f"sws_flags={ctx.profile.scaling}", *graph])]
    for j, output in enumerate(outputs):
        args += _first_pass_args(ctx, output, j) if first_pass else _output_args(ctx, output, j, number)
    return args


def _input_args(ctx: Context, index: int) -> list[str]:
    resolved = ctx.inputs[index]
    scheme = urlsplit(resolved.url).scheme.lower()
    defaults = PROTOCOL_PARAMS.get("http" if scheme == "https" else scheme, {})
    args = params_args({**defaults, **resolved.input.params})
    if ctx.duration is not None:
        # Read no further than the output needs.
        args += ["-t", seconds(ctx.duration + (ctx.job.seek_to or 0.0))]
    if (seek := ctx.input_seek(index)) > 0:
        args += ["-ss", seconds(seek)]
    if resolved.input.copy_ts:
        args.append("-copyts")
    return [*args, "-i", resolved.url]


def _video_graph(ctx: Context, outputs: list[OutputSpec], number: dict[int, int]) -> list[str]:
    branches: dict[int, list[str]] = {}
    chains: list[str] = []
    for j, output in enumerate(outputs):
        if output.video is None:
            continue
        if output.video.chain:
            branches.setdefault(output.video.input_index, []).append(f"[s{j}]")
            chains.append(f"[s{j}]{','.join(output.video.chain)}[v{j}]")
        else:
            branches.setdefault(output.video.input_index, []).append(f"[v{j}]")
    graph = []
    for job_index, labels in branches.items():
        source = ctx.inputs[job_index].input
        assert isinstance(source, VideoInput | AudioVideoInput)
        selector = f"[{number[job_index]}:v{'' if source.video_stream is None else f':{source.video_stream}'}]"
        filters = [*input_filters(source, ctx.video_stream(job_index), ctx.profile), f"split={len(labels)}"]
        graph.append(f"{selector}{','.join(filters)}{''.join(labels)}")
    return graph + chains


def _audio_graph(
    ctx: Context, specs: list[tuple[int, int, audio_encodes.AudioSpec]], number: dict[int, int]
) -> list[str]:
    branches: dict[int, list[str]] = {}
    chains: list[str] = []
    for j, n, spec in specs:
        if spec.preserve:
            continue
        if spec.chain:
            branches.setdefault(spec.input_index, []).append(f"[p{j}_{n}]")
            chains.append(f"[p{j}_{n}]{','.join(spec.chain)}[a{j}_{n}]")
        else:
            branches.setdefault(spec.input_index, []).append(f"[a{j}_{n}]")
    graph = []
    for job_index, labels in branches.items():
        selectors = audio_encodes.input_selectors(ctx, job_index, number[job_index])
        filters = [*audio_encodes.input_filters(ctx, job_index), f"asplit={len(labels)}"]
        graph.append(f"{selectors}{','.join(filters)}{''.join(labels)}")
    return graph + chains


def _timing_args(ctx: Context) -> list[str]:
    args = []
    if (seek := ctx.output_seek) > 0:
        args += ["-ss", seconds(seek)]
    if ctx.duration is not None:
        args += ["-t", seconds(ctx.duration)]
    return args


def _first_pass_args(ctx: Context, output: OutputSpec, j: int) -> list[str]:
    assert output.video is not None and output.video.first_pass is not None
    return ["-map", f"[v{j}]", *_timing_args(ctx), "-an", *output.video.first_pass, *NULL_OUTPUT]


def _output_args(ctx: Context, output: OutputSpec, j: int, number: dict[int, int]) -> list[str]:
    maps: list[str] = []
    if output.video is not None:
        maps += ["-map", f"[v{j}]"]
    codecs = list(output.video.params) if output.video is not None else ["-vn"]
    for n, spec in enumerate(output.audio):
        if spec.preserve:
            source = ctx.inputs[spec.input_index].input
            stream = getattr(source, "audio_stream", None)
            maps += ["-map", f"{number[spec.input_index]}:a{'' if stream is None else f':{stream}'}"]
        else:
            maps += ["-map", f"[a{j}_{n}]"]
        codecs += [p.replace("{stream_index}", str(n)) for p in spec.params]
    if not output.audio:
        codecs.append("-an")
    muxer = ["-f", output.muxer] if output.muxer else []
    tail = ["-map_metadata", "-1", "-metadata", COMMENT, *muxer, str(output.planned.path)]
    return [*maps, *_timing_args(ctx), *codecs, *output.extra, *tail]
