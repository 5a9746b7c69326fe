from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from tests.fixtures.media import make_test_video

from mediaplane.kit.ffmpeg import FFmpegError, find_ffmpeg, parse_ffmpeg_info, parse_ffprobe_json, probe

# Captured from `ffmpeg -hide_banner -i clip.mp4` (FFmpeg 9.0) on a lavfi testsrc + sine encode.
FFMPEG_INFO = """\
Input #0, mov,mp4,m4a,3gp,3g2,mj2, from '/tmp/t3.mp4':
  Metadata:
    major_brand     : isom
    minor_version   : 512
    compatible_brands: isomiso2avc1mp41
    encoder         : Lavf63.1.102
  Duration: 00:00:01.20, start: 0.000000, bitrate: 241 kb/s
  Stream #0:0[0x1](und): Video: h264 (Constrained Baseline) (avc1 / 0x31637661), yuv420p(progressive), \
320x240 [SAR 1:1 DAR 4:3], 156 kb/s, 25 fps, 25 tbr, 12800 tbn (default)
    Metadata:
      handler_name    : VideoHandler
      encoder         : Lavc63.1.102 libx264
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 69 kb/s (default)
    Metadata:
      handler_name    : SoundHandler
At least one output file must be specified
"""

# The fields probe reads, in the shape `ffprobe -print_format json -show_format -show_streams` prints.
FFPROBE_JSON = {
    "streams": [
        {
            "index": 0,
            "codec_name": "h264",
            "codec_type": "video",
            "width": 1280,
            "height": 720,
            "r_frame_rate": "30000/1001",
            "avg_frame_rate": "30000/1001",
            "bit_rate": "2500000",
        },
        {
            "index": 1,
            "codec_name": "opus",
            "codec_type": "audio",
            "sample_rate": "48000",
            "channels": 2,
            "r_frame_rate": "0/0",
            "avg_frame_rate": "0/0",
        },
    ],
    "format": {"format_name": "matroska,webm", "duration": "12.345000", "bit_rate": "2600000"},
}


class TestParse:
    def test_ffmpeg_info(self) -> None:
        info = parse_ffmpeg_info(FFMPEG_INFO)
        assert info is not None
        assert info.format_name == "mov,mp4,m4a,3gp,3g2,mj2"
        assert info.duration == pytest.approx(1.2)
        assert info.bit_rate == 241_000
        assert info.video is not None and info.audio is not None
        assert (info.video.index, info.video.codec, info.video.width, info.video.height) == (0, "h264", 320, 240)
        assert info.video.fps == 25.0
        assert info.video.bit_rate == 156_000
        assert (info.audio.index, info.audio.codec, info.audio.sample_rate, info.audio.channels) == (
            1,
            "aac",
            44100,
            1,
        )

    def test_ffmpeg_info_without_input(self) -> None:
        assert parse_ffmpeg_info("/x.mp4: No such file or directory\n") is None

    def test_ffprobe_json(self) -> None:
        info = parse_ffprobe_json(FFPROBE_JSON)
        assert info.format_name == "matroska,webm"
        assert info.duration == pytest.approx(12.345)
        assert info.bit_rate == 2_600_000
        assert info.video is not None and info.video.fps == pytest.approx(29.97, abs=0.01)
        assert info.audio is not None
        assert (info.audio.codec, info.audio.sample_rate, info.audio.channels, info.audio.fps) == (
            "opus",
            48000,
            2,
            None,
        )


class TestProbe:
    async def test_generated_video(self, tmp_path: Path) -> None:
        clip = make_test_video(tmp_path / "clip.mp4", seconds=1, size="160x120")
        info = await probe(clip)
        assert info.duration == pytest.approx(1.0, abs=0.1)
        assert info.video is not None and (info.video.width, info.video.height) == (160, 120)
        assert info.audio is not None and info.audio.sample_rate == 48000

    async def test_unreadable_file(self, tmp_path: Path) -> None:
        junk = tmp_path / "junk.mp4"
        junk.write_bytes(b"this is not media" * 10)
        with pytest.raises(FFmpegError):
            await probe(junk)

    async def test_uses_ffprobe_when_there_is_one(self, tmp_path: Path) -> None:
        output = tmp_path / "ffprobe.json"
        output.write_text(json.dumps(FFPROBE_JSON))
        ffprobe = tmp_path / "ffprobe"
        ffprobe.write_text(f'#!/bin/sh\ncat "{output}"\n')
        ffprobe.chmod(ffprobe.stat().st_mode | stat.S_IXUSR)
        info = await probe(tmp_path / "any.mkv", ffprobe=str(ffprobe))
        assert info.format_name == "matroska,webm"

    async def test_ffprobe_failure(self, tmp_path: Path) -> None:
        ffprobe = tmp_path / "ffprobe"
        ffprobe.write_text('#!/bin/sh\necho "any.mkv: Invalid data found" >&2\nexit 1\n')
        ffprobe.chmod(ffprobe.stat().st_mode | stat.S_IXUSR)
        with pytest.raises(FFmpegError) as caught:
            await probe(tmp_path / "any.mkv", ffprobe=str(ffprobe), ffmpeg=find_ffmpeg())
        assert "Invalid data found" in caught.value.stderr_tail
