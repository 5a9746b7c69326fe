"""HLS and DASH packaging by stream copy, with real FFmpeg on small lavfi renditions."""

from __future__ import annotations

import asyncio
import io
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from pathlib import Path

import av
import pytest

from mediaplane.kit.ffmpeg import find_ffmpeg, run_ffmpeg
from mediaplane.services.encore.encode.package import (
    DASH_MANIFEST,
    HLS_MASTER,
    PackageError,
    Rendition,
    package_commands,
    package_files,
)

SECONDS = 6
MPD = {"mpd": "urn:mpeg:dash:schema:mpd:2011"}


def _encode(path: Path, *, size: str | None, audio_bitrate: str | None, hevc: bool = False) -> Path:
    """A rendition as Encore makes them: keyframes every 2 s, H.264 or HEVC video and/or AAC audio."""
    args = [find_ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    if size:
        args += ["-f", "lavfi", "-i", f"testsrc=size={size}:rate=25"]
    if audio_bitrate:
        args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    args += ["-t", str(SECONDS)]
    if size:
        codec = ["-c:v", "libx265", "-x265-params", "log-level=error"] if hevc else ["-c:v", "libx264"]
        args += [*codec, "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-force_key_frames", "expr:gte(t,n_forced*2)"]
    if audio_bitrate:
        args += ["-c:a", "aac", "-b:a", audio_bitrate]
    subprocess.run([*args, str(path)], check=True, capture_output=True, timeout=120)
    return path


@dataclass(frozen=True)
class Media:
    big: Rendition
    small: Rendition
    hevc: Rendition
    aac96: Rendition
    aac48: Rendition


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    folder = tmp_path_factory.mktemp("renditions")
    return Media(
        big=Rendition(_encode(folder / "big.mp4", size="320x240", audio_bitrate="64k"), True, True, None, 320, 240),
        small=Rendition(_encode(folder / "small.mp4", size="160x120", audio_bitrate="64k"), True, True, None, 160, 120),
        hevc=Rendition(
            _encode(folder / "hevc.mp4", size="320x240", audio_bitrate=None, hevc=True), True, False, 123_456, 320, 240
        ),
        aac96=Rendition(_encode(folder / "aac96.mp4", size=None, audio_bitrate="96k"), False, True, 96_000, None, None),
        aac48=Rendition(_encode(folder / "aac48.mp4", size=None, audio_bitrate="48k"), False, True, None, None, None),
    )


async def _package(renditions: list[Rendition], workdir: Path, formats: list[str]) -> list[Path]:
    commands = package_commands(renditions, workdir, "job_", formats)
    for args, _produced in commands:
        await run_ffmpeg(args)
    return [produced[0] for _args, produced in commands]


@pytest.fixture(scope="module")
def ladder(media: Media, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The two H.264 + AAC renditions packaged as HLS and DASH."""
    hls, dash = asyncio.run(_package([media.big, media.small], tmp_path_factory.mktemp("ladder"), ["hls", "dash"]))
    return hls, dash


def _attributes(line: str) -> dict[str, str]:
    text = line.split(":", 1)[1]
    out: dict[str, str] = {}
    key, value, quoted = "", "", False
    reading_key = True
    for char in text + ",":
        if reading_key:
            if char == "=":
                reading_key = False
            else:
                key += char
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            out[key] = value
            key, value, reading_key = "", "", True
        else:
            value += char
    return out


def _master(path: Path) -> tuple[list[tuple[dict[str, str], str]], list[dict[str, str]]]:
    """The variants (attributes, playlist) and the EXT-X-MEDIA entries of a master playlist."""
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    assert lines[0] == "#EXTM3U"
    variants = [
        (_attributes(line), lines[n + 1]) for n, line in enumerate(lines) if line.startswith("#EXT-X-STREAM-INF:")
    ]
    media = [_attributes(line) for line in lines if line.startswith("#EXT-X-MEDIA:")]
    return variants, media


def _media_playlist(path: Path) -> tuple[Path, list[tuple[float, Path]]]:
    """The init segment and the (duration, segment) list of a media playlist."""
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    assert "#EXT-X-ENDLIST" in lines and "#EXT-X-PLAYLIST-TYPE:VOD" in lines
    init = next(_attributes(line)["URI"] for line in lines if line.startswith("#EXT-X-MAP:"))
    segments = [
        (float(line.split(":", 1)[1].rstrip(",")), path.parent / lines[n + 1])
        for n, line in enumerate(lines)
        if line.startswith("#EXTINF:")
    ]
    return path.parent / init, segments


def _packets(source: Path | bytes, kind: str) -> tuple[str, list[bytes], float]:
    """Codec name, packet payloads and summed packet duration (s) of the first ``kind`` stream."""
    with av.open(io.BytesIO(source) if isinstance(source, bytes) else str(source)) as container:
        stream = container.streams.video[0] if kind == "video" else container.streams.audio[0]
        assert stream.time_base is not None
        payloads, ticks = [], 0
        for packet in container.demux(stream):
            if packet.size:
                payloads.append(bytes(packet))
                ticks += packet.duration or 0
        return stream.codec_context.name, payloads, float(ticks * stream.time_base)


def _without_sei(packet: bytes) -> bytes:
    """An HEVC packet (4-byte length-prefixed NAL units) less its prefix SEI units."""
    kept, at = b"", 0
    while at + 4 <= len(packet):
        end = at + 4 + int.from_bytes(packet[at : at + 4], "big")
        if (packet[at + 4] >> 1) & 0x3F != 39:
            kept += packet[at:end]
        at = end
    return kept


def _assert_stream_copy(init: Path, segments: list[Path], source: Path, kind: str, durations: list[float]) -> None:
    """The segments hold the source's packets, unchanged, and each lasts what the manifest says."""
    codec, payloads, duration = _packets(source, kind)
    tolerance = 0.041 if kind == "video" else 1024 / 48000 + 0.001
    copied: list[bytes] = []
    for segment, expected in zip(segments, durations, strict=True):
        seg_codec, seg_payloads, seg_duration = _packets(init.read_bytes() + segment.read_bytes(), kind)
        assert seg_codec == codec
        assert seg_payloads
        assert seg_duration == pytest.approx(expected, abs=tolerance)
        copied += seg_payloads
    assert copied == payloads
    assert sum(durations) == pytest.approx(duration, abs=tolerance)


def test_hls_master_lists_variants_with_the_audio_group(ladder: tuple[Path, Path]) -> None:
    hls, _dash = ladder
    assert hls.name == "job_hls"
    variants, media = _master(hls / HLS_MASTER)
    assert [uri for _attrs, uri in variants] == ["video_0.m3u8", "video_1.m3u8"]
    assert [attrs["RESOLUTION"] for attrs, _uri in variants] == ["320x240", "160x120"]
    for attrs, _uri in variants:
        assert int(attrs["BANDWIDTH"]) > 0
        assert attrs["CODECS"].startswith("avc1.") and "mp4a.40.2" in attrs["CODECS"]
    assert len(media) == 1
    assert media[0]["TYPE"] == "AUDIO" and media[0]["DEFAULT"] == "YES" and media[0]["URI"] == "audio.m3u8"
    assert {attrs["AUDIO"] for attrs, _uri in variants} == {media[0]["GROUP-ID"]}


def test_hls_segments_exist_and_are_stream_copies(media: Media, ladder: tuple[Path, Path]) -> None:
    hls, _dash = ladder
    playlists = {"video_0.m3u8": (media.big.path, "video"), "video_1.m3u8": (media.small.path, "video")}
    playlists["audio.m3u8"] = (media.big.path, "audio")
    listed = {hls / HLS_MASTER}
    for name, (source, kind) in playlists.items():
        init, segments = _media_playlist(hls / name)
        assert init.is_file() and all(path.is_file() for _d, path in segments)
        # 6 s with keyframes every 2 s in 4 s segments: 4 s + 2 s.
        assert [round(d) for d, _p in segments] == [4, 2]
        _assert_stream_copy(init, [p for _d, p in segments], source, kind, [d for d, _p in segments])
        listed |= {hls / name, init, *(p for _d, p in segments)}
    assert set(package_files(hls)) == listed


def _representations(manifest: Path) -> list[tuple[str, ET.Element, ET.Element]]:
    """(content type, AdaptationSet, Representation) for every Representation of an MPD."""
    root = ET.parse(manifest).getroot()
    assert root.get("type") == "static"
    return [
        (adaptation.get("contentType", ""), adaptation, representation)
        for adaptation in root.iterfind("mpd:Period/mpd:AdaptationSet", MPD)
        for representation in adaptation.iterfind("mpd:Representation", MPD)
    ]


def _dash_segments(folder: Path, representation: ET.Element) -> tuple[Path, list[Path], list[float]]:
    template = representation.find("mpd:SegmentTemplate", MPD)
    assert template is not None
    timescale, number = int(template.get("timescale", "1")), int(template.get("startNumber", "1"))
    rep_id = representation.get("id", "")
    durations = [
        int(s.get("d", "0")) / timescale
        for s in template.iterfind("mpd:SegmentTimeline/mpd:S", MPD)
        for _repeat in range(1 + int(s.get("r", "0")))
    ]
    init = folder / template.get("initialization", "").replace("$RepresentationID$", rep_id)
    media = template.get("media", "").replace("$RepresentationID$", rep_id)
    segments = [folder / media.replace("$Number%05d$", f"{number + n:05d}") for n in range(len(durations))]
    return init, segments, durations


def test_dash_manifest_and_segments(media: Media, ladder: tuple[Path, Path]) -> None:
    _hls, dash = ladder
    assert dash.name == "job_dash"
    representations = _representations(dash / DASH_MANIFEST)
    assert [kind for kind, _a, _r in representations] == ["video", "video", "audio"]
    assert [(r.get("width"), r.get("height")) for _k, _a, r in representations[:2]] == [("320", "240"), ("160", "120")]
    sources = [(media.big.path, "video"), (media.small.path, "video"), (media.big.path, "audio")]
    listed = {dash / DASH_MANIFEST}
    for (_kind, _adaptation, representation), (source, kind) in zip(representations, sources, strict=True):
        assert int(representation.get("bandwidth", "0")) > 0
        init, segments, durations = _dash_segments(dash, representation)
        assert init.is_file() and all(path.is_file() for path in segments)
        assert len(segments) == 2
        _assert_stream_copy(init, segments, source, kind, durations)
        listed |= {init, *segments}
    assert set(package_files(dash)) == listed


async def test_packages_play_end_to_end(ladder: tuple[Path, Path]) -> None:
    hls, dash = ladder
    for manifest in (hls / HLS_MASTER, dash / DASH_MANIFEST):
        result = await run_ffmpeg(["-i", str(manifest.resolve()), "-map", "0", "-f", "null", "-"])
        assert result.progress is not None and result.progress.out_time == pytest.approx(SECONDS, abs=0.1)
    with av.open(str(hls / HLS_MASTER)) as container:
        assert sorted(s.type for s in container.streams) == ["audio", "video", "video"]
        assert sum(1 for _frame in container.decode(video=0)) == SECONDS * 25


async def test_hevc_video_only_ladder(media: Media, tmp_path: Path) -> None:
    video_only = replace(media.small, has_audio=False)
    hls, dash = await _package([media.hevc, video_only], tmp_path, ["hls", "dash"])
    variants, groups = _master(hls / HLS_MASTER)
    assert groups == []
    assert variants[0][0]["CODECS"].startswith("hvc1.1.")
    assert variants[1][0]["CODECS"].startswith("avc1.")
    assert all("AUDIO" not in attrs for attrs, _uri in variants)
    init, segments = _media_playlist(hls / variants[0][1])
    assert init.read_bytes().find(b"hvc1") > 0
    codec, payloads, _duration = _packets(b"".join(p.read_bytes() for p in [init, *(s for _d, s in segments)]), "video")
    # The same coded pictures; the bitstream filter repeats the stream header's SEI before each keyframe.
    assert codec == "hevc"
    assert [_without_sei(p) for p in payloads] == [_without_sei(p) for p in _packets(media.hevc.path, "video")[1]]
    representations = _representations(dash / DASH_MANIFEST)
    assert [kind for kind, _a, _r in representations] == ["video", "video"]
    hevc_rep = representations[0][2]
    assert hevc_rep.get("codecs", "").startswith("hvc1.1.")
    assert hevc_rep.get("bandwidth") == "123456"  # the rendition's own bandwidth: it holds only video
    for manifest in (hls / HLS_MASTER, dash / DASH_MANIFEST):
        result = await run_ffmpeg(["-i", str(manifest.resolve()), "-map", "0", "-f", "null", "-"])
        assert result.progress is not None and result.progress.out_time == pytest.approx(SECONDS, abs=0.1)


async def test_audio_only_package(media: Media, tmp_path: Path) -> None:
    hls, dash = await _package([media.aac96, media.aac48], tmp_path, ["hls", "dash"])
    variants, groups = _master(hls / HLS_MASTER)
    assert groups == []
    assert [uri for _attrs, uri in variants] == ["audio_0.m3u8", "audio_1.m3u8"]
    assert all(attrs["CODECS"] == "mp4a.40.2" and "RESOLUTION" not in attrs for attrs, _uri in variants)
    assert int(variants[0][0]["BANDWIDTH"]) > int(variants[1][0]["BANDWIDTH"])
    for (_attrs, uri), source in zip(variants, [media.aac96, media.aac48], strict=True):
        init, segments = _media_playlist(hls / uri)
        _assert_stream_copy(init, [p for _d, p in segments], source.path, "audio", [d for d, _p in segments])
    representations = _representations(dash / DASH_MANIFEST)
    assert [kind for kind, _a, _r in representations] == ["audio", "audio"]
    assert len({id(adaptation) for _k, adaptation, _r in representations}) == 1
    assert representations[0][2].get("bandwidth") == "96000"
    for _kind, _adaptation, representation in representations:
        init, segments, _durations = _dash_segments(dash, representation)
        assert init.is_file() and all(path.is_file() for path in segments)
    for manifest in (hls / HLS_MASTER, dash / DASH_MANIFEST):
        result = await run_ffmpeg(["-i", str(manifest.resolve()), "-map", "0", "-f", "null", "-"])
        assert result.progress is not None and result.progress.out_time == pytest.approx(SECONDS, abs=0.1)


def test_single_audio_prefers_a_dedicated_audio_rendition(media: Media, tmp_path: Path) -> None:
    [(args, produced)] = package_commands([media.big, media.small, media.aac48, media.aac96], tmp_path, "x_", ["dash"])
    assert produced == [tmp_path / "x_dash"] and produced[0].is_dir()
    maps = [args[n + 1] for n, arg in enumerate(args) if arg == "-map"]
    inputs = [args[n + 1] for n, arg in enumerate(args) if arg == "-i"]
    assert maps == ["0:v:0", "1:v:0", "2:a:0"]
    assert inputs[2] == str(media.aac96.path)
    assert args[0] == "-y" and "copy" in args and "-c:v" not in args


def test_one_process_per_format_each_input_once(media: Media, tmp_path: Path) -> None:
    commands = package_commands([media.big, media.small], tmp_path, "", ["HLS", "dash", "hls"], segment_seconds=3.84)
    assert [produced for _args, produced in commands] == [[tmp_path / "hls"], [tmp_path / "dash"]]
    hls_args, dash_args = (args for args, _produced in commands)
    assert hls_args[hls_args.index("-hls_time") + 1] == "3.84"
    assert dash_args[dash_args.index("-seg_duration") + 1] == "3.84"
    assert hls_args[hls_args.index("-var_stream_map") + 1] == (
        "v:0,agroup:audio,name:video_0 v:1,agroup:audio,name:video_1 a:0,agroup:audio,name:audio,default:yes"
    )
    assert [hls_args[n + 1] for n, a in enumerate(hls_args) if a == "-i"] == [
        str(media.big.path),
        str(media.small.path),
    ]


def test_errors(media: Media, tmp_path: Path) -> None:
    with pytest.raises(PackageError, match="unknown package format"):
        package_commands([media.big], tmp_path, "", ["smooth"])
    with pytest.raises(PackageError, match="no renditions"):
        package_commands([], tmp_path, "", ["hls"])
    with pytest.raises(PackageError, match="neither video nor audio"):
        package_commands([Rendition(media.big.path, False, False, None, None, None)], tmp_path, "", ["hls"])
    with pytest.raises(PackageError, match="no audio stream"):
        package_commands([Rendition(media.hevc.path, True, True, None, None, None)], tmp_path, "", ["dash"])
    with pytest.raises(PackageError, match="cannot read"):
        package_commands([Rendition(tmp_path / "missing.mp4", True, False, None, None, None)], tmp_path, "", ["hls"])
    with pytest.raises(PackageError, match="positive"):
        package_commands([media.big], tmp_path, "", ["hls"], segment_seconds=0)
    assert issubclass(PackageError, ValueError)
    assert package_files(tmp_path / "nothing") == []
