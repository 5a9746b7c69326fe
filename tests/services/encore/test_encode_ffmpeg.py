"""The command builder's plans run by the real FFmpeg on small lavfi-made inputs; outputs checked with PyAV."""

from __future__ import annotations

import itertools
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import pytest

from mediaplane.kit.ffmpeg import find_ffmpeg, run_ffmpeg
from mediaplane.services.encore.encode.command import (
    EncodePlan,
    PlanError,
    ResolvedInput,
    build_plan,
    join_segments_command,
    segment_count,
)
from mediaplane.services.encore.encode.plan import output_files
from mediaplane.services.encore.profiles.model import Profile
from mediaplane.services.encore.schemas.job import EncoreJob
from mediaplane.services.encore.schemas.media import AudioStream, VideoFile, VideoStream

FAST = {"preset": "ultrafast", "pix_fmt": "yuv420p"}
TESTSRC = ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25"]


def ffmpeg(out: Path, *args: str) -> Path:
    argv = [find_ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args, str(out)]
    subprocess.run(argv, check=True, capture_output=True, timeout=120)
    return out


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("encode-media")
    sine = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    h264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25"]
    ffmpeg(folder / "clip.mp4", *TESTSRC, *sine, "-t", "2", *h264, "-c:a", "aac", "-ac", "2")
    ffmpeg(folder / "long.mp4", *TESTSRC, *sine, "-t", "3", *h264, "-c:a", "aac", "-ac", "2")
    ffmpeg(folder / "silent.mp4", *TESTSRC, "-t", "2", *h264)
    monos = [arg for f in (300, 400, 500, 600) for arg in ("-f", "lavfi", "-i", f"sine=frequency={f}")]
    maps = [arg for i in range(5) for arg in ("-map", str(i))]
    ffmpeg(folder / "monos.mp4", *TESTSRC, *monos, "-t", "2", *maps, *h264, "-c:a", "aac", "-ac", "1")
    ffmpeg(folder / "raw.yuv", *TESTSRC, "-t", "1", "-pix_fmt", "yuv420p", "-f", "rawvideo")
    return folder


def probe(path: Path) -> VideoFile:
    """A small analysis with PyAV, enough for the builder."""
    with av.open(str(path)) as container:
        videos = [
            VideoStream(
                width=s.codec_context.width,
                height=s.codec_context.height,
                sample_aspect_ratio="1:1",
                frame_rate=str(s.average_rate),
                duration=float(s.duration * s.time_base) if s.duration else None,
            )
            for s in container.streams.video
        ]
        audios = [
            AudioStream(codec=s.codec_context.name, channels=s.codec_context.channels, channel_layout=s.layout.name)
            for s in container.streams.audio
        ]
        duration = container.duration / 1_000_000 if container.duration else None
    return VideoFile(
        file=str(path), file_size=path.stat().st_size, duration=duration, video_streams=videos, audio_streams=audios
    )


def make_job(*inputs: dict[str, Any], **fields: Any) -> EncoreJob:
    return EncoreJob.model_validate(
        {"profile": "test", "outputFolder": "/out", "baseName": "demo_", "inputs": list(inputs), **fields}
    )


def resolve(job: EncoreJob, *analyzed: VideoFile) -> list[ResolvedInput]:
    return [ResolvedInput(i, i.uri, a) for i, a in zip(job.inputs, analyzed, strict=True)]


def plan_for(media: Path, workdir: Path, encodes: list[dict[str, Any]], **job_fields: Any) -> EncodePlan:
    clip = media / job_fields.pop("source", "clip.mp4")
    job = make_job({"type": "AudioVideo", "uri": str(clip), **job_fields.pop("input", {})}, **job_fields)
    profile = Profile.model_validate({"name": "test", "encodes": encodes})
    return build_plan(job, profile, resolve(job, probe(clip)), workdir)


async def run(plan: EncodePlan) -> None:
    for folder in {o.path.parent for o in plan.outputs}:
        folder.mkdir(parents=True, exist_ok=True)
    for args in plan.commands:
        await run_ffmpeg(args, duration=plan.duration)


