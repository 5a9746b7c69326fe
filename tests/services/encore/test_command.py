"""The shape of the FFmpeg commands the builder makes from a job, a profile and analysed inputs (no FFmpeg run)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from mediaplane.services.encore.encode import filters
from mediaplane.services.encore.encode.command import (
    EncodePlan,
    PlanError,
    ResolvedInput,
    build_plan,
    join_segments_command,
    segment_count,
)
from mediaplane.services.encore.encode.filters import escape
from mediaplane.services.encore.encode.plan import PlannedOutput, output_files
from mediaplane.services.encore.profiles.model import Profile
from mediaplane.services.encore.schemas.job import EncoreJob
from mediaplane.services.encore.schemas.media import AudioFile, AudioStream, VideoFile, VideoStream

WORK = Path("/work/job")
STEREO = AudioStream(codec="aac", channels=2, channel_layout="stereo", duration=10.0)


def video_file(*, audio: list[AudioStream] | None = None, duration: float = 10.0, **stream: Any) -> VideoFile:
    fields = {"width": 1920, "height": 1080, "sample_aspect_ratio": "1:1", "display_aspect_ratio": "16:9"}
    return VideoFile(
        file="/in/source.mp4",
        file_size=1000,
        duration=duration,
        video_streams=[VideoStream(**{**fields, "duration": duration, **stream})],
        audio_streams=[STEREO] if audio is None else audio,
    )


def plan(
    encodes: list[dict[str, Any]],
    *,
    analyzed: list[VideoFile | AudioFile] | None = None,
    inputs: list[dict[str, Any]] | None = None,
    profile: dict[str, Any] | None = None,
    **options: Any,
) -> EncodePlan:
    job_fields = options.pop("job", {})
    inputs = inputs or [{"type": "AudioVideo", "uri": "/in/source.mp4"}]
    job = EncoreJob.model_validate(
        {"profile": "p", "outputFolder": "/out", "baseName": "demo_", "inputs": inputs, **job_fields}
    )
    files = analyzed or [video_file()]
    resolved = [ResolvedInput(i, i.uri, a) for i, a in zip(job.inputs, files, strict=True)]
    return build_plan(
        job, Profile.model_validate({"name": "p", "encodes": encodes, **(profile or {})}), resolved, WORK, **options
    )


def graph(command: list[str]) -> str:
    return command[command.index("-filter_complex") + 1]


def after(command: list[str], path: str) -> list[str]:
    """The options of the output written to ``path`` (from the previous output's path)."""
    end = command.index(path)
    starts = [i for i, arg in enumerate(command[:end]) if arg.startswith("/work/job/demo_") or arg == "/dev/null"]
    return command[(starts[-1] + 1 if starts else command.index("-filter_complex") + 2) : end]


X264_3100 = {
    "type": "X264Encode",
    "suffix": "_x264_3100",
    "height": 1080,
    "params": {"b:v": "3100k", "maxrate": "4700k", "r": 25, "fps_mode": "cfr", "profile:v": "high", "level": 4.1},
    "x264-params": {"keyint": 192, "keyint_min": 96, "deblock": "0,0"},
    "audioEncode": {"type": "AudioEncode", "bitrate": "128k", "suffix": "STEREO"},
}


def rung(suffix: str, height: int, **extra: Any) -> dict[str, Any]:
    return {"type": "X264Encode", "suffix": suffix, "height": height, "params": {"b:v": "1M"}, **extra}


def test_ladder_is_one_command_with_one_split() -> None:
    result = plan(
        [X264_3100, rung("_x264_720", 720), rung("_x264_360", 360), {"type": "AudioEncode", "suffix": "_STEREO"}]
    )
    assert len(result.commands) == 1
    command = result.commands[0]
    assert command[:6] == ["-loglevel", "+level", "-y", "-xerror", "-i", "/in/source.mp4"]
    assert graph(command) == (
        "sws_flags=bicubic;[0:v]split=3[s0][s1][s2];[s0]scale=-2:1080[v0];[s1]scale=-2:720[v1];"
        "[s2]scale=-2:360[v2];[0:a:0]asplit=2[p0_0][p3_0];[p0_0]aformat=channel_layouts=stereo[a0_0];"
        "[p3_0]aformat=channel_layouts=stereo[a3_0]"
    )
    assert after(command, "/work/job/demo__x264_3100.mp4") == [
        *("-map", "[v0]", "-map", "[a0_0]", "-c:v", "libx264", "-b:v", "3100k", "-maxrate", "4700k", "-r", "25"),
        *("-fps_mode", "cfr", "-profile:v", "high", "-level", "4.1"),
        *("-x264-params", "keyint=192:keyint_min=96:deblock=0,0"),
        *("-c:a:0", "aac", "-ar:a:0", "48000", "-b:a:0", "128k"),
        *("-map_metadata", "-1", "-metadata", "comment=Transcoded using Encore", "-f", "mp4"),
    ]
    assert after(command, "/work/job/demo__STEREO.mp4")[:4] == ["-map", "[a3_0]", "-vn", "-c:a:0"]
    assert [(o.path.name, o.kind, o.encode_index) for o in result.outputs] == [
        ("demo__x264_3100.mp4", "video", 0),
        ("demo__x264_720.mp4", "video", 1),
        ("demo__x264_360.mp4", "video", 2),
        ("demo__STEREO.mp4", "audio", 3),
    ]
    assert result.duration == 10.0


def test_scaling_rules_and_flags() -> None:
    both = rung("_box", 720, width=1280)
    portrait_input = video_file(width=1080, height=1920, display_aspect_ratio="9:16")
    command = plan([both, rung("_w", 0) | {"height": None, "width": 640}], profile={"scaling": "lanczos"})
    assert graph(command.commands[0]).startswith("sws_flags=lanczos;")
    assert "[s0]scale=1280:720:force_original_aspect_ratio=decrease:force_divisible_by=2,setsar=1/1[v0]" in graph(
        command.commands[0]
    )
    assert "[s1]scale=640:-2[v1]" in graph(command.commands[0])
    flipped = plan([both], analyzed=[portrait_input])
    assert "scale=720:1280:force_original_aspect_ratio=decrease" in graph(flipped.commands[0])


def test_two_pass_first_pass_writes_to_null_and_second_encodes_all() -> None:
    generic = {"type": "VideoEncode", "codec": "mpeg4", "format": "mov", "suffix": "_mpeg4", "twoPass": True}
    result = plan([X264_3100 | {"twoPass": True}, generic, rung("_single", 360)])
    first, second = result.commands
    assert graph(first) == "sws_flags=bicubic;[0:v]split=2[s0][v1];[s0]scale=-2:1080[v0]"
    ends = [i for i, arg in enumerate(first) if arg == "/dev/null"]
    assert len(ends) == 2 and first[ends[0] + 1 : ends[1]] == [
        *("-map", "[v1]", "-an", "-c:v", "mpeg4", "-pass", "1", "-passlogfile", "/work/job/log_mpeg4"),
        *("-f", "null"),
    ]
    assert "keyint=192:keyint_min=96:deblock=0,0:pass=1:stats=/work/job/log_x264_3100" in first
    assert "keyint=192:keyint_min=96:deblock=0,0:pass=2:stats=/work/job/log_x264_3100" in second
    assert after(second, "/work/job/demo__mpeg4.mov")[4:8] == ["-pass", "2", "-passlogfile", "/work/job/log_mpeg4"]
    assert after(second, "/work/job/demo__mpeg4.mov")[-2:] == ["-f", "mov"]
    assert "/work/job/demo__single.mp4" in second and "/work/job/demo__single.mp4" not in first


def test_x265_params_carry_the_pass() -> None:
    x265 = {"type": "X265Encode", "suffix": "_hevc", "twoPass": True, "x265-params": {"bframes": 4}}
    first, second = plan([x265]).commands
    assert after(first, "/dev/null")[3:7] == [
        "-c:v",
        "libx265",
        "-x265-params",
        "bframes=4:pass=1:stats=/work/job/log_hevc",
    ]
    assert "bframes=4:pass=2:stats=/work/job/log_hevc" in second


def test_input_options_protocol_defaults_seek_and_copyts() -> None:
    inputs = [
        {
            "type": "AudioVideo",
            "uri": "https://media.example/in.mp4",
            "params": {"reconnect": "0", "fflags": None},
            "seekTo": 5,
            "copyTs": True,
        }
    ]
    command = plan([rung("_a", 360)], inputs=inputs, job={"seekTo": 2, "duration": 3}).commands[0]
    start = command.index("-xerror") + 1
    assert command[start : command.index("-filter_complex")] == [
        *("-reconnect", "0", "-reconnect_on_network_error", "1", "-fflags"),
        *("-t", "5", "-ss", "5", "-copyts", "-i", "https://media.example/in.mp4"),
    ]
    # -copyts keeps the input's seek in the timestamps: the output seek adds it.
    assert after(command, "/work/job/demo__a.mp4")[2:6] == ["-ss", "7", "-t", "3"]


def test_plain_path_input_gets_no_protocol_options() -> None:
    command = plan([rung("_a", 360)]).commands[0]
    assert "-reconnect" not in command and "-ss" not in command and "-t" not in command


def test_interlaced_anamorphic_crop_pad_and_filters_before_the_split() -> None:
    source = video_file(
        is_interlaced=True, width=720, height=576, sample_aspect_ratio="64:45", display_aspect_ratio=None
    )
    inputs = [
        {"type": "AudioVideo", "uri": "/in/source.mp4", "cropTo": "4:3", "padTo": "16:9", "videoFilters": ["hflip"]}
    ]
    result = plan([rung("_a", 360)], analyzed=[source], inputs=inputs, profile={"deinterlaceFilter": "bwdif"})
    assert graph(result.commands[0]).split(";")[1] == (
        "[0:v]bwdif,setdar=16/9,scale=trunc(iw*sar/2)*2:ih,setsar=1/1,"
        "crop=min(iw\\,ih*4/3):min(ih\\,iw/(4/3)),pad=aspect=16/9:x=(ow-iw)/2:y=(oh-ih)/2,hflip,split=1[s0]"
    )
    not_probed = [{"type": "AudioVideo", "uri": "/in/source.mp4", "probeInterlaced": False}]
    assert "bwdif" not in graph(plan([rung("_a", 360)], analyzed=[source], inputs=not_probed).commands[0])


def test_dar_and_unknown_sample_aspect() -> None:
    with_dar = [{"type": "AudioVideo", "uri": "/in/source.mp4", "dar": "16:9"}]
    square = video_file(width=1440, height=1080, display_aspect_ratio="4:3")
    assert "[0:v]setdar=16/9,scale=trunc(iw*sar/2)*2:ih,setsar=1/1,split=1" in graph(
        plan([rung("_a", 360)], analyzed=[square], inputs=with_dar).commands[0]
    )
    unknown = video_file(sample_aspect_ratio=None)
    assert "[0:v]setsar=1/1,split=1" in graph(plan([rung("_a", 360)], analyzed=[unknown]).commands[0])


def test_encode_crop_pad_filters_and_video_stream() -> None:
    inputs = [{"type": "AudioVideo", "uri": "/in/source.mp4", "videoStream": 1}]
    analyzed = video_file()
    analyzed.video_streams.append(analyzed.video_streams[0])
    encode = rung("_sq", 360, cropTo="1:1", filters=["eq=contrast=1.1"])
    text = graph(plan([encode, rung("_pad", 360, padTo="4:3")], analyzed=[analyzed], inputs=inputs).commands[0])
    assert "[0:v:1]split=2[s0][s1]" in text
    assert "[s0]crop=min(iw\\,ih*1/1):min(ih\\,iw/(1/1)),scale=-2:360,eq=contrast=1.1[v0]" in text
    assert "[s1]pad=aspect=4/3:x=(ow-iw)/2:y=(oh-ih)/2,scale=-2:360[v1]" in text


def test_debug_overlay_draws_the_suffix(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(filters, "find_font", lambda: "/fonts/Sans: Bold.ttf")
    text = graph(plan([rung("_x264_360", 360)], job={"debugOverlay": True}).commands[0])
    assert (
        "scale=-2:360,drawtext=fontfile=/fonts/Sans\\\\: Bold.ttf:text=_x264_360:expansion=none:fontcolor=white"
    ) in text
    monkeypatch.setattr(filters, "find_font", lambda: None)
    with caplog.at_level(logging.WARNING):
        text = graph(plan([rung("_x264_360", 360)], job={"debugOverlay": True}).commands[0])
    assert "drawtext" not in text and "no font file found" in caplog.text


def test_escape_for_filtergraph() -> None:
    assert escape("_x264_3100") == "_x264_3100"
    # FFmpeg reads this back as "a:b,c'd" (checked with drawtext).
    assert escape("a:b,c'd") == "a\\\\:b\\,c\\\\\\'d"


def test_mono_streams_are_joined_into_the_hinted_or_default_layout() -> None:
    monos = [AudioStream(codec="aac", channels=1) for _ in range(6)]
    hinted = [{"type": "AudioVideo", "uri": "/in/source.mp4", "channelLayout": "5.1(side)"}]
    encodes = [{"type": "AudioEncode", "channelLayout": "stereo"}]
    text = graph(plan(encodes, analyzed=[video_file(audio=monos)], inputs=hinted).commands[0])
    assert text.split(";")[1] == (
        "[0:a:0][0:a:1][0:a:2][0:a:3][0:a:4][0:a:5]join=inputs=6:channel_layout=5.1(side)"
        ":map=0.0-FL|1.0-FR|2.0-FC|3.0-LFE|4.0-SL|5.0-SR,asplit=1[p0_0]"
    )
    wrong_hint = [{"type": "AudioVideo", "uri": "/in/source.mp4", "channelLayout": "stereo"}]
    assert "channel_layout=5.1:" in graph(
        plan(encodes, analyzed=[video_file(audio=monos)], inputs=wrong_hint).commands[0]
    )
    # Mono streams before the first multichannel one are used.
    mixed = [*monos[:2], STEREO]
    assert "[0:a:0][0:a:1]join=inputs=2:channel_layout=stereo" in graph(
        plan(encodes, analyzed=[video_file(audio=mixed)]).commands[0]
    )


def test_audio_filters_stream_choice_and_upmix_rules() -> None:
    surround = AudioStream(codec="ac3", channels=6, channel_layout="5.1")
    inputs = [{"type": "AudioVideo", "uri": "/in/source.mp4", "audioStream": 1, "audioFilters": ["volume=0.5"]}]
    encodes = [
        {"type": "AudioEncode", "channelLayout": "5.1", "filters": ["alimiter"], "params": {"profile:a": "aac_low"}},
        {"type": "AudioEncode", "channelLayout": "7.1", "optional": True},
    ]
    result = plan(encodes, analyzed=[video_file(audio=[STEREO, surround])], inputs=inputs)
    text = graph(result.commands[0])
    assert "[0:a:1]volume=0.5,asplit=1[p0_0];[p0_0]aformat=channel_layouts=5.1,alimiter[a0_0]" in text
    assert [o.path.name for o in result.outputs] == ["demo__aac_5.1.mp4"]
    assert after(result.commands[0], "/work/job/demo__aac_5.1.mp4")[3:11] == [
        *("-c:a:0", "aac", "-ar:a:0", "48000", "-profile:a", "aac_low", "-map_metadata", "-1"),
    ]
    with pytest.raises(PlanError, match=r"demo__aac_7.1.mp4! No audio mix preset for 'default': 5.1 -> 7.1!"):
        plan([encodes[1] | {"optional": False}], analyzed=[video_file(audio=[surround])])
    with pytest.raises(PlanError, match="Audio mix preset 'film' not found!"):
        plan([{"type": "AudioEncode", "audioMixPreset": "film"}])


def test_simple_audio_encode_keeps_the_input_layout() -> None:
    archive = {
        "type": "VideoEncode",
        "codec": "dnxhd",
        "format": "mxf",
        "suffix": "_raw",
        "params": {"b:v": "185M"},
        "audioEncode": {"type": "SimpleAudioEncode", "codec": "pcm_s24le", "samplerate": 48000},
    }
    command = plan([archive]).commands[0]
    assert "asplit" not in graph(command)
    assert after(command, "/work/job/demo__raw.mxf") == [
        *("-map", "[v0]", "-map", "0:a", "-c:v", "dnxhd", "-b:v", "185M", "-c:a", "pcm_s24le", "-ar", "48000"),
        *("-map_metadata", "-1", "-metadata", "comment=Transcoded using Encore", "-f", "mxf"),
    ]
    two = archive | {"audioEncodes": [archive["audioEncode"], {"bitrate": "96k"}]}
    with pytest.raises(PlanError, match="Preserve audio layout in combination with multiple audiostreams"):
        plan([two])


def test_audio_from_another_input_by_label() -> None:
    inputs = [
        {"type": "Video", "uri": "/in/picture.mp4"},
        {"type": "Audio", "uri": "/in/dub.wav", "audioLabel": "dub"},
    ]
    dub = AudioFile(file="/in/dub.wav", file_size=1, duration=12.0, audio_streams=[STEREO])
    encodes = [rung("_a", 360, audioEncode={"inputLabel": "dub", "bitrate": "96k"})]
    result = plan(encodes, analyzed=[video_file(audio=[]), dub], inputs=inputs)
    command = result.commands[0]
    assert command[command.index("-i") + 1] == "/in/picture.mp4" and "/in/dub.wav" in command
    assert "[1:a:0]asplit=1[p0_0]" in graph(command)
    assert result.duration == 12.0


def test_missing_inputs_fail_or_skip() -> None:
    silent = [video_file(audio=[])]
    with pytest.raises(PlanError, match=r"Can not generate demo__STEREO.mp4! No audio streams in input!"):
        plan([{"type": "AudioEncode", "suffix": "_STEREO"}], analyzed=silent)
    with pytest.raises(PlanError, match="No audio input with label 'dub'"):
        plan([rung("_a", 360, audioEncode={"inputLabel": "dub"})])
    skipped = plan([rung("_a", 360, audioEncode={"inputLabel": "dub", "optional": True})])
    assert "-an" in skipped.commands[0]
    with pytest.raises(PlanError, match="No valid video input with label sign!"):
        plan([rung("_a", 360, inputLabel="sign")])
    assert len(plan([rung("_a", 360, inputLabel="sign", optional=True), rung("_b", 360)]).outputs) == 1


def test_disabled_and_nothing_left() -> None:
    result = plan([rung("_a", 360, enabled=False), rung("_b", 360, audioEncode={"enabled": False})])
    assert [o.path.name for o in result.outputs] == ["demo__b.mp4"] and "-an" in result.commands[0]
    with pytest.raises(PlanError, match=r"^No outputs to encode! Check your profile and inputs!$"):
        plan([rung("_a", 360, enabled=False), {"type": "ThumbnailMapEncode", "enabled": False}])
    with pytest.raises(PlanError, match="No outputs to encode!"):
        plan([{"type": "ThumbnailMapEncode"}], analyzed=[video_file(duration=0)])


def test_thumbnails_select_times() -> None:
    result = plan([{"type": "ThumbnailEncode", "quality": 3}], job={"seekTo": 2})
    text = graph(result.commands[0])
    assert (
        "[s0]select=(isnan(prev_pts)+lt(prev_pts*TB\\,4))*gte(pts*TB\\,4)"
        "+(isnan(prev_pts)+lt(prev_pts*TB\\,6))*gte(pts*TB\\,6)"
        "+(isnan(prev_pts)+lt(prev_pts*TB\\,8))*gte(pts*TB\\,8),scale=w=-2:h=1080:out_range=jpeg[v0]"
    ) in text
    assert result.outputs == [PlannedOutput(WORK / "demo__thumb%02d.jpg", "image", 0, False)]
    assert after(result.commands[0], "/work/job/demo__thumb%02d.jpg")[:8] == [
        *("-map", "[v0]", "-ss", "2", "-fps_mode", "vfr", "-an", "-q:v"),
    ]
    one = plan(
        [{"type": "ThumbnailEncode", "suffixZeroPad": 3}],
        job={"thumbnailTime": 7},
        inputs=[{"type": "AudioVideo", "uri": "/in/source.mp4", "seekTo": 1}],
    )
    assert "select=(isnan(prev_pts)+lt(prev_pts*TB\\,6))*gte(pts*TB\\,6)," in graph(one.commands[0])
    assert one.outputs[0].path.name == "demo__thumb%03d.jpg"
    interval = plan([{"type": "ThumbnailEncode", "intervalSeconds": 2.5}])
    assert "select=isnan(prev_selected_t)+gt(floor(t/2.5)\\,floor(prev_selected_t/2.5))" in graph(interval.commands[0])


def test_thumbnail_map_tiles_frames_over_the_duration() -> None:
    result = plan([{"type": "ThumbnailMapEncode", "cols": 5, "rows": 4}], analyzed=[video_file(duration=40.0)])
    assert graph(result.commands[0]).endswith(
        "[s0]select=isnan(prev_selected_t)+gt(floor(t/2)\\,floor(prev_selected_t/2)),"
        "scale=160:90:force_original_aspect_ratio=decrease:force_divisible_by=2:out_range=jpeg,"
        "pad=160:90:(ow-iw)/2:(oh-ih)/2,setsar=1/1,tile=5x4[v0]"
    )
    path = "/work/job/demo__5x4_160x90_thumbnail_map.jpg"
    assert (
        after(result.commands[0], path)[-11:]
        == [
            *("-q:v", "5", "-frames:v", "1", "-update", "1"),
            *("-map_metadata", "-1", "-metadata", "comment=Transcoded using Encore", "-f", "image2"),
        ][-11:]
    )
    assert result.outputs[0].optional is True


def test_decode_output_thumbnails_branch_after_the_rendition_filters() -> None:
    encodes = [rung("_a", 360), {"type": "ThumbnailEncode", "decodeOutput": 0, "thumbnailHeight": 360}]
    text = graph(plan(encodes).commands[0])
    assert "[0:v]split=2[s0][s1];[s0]scale=-2:360[v0];[s1]scale=-2:360,select=" in text
    with pytest.raises(PlanError, match="decodeOutput 5 is no video"):
        plan([rung("_a", 360), {"type": "ThumbnailEncode", "decodeOutput": 5}])


def test_segment_and_whole_audio_plans() -> None:
    encodes = [X264_3100, {"type": "AudioEncode", "suffix": "_STEREO"}, {"type": "ThumbnailEncode"}]
    inputs = [{"type": "AudioVideo", "uri": "/in/source.mp4", "seekTo": 1}]
    segment = plan(encodes, inputs=inputs, audio=False, thumbnails=False, seek=8, length=4, name_suffix="_00002")
    command = segment.commands[0]
    assert [o.path.name for o in segment.outputs] == ["demo__x264_3100_00002.mp4"]
    assert command[4:10] == ["-t", "4", "-ss", "9", "-i", "/in/source.mp4"]
    assert "[0:a" not in graph(command) and "-an" in command and segment.duration == 4
    whole_audio = plan(encodes, inputs=inputs, video=False, thumbnails=False)
    assert [(o.path.name, o.kind, o.encode_index) for o in whole_audio.outputs] == [
        ("demo__x264_3100.mp4", "audio", 0),
        ("demo__STEREO.mp4", "audio", 1),
    ]
    assert "[0:v" not in graph(whole_audio.commands[0]) and whole_audio.duration == 9.0
    assert after(whole_audio.commands[0], "/work/job/demo__x264_3100.mp4")[:3] == ["-map", "[a0_0]", "-vn"]


def test_expected_duration() -> None:
    assert plan([rung("_a", 360)], job={"duration": 4.5}).duration == 4.5
    assert plan([rung("_a", 360)], job={"seekTo": 3}).duration == 7.0
    assert plan([rung("_a", 360)], job={"duration": 0}).duration == 10.0


def test_segment_count() -> None:
    assert segment_count(10.0, 2.5) == 4
    assert segment_count(10.04, 2.5) == 5
    assert segment_count(10.0000000001, 2.5) == 4
    assert segment_count(1.0, 4) == 1
    with pytest.raises(ValueError):
        segment_count(0, 4)


def test_join_segments_command(tmp_path: Path) -> None:
    segments = [tmp_path / "it's_00000.mp4", tmp_path / "it's_00001.mp4"]
    audio = tmp_path / "audio" / "demo__x264.mp4"
    target = tmp_path / "out" / "demo__x264.mp4"
    command = join_segments_command(segments, audio, target, {"movflags": "+faststart"})
    listing = tmp_path / "demo__x264_filelist.txt"
    quoted = [str(p).replace("'", "'\\''") for p in segments]
    assert listing.read_text() == "".join(f"file '{q}'\n" for q in quoted)
    assert command == [
        *("-loglevel", "+level", "-y", "-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(audio)),
        *("-map", "0:v", "-map", "1:a", "-ignore_unknown", "-c", "copy", "-map_metadata", "-1"),
        *("-metadata", "comment=Transcoded using Encore", "-movflags", "+faststart", str(target)),
    ]
    no_audio = join_segments_command(segments, None, target, {})
    assert no_audio[9:13] == ["-map", "0", "-ignore_unknown", "-c"]
    only_audio = join_segments_command([], audio, target, {})
    assert only_audio[3:9] == ["-i", str(audio), "-map", "0", "-c", "copy"]


def test_output_files_expands_sequences(tmp_path: Path) -> None:
    for name in (
        "demo__thumb02.jpg",
        "demo__thumb01.jpg",
        "demo__thumb1.jpg",
        "demo__thumbs.jpg",
        "demo__thumb100.jpg",
    ):
        (tmp_path / name).write_bytes(b"")
    thumbs = PlannedOutput(tmp_path / "demo__thumb%02d.jpg", "image", 0, False)
    assert [p.name for p in output_files(thumbs)] == ["demo__thumb01.jpg", "demo__thumb02.jpg", "demo__thumb100.jpg"]
    single = PlannedOutput(tmp_path / "demo__thumbs.jpg", "image", 0, False)
    assert output_files(single) == [tmp_path / "demo__thumbs.jpg"]
    assert output_files(PlannedOutput(tmp_path / "missing.mp4", "video", 0, False)) == []
