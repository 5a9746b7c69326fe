"""Media analysis of FFmpeg-generated inputs: fields, classification, truncation, errors, HTTP inputs."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from mediaplane.kit.ffmpeg import find_ffmpeg
from mediaplane.services.encore.encode.analyze import (
    AnalyzeError,
    analyze,
    analyze_file,
    audio_layout,
    input_duration,
)
from mediaplane.services.encore.schemas.media import (
    AudioFile,
    AudioStream,
    ImageFile,
    MediaFile,
    SubtitleFile,
    VideoFile,
    VideoStream,
)

TESTSRC = ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25"]
SINE = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]

# svt/encore encore-common/src/test/resources/input/video-file.json (upstream §2.5).
UPSTREAM_EXAMPLE = json.loads(
    """{"type":"VideoFile","file":"/input/test.mp4","fileSize":2660527,"format":"MPEG-4","overallBitrate":2123749,
    "duration":10.022,"videoStreams":[{"format":"AVC","codec":"h264","profile":"High 4:2:2","level":"4","width":1920,
    "height":1080,"sampleAspectRatio":"1:1","displayAspectRatio":"16:9","pixelFormat":"yuv422p","frameRate":"25/1",
    "duration":10.0,"bitrate":1947964,"bitDepth":8,"numFrames":250,"isInterlaced":false,"transferCharacteristics":null}],
    "audioStreams":[{"format":"AAC","codec":"aac","duration":10.0,"channels":1,"channelLayout":"mono",
    "samplingRate":48000,"bitrate":69591}]}"""
)


def ffmpeg(out: Path, *args: str) -> Path:
    argv = [find_ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", *args, "-y", str(out)]
    subprocess.run(argv, check=True, capture_output=True, timeout=120)
    return out


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("analyze")


@pytest.fixture(scope="module")
def h264_mp4(media_dir: Path) -> Path:
    """H.264 Main 3.1 + AAC stereo, BT.709 tagged, moov at the end (HTTP reads must seek)."""
    return ffmpeg(
        media_dir / "h264.mp4",
        *TESTSRC,
        *SINE,
        "-t",
        "2",
        "-vf",
        "setparams=range=tv:color_primaries=bt709:color_trc=bt709:colorspace=bt709,format=yuv420p",
        *("-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-level", "3.1"),
        *("-c:a", "aac", "-ac", "2", "-b:a", "64k"),
    )


@pytest.fixture(scope="module")
def faststart_mp4(media_dir: Path, h264_mp4: Path) -> Path:
    return ffmpeg(media_dir / "faststart.mp4", "-i", str(h264_mp4), "-c", "copy", "-movflags", "+faststart")


@pytest.fixture(scope="module")
def dnxhr_mxf(media_dir: Path) -> Path:
    return ffmpeg(
        media_dir / "dnxhr.mxf",
        *TESTSRC,
        *SINE,
        "-t",
        "2",
        *("-c:v", "dnxhd", "-profile:v", "dnxhr_hqx", "-pix_fmt", "yuv422p10le", "-c:a", "pcm_s24le"),
    )


def cut_in_half(source: Path, out: Path) -> Path:
    data = source.read_bytes()
    out.write_bytes(data[: len(data) // 2])
    return out


# ---- fields ------------------------------------------------------------------------------------------------


def test_h264_aac_mp4_fields(h264_mp4: Path) -> None:
    media = analyze_file(str(h264_mp4))
    assert isinstance(media, VideoFile)
    assert media.file == str(h264_mp4)
    assert media.file_size == os.stat(h264_mp4).st_size
    assert media.format == "MPEG-4"
    assert media.duration == pytest.approx(2.0, abs=0.05)
    assert media.overall_bitrate == pytest.approx(media.file_size * 8 / media.duration, rel=0.05)
    assert media.is_truncated is False

    (video,) = media.video_streams
    assert (video.format, video.codec, video.profile, video.level) == ("AVC", "h264", "Main", "3.1")
    assert (video.width, video.height) == (320, 240)
    assert (video.sample_aspect_ratio, video.display_aspect_ratio) == ("1:1", "4:3")
    assert video.rotation == 0
    assert (video.pixel_format, video.bit_depth) == ("yuv420p", 8)
    assert video.frame_rate == "25/1"
    assert video.duration == pytest.approx(2.0, abs=0.05)
    assert video.num_frames == 50
    assert video.bitrate is not None and 1_000 < video.bitrate < 2_000_000
    assert video.is_interlaced is False
    assert video.codec_tag_string == "avc1"
    assert (video.color_range, video.color_space, video.color_transfer, video.color_primaries) == (
        "tv",
        "bt709",
        "bt709",
        "bt709",
    )
    assert video.transfer_characteristics == "BT.709"

    (audio,) = media.audio_streams
    assert (audio.format, audio.codec, audio.profile) == ("AAC", "aac", "LC")
    assert (audio.channels, audio.channel_layout, audio.sampling_rate) == (2, "stereo", 48000)
    assert audio.duration == pytest.approx(2.0, abs=0.05)
    assert audio.bitrate is not None and 30_000 < audio.bitrate < 100_000
    assert input_duration(media) == media.duration
    assert audio_layout(media, None) == ("MULTI_TRACK", 2)


def test_hevc_mp4(media_dir: Path) -> None:
    path = ffmpeg(
        media_dir / "hevc.mp4",
        *TESTSRC,
        "-t",
        "1",
        *("-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-pix_fmt", "yuv420p"),
    )
    media = analyze_file(str(path))
    assert isinstance(media, VideoFile)
    (video,) = media.video_streams
    assert (video.format, video.codec, video.profile) == ("HEVC", "hevc", "Main")
    assert video.level is not None and re.fullmatch(r"\d(\.\d)?", video.level)
    assert video.codec_tag_string in ("hev1", "hvc1")
    assert (video.width, video.height, video.frame_rate, video.num_frames) == (320, 240, "25/1", 25)
    assert media.audio_streams == []
    assert audio_layout(media, None) == ("NONE", 0)


def test_dnxhr_mxf_with_pcm(dnxhr_mxf: Path) -> None:
    media = analyze_file(str(dnxhr_mxf))
    assert isinstance(media, VideoFile)
    assert media.format == "MXF"
    (video,) = media.video_streams
    assert (video.format, video.codec, video.profile) == ("VC-3", "dnxhd", "DNXHR HQX")
    assert (video.pixel_format, video.bit_depth) == ("yuv422p10le", 10)
    assert video.frame_rate == "25/1"
    # MXF gives neither a frame count nor a video bit rate: both come from reading the packets.
    assert video.num_frames == 50
    assert video.bitrate is not None and video.bitrate > 1_000_000
    assert video.duration == pytest.approx(2.0, abs=0.05)
    (audio,) = media.audio_streams
    assert (audio.format, audio.codec, audio.channels, audio.channel_layout) == ("PCM", "pcm_s24le", 1, "mono")
    assert (audio.sampling_rate, audio.bitrate) == (48000, 48000 * 24)
    assert media.is_truncated is False


def test_interlaced_encode(media_dir: Path) -> None:
    path = ffmpeg(
        media_dir / "interlaced.mp4",
        *TESTSRC,
        "-t",
        "1",
        *("-c:v", "libx264", "-preset", "veryfast", "-flags", "+ildct+ilme", "-x264-params", "interlaced=1"),
        *("-pix_fmt", "yuv420p"),
    )
    media = analyze_file(str(path))
    assert isinstance(media, VideoFile)
    assert media.video_streams[0].is_interlaced is True


def test_rotation_from_display_matrix(media_dir: Path, h264_mp4: Path) -> None:
    path = ffmpeg(media_dir / "rotated.mp4", "-display_rotation:v", "90", "-i", str(h264_mp4), "-c", "copy")
    media = analyze_file(str(path))
    assert isinstance(media, VideoFile)
    assert media.video_streams[0].rotation == 90


def test_raw_yuv_input_with_demuxer_options(media_dir: Path) -> None:
    path = ffmpeg(media_dir / "raw.yuv", *TESTSRC, "-frames:v", "10", "-pix_fmt", "yuv420p", "-f", "rawvideo")
    options = {
        "f": "rawvideo",
        "video_size": "320x240",
        "framerate": "25",
        "pixel_format": "yuv420p",
        # FFmpeg command-line decoding options a job may carry (Encore #34): never reach the prober.
        "hwaccel": "cuda",
        "hwaccel_output_format": "cuda",
        "c:v": "h264_cuvid",
    }
    media = analyze_file(str(path), options=options)
    assert isinstance(media, VideoFile)
    (video,) = media.video_streams
    assert (video.codec, video.width, video.height, video.pixel_format) == ("rawvideo", 320, 240, "yuv420p")
    assert (video.frame_rate, video.num_frames) == ("25/1", 10)
    assert media.duration == pytest.approx(0.4, abs=0.01)


@pytest.mark.parametrize(
    ("name", "args", "fmt", "video_format", "audio_format"),
    [
        ("remux.mkv", ["-c", "copy"], "Matroska", "AVC", "AAC"),
        ("remux.ts", ["-c", "copy"], "MPEG-TS", "AVC", "AAC"),
        ("remux.flv", ["-c", "copy"], "FLV", "AVC", "AAC"),
        ("audio.aac", ["-vn", "-c:a", "copy"], "ADTS", None, "AAC"),
        ("audio.wav", ["-vn", "-c:a", "pcm_s16le"], "Wave", None, "PCM"),
        (
            "vp8.webm",
            ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus"],
            "WebM",
            "VP8",
            "Opus",
        ),
    ],
)
def test_container_and_codec_format_names(
    media_dir: Path, h264_mp4: Path, name: str, args: list[str], fmt: str, video_format: str | None, audio_format: str
) -> None:
    media = analyze_file(str(ffmpeg(media_dir / name, "-i", str(h264_mp4), *args)))
    assert isinstance(media, VideoFile if video_format else AudioFile)
    assert media.format == fmt
    assert [v.format for v in getattr(media, "video_streams", [])] == ([video_format] if video_format else [])
    assert [a.format for a in media.audio_streams] == [audio_format]
    assert media.duration == pytest.approx(2.0, abs=0.1)
    assert media.is_truncated is False
    assert all(s.bitrate for s in [*getattr(media, "video_streams", []), *media.audio_streams])


def test_input_duration_falls_back_to_the_longest_stream() -> None:
    media = VideoFile(
        file="x.mkv",
        file_size=1,
        video_streams=[VideoStream(duration=9.5)],
        audio_streams=[AudioStream(duration=10.0)],
    )
    assert input_duration(media) == 10.0
    assert input_duration(media.model_copy(update={"duration": 12.0})) == 12.0


# ---- classification --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "fmt"), [("thumb.jpg", "JPEG"), ("thumb.png", "PNG")])
def test_still_image_is_image_file(media_dir: Path, name: str, fmt: str) -> None:
    path = ffmpeg(media_dir / name, *TESTSRC, "-frames:v", "1")
    media = analyze_file(str(path))
    assert isinstance(media, ImageFile)
    assert (media.format, media.width, media.height) == (fmt, 320, 240)
    assert media.file_size == os.stat(path).st_size
    assert input_duration(media) is None
    assert audio_layout(media, None) == ("NONE", 0)


def test_audio_only_m4a_is_audio_file(media_dir: Path) -> None:
    path = ffmpeg(media_dir / "audio.m4a", *SINE, "-t", "2", "-c:a", "aac", "-ac", "2")
    media = analyze_file(str(path))
    assert isinstance(media, AudioFile)
    assert media.format == "MPEG-4"
    assert media.duration == pytest.approx(2.0, abs=0.05)
    (audio,) = media.audio_streams
    assert (audio.format, audio.channels, audio.channel_layout, audio.sampling_rate) == ("AAC", 2, "stereo", 48000)
    assert audio_layout(media, None) == ("MULTI_TRACK", 2)


def test_mono_streams_layout(media_dir: Path) -> None:
    path = ffmpeg(
        media_dir / "mono4.mov",
        *TESTSRC,
        *SINE,
        "-t",
        "1",
        *("-map", "0:v", "-map", "1:a", "-map", "1:a", "-map", "1:a", "-map", "1:a"),
        *("-c:v", "libx264", "-preset", "ultrafast", "-c:a", "pcm_s16le"),
    )
    media = analyze_file(str(path))
    assert isinstance(media, VideoFile)
    assert [(a.channels, a.channel_layout) for a in media.audio_streams] == [(1, "mono")] * 4
    assert audio_layout(media, None) == ("MONO_STREAMS", 4)
    assert audio_layout(media, 2) == ("MULTI_TRACK", 1)


def _audio_file(*channels: int | None) -> AudioFile:
    return AudioFile(file="x.mov", file_size=1, audio_streams=[AudioStream(channels=c) for c in channels])


@pytest.mark.parametrize(
    ("channels", "chosen", "expected"),
    [
        ((), None, ("NONE", 0)),
        ((6,), None, ("MULTI_TRACK", 6)),
        ((2, 2, 2), None, ("MULTI_TRACK", 2)),
        ((2, 1, 1), None, ("MULTI_TRACK", 2)),
        ((1, 1, 1, 1, 1, 1, 1, 1), None, ("MONO_STREAMS", 8)),
        ((1, 1, 2), None, ("MONO_STREAMS", 2)),  # mono streams before the first multitrack one
        ((1, 6), 1, ("MULTI_TRACK", 6)),
        ((1, 6), 5, ("INVALID", 0)),
        ((None, 1), None, ("INVALID", 0)),
    ],
)
def test_audio_layout_rules(channels: tuple[int | None, ...], chosen: int | None, expected: tuple[str, int]) -> None:
    assert audio_layout(_audio_file(*channels), chosen) == expected


def test_audio_layout_of_subtitles_is_none() -> None:
    assert audio_layout(SubtitleFile(file="a.srt", file_size=1), None) == ("NONE", 0)


# ---- truncated and broken inputs ---------------------------------------------------------------------------


def test_mp4_cut_in_half_is_truncated(media_dir: Path, faststart_mp4: Path) -> None:
    media = analyze_file(str(cut_in_half(faststart_mp4, media_dir / "cut.mp4")))
    assert isinstance(media, VideoFile)
    assert media.is_truncated is True
    assert media.duration == pytest.approx(2.0, abs=0.05)  # what the header announces


def test_mxf_cut_in_half_is_truncated(media_dir: Path, dnxhr_mxf: Path) -> None:
    media = analyze_file(str(cut_in_half(dnxhr_mxf, media_dir / "cut.mxf")))
    assert isinstance(media, VideoFile)
    assert media.is_truncated is True


def test_mp4_cut_before_its_index_is_an_error(media_dir: Path, h264_mp4: Path) -> None:
    with pytest.raises(AnalyzeError, match="corrupt"):
        analyze_file(str(cut_in_half(h264_mp4, media_dir / "no-moov.mp4")))


def test_random_bytes_are_an_error(media_dir: Path) -> None:
    path = media_dir / "random.mp4"
    path.write_bytes(os.urandom(20_000))
    with pytest.raises(AnalyzeError, match="not a readable media file"):
        analyze_file(str(path))


def test_missing_file_and_directory_are_errors(media_dir: Path) -> None:
    with pytest.raises(AnalyzeError, match="no such file"):
        analyze_file(str(media_dir / "missing.mp4"))
    with pytest.raises(AnalyzeError, match="not a file"):
        analyze_file(str(media_dir))


def test_file_without_media_streams_is_an_error(media_dir: Path) -> None:
    path = media_dir / "subs.srt"
    path.write_text("1\n00:00:00,000 --> 00:00:01,000\nhello\n")
    with pytest.raises(AnalyzeError, match="no audio, video or image streams"):
        analyze_file(str(path))


# ---- HTTP inputs ------------------------------------------------------------------------------------------


class _RangeHandler(BaseHTTPRequestHandler):
    """Serves the files of ``server.root`` with single byte ranges, as object stores and CDNs do."""

    server: _FileServer

    def log_message(self, format: str, *args: object) -> None:
        return None

    def do_HEAD(self) -> None:
        self._respond(body=False)

    def do_GET(self) -> None:
        self._respond(body=True)

    def _respond(self, *, body: bool) -> None:
        path = self.server.root / self.path.lstrip("/").split("?")[0]
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start, end = 0, len(data) - 1
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if match:
            start = int(match.group(1))
            end = min(int(match.group(2) or end), end)
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        if body:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data[start : end + 1])


class _FileServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path) -> None:
        super().__init__(("127.0.0.1", 0), _RangeHandler)
        self.root = root


@pytest.fixture(scope="module")
def http_root(media_dir: Path) -> Iterator[str]:
    server = _FileServer(media_dir)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_http_url_is_analysed_like_the_file(http_root: str, h264_mp4: Path) -> None:
    url = f"{http_root}/{h264_mp4.name}?X-Amz-Signature=secret"
    media = analyze_file(url, options={"reconnect": "1", "reconnect_on_network_error": "1"}, timeout=10)
    local = analyze_file(str(h264_mp4))
    assert isinstance(media, VideoFile)
    assert media.file == url
    assert media.file_size == local.file_size  # the Content-Length
    assert media.model_dump(exclude={"file"}) == local.model_dump(exclude={"file"})


def test_http_not_found(http_root: str) -> None:
    with pytest.raises(AnalyzeError, match="HTTP error") as caught:
        analyze_file(f"{http_root}/missing.mp4?X-Amz-Signature=secret", timeout=10)
    assert "secret" not in str(caught.value)


def test_connection_refused() -> None:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(AnalyzeError, match="connection refused"):
        analyze_file(f"http://127.0.0.1:{port}/a.mp4", timeout=10)


def test_silent_server_times_out() -> None:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)  # connections are queued by the kernel but never answered
        with pytest.raises(AnalyzeError, match="timed out"):
            analyze_file(f"http://127.0.0.1:{s.getsockname()[1]}/a.mp4", timeout=1)


# ---- model round trip and async wrapper ------------------------------------------------------------------


async def test_async_wrapper_and_json_round_trip(h264_mp4: Path) -> None:
    media = await analyze(str(h264_mp4))
    adapter: TypeAdapter[MediaFile] = TypeAdapter(MediaFile)
    data = json.loads(adapter.dump_json(media))
    assert adapter.validate_python(data) == media

    extra_video = {"rotation", "codecTagString", "colorRange", "colorSpace", "colorTransfer", "colorPrimaries"}
    assert set(data) == set(UPSTREAM_EXAMPLE) | {"isTruncated"}
    assert set(data["videoStreams"][0]) == set(UPSTREAM_EXAMPLE["videoStreams"][0]) | extra_video
    assert set(data["audioStreams"][0]) == set(UPSTREAM_EXAMPLE["audioStreams"][0]) | {"profile"}
    # The upstream example itself parses into the model.
    assert isinstance(adapter.validate_python(UPSTREAM_EXAMPLE), VideoFile)