def streams(path: Path) -> dict[str, Any]:
    with av.open(str(path)) as c:
        video = c.streams.video[0] if c.streams.video else None
        return {
            "size": (video.codec_context.width, video.codec_context.height) if video else None,
            "vcodec": video.codec_context.name if video else None,
            "audio": [(s.codec_context.name, s.codec_context.channels) for s in c.streams.audio],
            "duration": c.duration / 1_000_000 if c.duration else None,
            "comment": c.metadata.get("comment"),
            "format": c.format.name,
        }


def x264(suffix: str, height: int, **extra: Any) -> dict[str, Any]:
    return {"type": "X264Encode", "suffix": suffix, "height": height, "params": dict(FAST), **extra}


async def test_ladder_with_nested_aac_in_one_process(media: Path, tmp_path: Path) -> None:
    aac = {"audioEncode": {"bitrate": "96k", "suffix": "STEREO"}}
    encodes = [x264("_x264_240", 240, **aac), x264("_x264_180", 180, **aac), x264("_x264_120", 120, **aac)]
    plan = plan_for(media, tmp_path, encodes)
    assert len(plan.commands) == 1
    await run(plan)
    sizes = {}
    for out in plan.outputs:
        info = streams(out.path)
        assert info["vcodec"] == "h264" and info["audio"] == [("aac", 2)]
        assert info["comment"] == "Transcoded using Encore"
        sizes[out.path.name] = info["size"]
    assert sizes == {
        "demo__x264_240.mp4": (320, 240),
        "demo__x264_180.mp4": (240, 180),
        "demo__x264_120.mp4": (160, 120),
    }


async def test_two_pass_shares_one_process_per_pass(media: Path, tmp_path: Path) -> None:
    encodes = [
        x264("_a", 240, twoPass=True, params={**FAST, "b:v": "300k"}, **{"x264-params": {"keyint": 50}}),
        x264("_b", 120, twoPass=True, params={**FAST, "b:v": "200k"}),
        x264("_c", 120),
    ]
    plan = plan_for(media, tmp_path, encodes)
    assert len(plan.commands) == 2
    await run(plan)
    assert (tmp_path / "log_a").is_file() and (tmp_path / "log_b").is_file()
    assert [streams(o.path)["size"] for o in plan.outputs] == [(320, 240), (160, 120), (160, 120)]


async def test_thumbnails_and_thumbnail_map(media: Path, tmp_path: Path) -> None:
    encodes = [
        {"type": "ThumbnailEncode", "thumbnailHeight": 120},
        {"type": "ThumbnailMapEncode", "cols": 4, "rows": 3},
    ]
    plan = plan_for(media, tmp_path, encodes)
    await run(plan)
    thumbs = output_files(plan.outputs[0])
    assert [p.name for p in thumbs] == ["demo__thumb01.jpg", "demo__thumb02.jpg", "demo__thumb03.jpg"]
    assert {streams(p)["size"] for p in thumbs} == {(160, 120)}
    tile_map = tmp_path / "demo__4x3_160x90_thumbnail_map.jpg"
    assert output_files(plan.outputs[1]) == [tile_map]
    assert streams(tile_map)["size"] == (4 * 160, 3 * 90)


async def test_thumbnail_time_gives_one_picture(media: Path, tmp_path: Path) -> None:
    plan = plan_for(media, tmp_path, [{"type": "ThumbnailEncode", "thumbnailHeight": 60}], thumbnailTime=1.2)
    await run(plan)
    assert [p.name for p in output_files(plan.outputs[0])] == ["demo__thumb01.jpg"]


async def test_audio_only_outputs(media: Path, tmp_path: Path) -> None:
    encodes = [
        {"type": "AudioEncode", "bitrate": "96k", "suffix": "_STEREO"},
        {"type": "AudioEncode", "channelLayout": "mono", "samplerate": 44100},
        {"type": "SimpleAudioEncode", "codec": "aac", "bitrate": "64k"},
    ]
    plan = plan_for(media, tmp_path, encodes)
    await run(plan)
    names = [o.path.name for o in plan.outputs]
    assert names == ["demo__STEREO.mp4", "demo__aac_mono.mp4", "demo__aac.mp4"]
    assert [streams(o.path)["audio"] for o in plan.outputs] == [[("aac", 2)], [("aac", 1)], [("aac", 2)]]
    assert all(streams(o.path)["size"] is None for o in plan.outputs)
    with av.open(str(tmp_path / "demo__aac_mono.mp4")) as c:
        assert c.streams.audio[0].rate == 44100


async def test_mono_streams_joined_to_the_input_layout(media: Path, tmp_path: Path) -> None:
    encodes = [
        {"type": "AudioEncode", "bitrate": "96k", "suffix": "_STEREO"},
        {"type": "AudioEncode", "channelLayout": "quad", "suffix": "_QUAD"},
    ]
    plan = plan_for(media, tmp_path, encodes, source="monos.mp4", input={"channelLayout": "quad"})
    graph = plan.commands[0][plan.commands[0].index("-filter_complex") + 1]
    assert "[0:a:0][0:a:1][0:a:2][0:a:3]join=inputs=4:channel_layout=quad:map=0.0-FL|1.0-FR|2.0-BL|3.0-BR" in graph
    await run(plan)
    assert [streams(o.path)["audio"] for o in plan.outputs] == [[("aac", 2)], [("aac", 4)]]


async def test_seek_and_duration_cut_the_output(media: Path, tmp_path: Path) -> None:
    encodes = [x264("_cut", 120, params={**FAST, "r": "25"}, audioEncode={"bitrate": "64k"})]
    plan = plan_for(media, tmp_path, encodes, seekTo=0.5, duration=1.0)
    assert plan.duration == 1.0
    await run(plan)
    assert streams(plan.outputs[0].path)["duration"] == pytest.approx(1.0, abs=0.05)


async def test_crop_and_pad_to_ratio(media: Path, tmp_path: Path) -> None:
    encodes = [x264("_square", 120, cropTo="1:1"), x264("_wide", 120, padTo="16:9")]
    plan = plan_for(media, tmp_path, encodes)
    await run(plan)
    assert [streams(o.path)["size"] for o in plan.outputs] == [(120, 120), (214, 120)]


async def test_input_crop_pad_and_dar(media: Path, tmp_path: Path) -> None:
    rung = [x264("_full", 240)]
    cases = {"cropTo": "1:1", "padTo": "16:9", "dar": "16:9"}
    sizes = {}
    for key, value in cases.items():
        workdir = tmp_path / key
        plan = plan_for(media, workdir, rung, input={key: value})
        await run(plan)
        sizes[key] = streams(plan.outputs[0].path)["size"]
    assert sizes["cropTo"] == (240, 240)
    for key in ("padTo", "dar"):
        width, height = sizes[key]
        assert height == 240 and Fraction(width, height) == pytest.approx(16 / 9, abs=0.01)


async def test_debug_overlay_runs(media: Path, tmp_path: Path) -> None:
    plan = plan_for(media, tmp_path, [x264("_x264_120", 120)], debugOverlay=True)
    assert any("drawtext=" in arg for arg in plan.commands[0])
    await run(plan)
    assert streams(plan.outputs[0].path)["size"] == (160, 120)


async def test_archive_dnxhr_mxf_from_raw_yuv(media: Path, tmp_path: Path) -> None:
    raw = media / "raw.yuv"
    params = {"f": "rawvideo", "video_size": "320x240", "framerate": "25", "pixel_format": "yuv420p"}
    job = make_job({"type": "Video", "uri": str(raw), "params": params}, baseName="testyuv")
    analyzed = VideoFile(
        file=str(raw),
        file_size=raw.stat().st_size,
        duration=1.0,
        video_streams=[VideoStream(width=320, height=240, frame_rate="25/1", duration=1.0)],
    )
    archive = {
        "type": "VideoEncode",
        "codec": "dnxhd",
        "format": "mxf",
        "suffix": "_raw",
        "height": 240,
        "params": {"profile:v": "dnxhr_hq", "pix_fmt": "yuv422p"},
        "audioEncode": {"type": "SimpleAudioEncode", "codec": "pcm_s24le", "optional": True},
    }
    profile = Profile.model_validate({"name": "archive", "encodes": [archive]})
    plan = build_plan(job, profile, resolve(job, analyzed), tmp_path)
    assert plan.outputs[0].path == tmp_path / "testyuv_raw.mxf"
    await run(plan)
    info = streams(plan.outputs[0].path)
    assert info["format"] == "mxf" and info["vcodec"] == "dnxhd" and info["audio"] == []


def test_missing_required_audio_is_a_plan_error(media: Path, tmp_path: Path) -> None:
    encodes = [x264("_v", 120, audioEncode={"bitrate": "64k", "suffix": "_STEREO"})]
    with pytest.raises(PlanError, match=r"Can not generate demo__STEREO\.mp4! No audio streams in input!"):
        plan_for(media, tmp_path, encodes, source="silent.mp4")
    optional = [x264("_v", 120, audioEncode={"bitrate": "64k", "optional": True})]
    plan = plan_for(media, tmp_path, optional, source="silent.mp4")
    assert "-an" in plan.commands[0]


async def test_segments_and_whole_audio_join_without_gaps(media: Path, tmp_path: Path) -> None:
    clip = media / "long.mp4"
    job = make_job({"type": "AudioVideo", "uri": str(clip)}, segmentLength=1.0)
    rung = x264("_x264_120", 120, params={**FAST, "r": "25", "fps_mode": "cfr", "g": "25"})
    profile = Profile.model_validate(
        {"name": "test", "encodes": [{**rung, "audioEncode": {"bitrate": "96k"}}, {"type": "ThumbnailEncode"}]}
    )
    inputs = resolve(job, probe(clip))
    analyzed = inputs[0].analyzed
    assert isinstance(analyzed, VideoFile) and analyzed.duration is not None
    count = segment_count(analyzed.duration, 1.0)
    assert count == 3
    segments: list[Path] = []
    for n in range(count):
        plan = build_plan(
            job,
            profile,
            inputs,
            tmp_path / "segments",
            audio=False,
            thumbnails=False,
            seek=n * 1.0,
            length=1.0,
            name_suffix=f"_{n:05d}",
        )
        assert [o.kind for o in plan.outputs] == ["video"]
        await run(plan)
        segments.append(plan.outputs[0].path)
    audio_plan = build_plan(job, profile, inputs, tmp_path / "audio", video=False, thumbnails=False)
    assert [(o.kind, o.encode_index) for o in audio_plan.outputs] == [("audio", 0)]
    await run(audio_plan)
    target = tmp_path / "demo__x264_120.mp4"
    await run_ffmpeg(join_segments_command(segments, audio_plan.outputs[0].path, target, {}))
    info = streams(target)
    assert info["audio"] == [("aac", 2)] and info["size"] == (160, 120)
    assert info["duration"] == pytest.approx(analyzed.duration, abs=1 / 25 + 0.03)
    with av.open(str(target)) as c:
        video = c.streams.video[0]
        frames = sum(1 for p in c.demux(video) if p.size)
    assert frames == 75
    with av.open(str(target)) as c:
        stream = c.streams.audio[0]
        packets = [(p.pts, p.duration) for p in c.demux(stream) if p.pts is not None]
        end = float((packets[-1][0] + packets[-1][1]) * stream.time_base)
    gaps = [b[0] - (a[0] + a[1]) for a, b in itertools.pairwise(packets)]
    assert max(gaps) == 0 and min(gaps) == 0
    assert end == pytest.approx(analyzed.duration, abs=0.03)
