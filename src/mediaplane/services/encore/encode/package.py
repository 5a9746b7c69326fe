"""HLS and DASH packages made from encoded renditions by stream copy (no re-encoding), one FFmpeg run per format.

Layout under the work folder (``<base_name>`` is the job's file name prefix)::

    <base_name>hls/master.m3u8          master playlist
    <base_name>hls/video_<n>.m3u8       one media playlist per video rendition, fMP4 segments
    <base_name>hls/video_<n>_init.mp4, video_<n>_00000.m4s …
    <base_name>hls/audio.m3u8           the shared audio group (EXT-X-MEDIA TYPE=AUDIO), same segment naming
    <base_name>dash/manifest.mpd        one video and one audio adaptation set
    <base_name>dash/init-<id>.m4s, chunk-<id>-00001.m4s …

Each video variant is a rendition's video alone; the audio, which Encore's renditions share, is packaged once
from one rendition and referenced by every variant, as players expect. An audio-only job (no video renditions)
packages every audio rendition as its own variant (HLS) or representation (DASH).

Segments can only start at keyframes: a segment ends at the first keyframe once its ``segment_seconds`` have
passed, so the segments follow the renditions' keyframes, which must be regular and at the same times in every
rendition (Encore's profiles force one every 96 frames, 3.84 s at 25 fps). A ``segment_seconds`` that is a multiple
of that interval gives even segments (3.84 s there); one slightly longer runs on to the next keyframe (4 s gives
segments of up to 7.68 s).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av

__all__ = [
    "DASH_MANIFEST",
    "FORMATS",
    "HLS_MASTER",
    "PackageError",
    "Rendition",
    "package_commands",
    "package_dir",
    "package_files",
]

FORMATS = ("hls", "dash")
HLS_MASTER = "master.m3u8"
DASH_MANIFEST = "manifest.mpd"
_AUDIO_GROUP = "audio"


class PackageError(ValueError):
    """The renditions or formats asked for cannot be packaged."""


@dataclass(frozen=True)
class Rendition:
    path: Path
    """An encoded MP4 in the work folder (H.264 or HEVC video, maybe AAC audio muxed in)."""
    has_video: bool
    has_audio: bool
    bandwidth: int | None
    """Bits per second, when known; used for a rendition that holds a single stream."""
    width: int | None
    height: int | None


@dataclass(frozen=True)
class _Source:
    """One mapped stream: which input, and what FFmpeg needs to know about it."""

    input: int
    rendition: Rendition
    hevc: bool = False


def package_dir(workdir: Path, base_name: str, fmt: str) -> Path:
    """The folder a format's package is written to: ``<workdir>/<base_name><fmt>``."""
    return workdir / f"{base_name}{fmt}"


def package_files(root: Path) -> list[Path]:
    """Every file under a package folder (manifests, playlists, init and media segments), sorted."""
    if not root.is_dir():
        return []
    return sorted(path for path in root.rglob("*") if path.is_file())


def _formats(formats: list[str]) -> list[str]:
    wanted: list[str] = []
    for fmt in formats:
        name = fmt.strip().lower()
        if name not in FORMATS:
            raise PackageError(f"unknown package format {fmt!r} (known: {', '.join(FORMATS)})")
        if name not in wanted:
            wanted.append(name)
    return wanted


def _probe(rendition: Rendition) -> bool:
    """Whether the rendition's video is HEVC; checks that the streams it claims are there."""
    try:
        with av.open(str(rendition.path)) as container:
            videos = container.streams.video
            audios = container.streams.audio
            hevc = bool(videos) and videos[0].codec_context.name == "hevc"
    except (OSError, av.FFmpegError) as exc:
        raise PackageError(f"cannot read rendition {rendition.path}: {exc}") from exc
    if rendition.has_video and not videos:
        raise PackageError(f"rendition {rendition.path} has no video stream")
    if rendition.has_audio and not audios:
        raise PackageError(f"rendition {rendition.path} has no audio stream")
    return hevc


def _audio_source(renditions: list[Rendition]) -> Rendition | None:
    """The one audio to package with video: a dedicated audio rendition (the richest) if any, else the first muxed."""
    audio_only = [r for r in renditions if r.has_audio and not r.has_video]
    if audio_only:
        return max(audio_only, key=lambda r: r.bandwidth or 0)
    return next((r for r in renditions if r.has_audio), None)


def _plan(renditions: list[Rendition]) -> tuple[list[Path], list[_Source], list[_Source]]:
    """The inputs (each file once) and the video and audio streams to map, in output order."""
    if not renditions:
        raise PackageError("no renditions to package")
    for rendition in renditions:
        if not rendition.has_video and not rendition.has_audio:
            raise PackageError(f"rendition {rendition.path} has neither video nor audio")
    video = [r for r in renditions if r.has_video]
    if video:
        chosen = _audio_source(renditions)
        audio = [chosen] if chosen is not None else []
    else:
        audio = list(renditions)
    inputs: list[Path] = []
    hevc: dict[Path, bool] = {}

    def source(rendition: Rendition) -> _Source:
        if rendition.path not in hevc:
            hevc[rendition.path] = _probe(rendition)
            inputs.append(rendition.path)
        return _Source(inputs.index(rendition.path), rendition, hevc[rendition.path])

    return inputs, [source(r) for r in video], [source(r) for r in audio]


def _stream_args(inputs: list[Path], video: list[_Source], audio: list[_Source]) -> list[str]:
    args = ["-y"]
    for path in inputs:
        args += ["-i", str(path)]
    for src in video:
        args += ["-map", f"{src.input}:v:0"]
    for src in audio:
        args += ["-map", f"{src.input}:a:0"]
    args += ["-c", "copy"]
    for n, src in enumerate(video):
        if src.hevc:
            # Annex B parameter sets let the muxers write the hvc1.* codec string; hvc1 is what Safari plays.
            args += [f"-bsf:v:{n}", "hevc_mp4toannexb", f"-tag:v:{n}", "hvc1"]
        if src.rendition.bandwidth and not src.rendition.has_audio:
            args += [f"-b:v:{n}", str(src.rendition.bandwidth)]
    for n, src in enumerate(audio):
        if src.rendition.bandwidth and not src.rendition.has_video:
            args += [f"-b:a:{n}", str(src.rendition.bandwidth)]
    return args


def _hls_args(folder: Path, video: list[_Source], audio: list[_Source], segment_seconds: float) -> list[str]:
    if "%" in str(folder):
        raise PackageError(f"the HLS folder {folder} contains '%', which FFmpeg's hls muxer expands")
    if video:
        group = f",agroup:{_AUDIO_GROUP}" if audio else ""
        names = [f"video_{n}" for n in range(len(video))]
        variants = [f"v:{n}{group},name:{name}" for n, name in enumerate(names)]
        if audio:
            names.append("audio")
            variants.append(f"a:0{group},name:audio,default:yes")
    else:
        names = [f"audio_{n}" for n in range(len(audio))]
        variants = [f"a:{n},name:{name}" for n, name in enumerate(names)]
    # With a single variant the hls muxer leaves %v in the init file name as it is.
    init_name = "%v_init.mp4" if len(names) > 1 else f"{names[0]}_init.mp4"
    return [
        "-f",
        "hls",
        "-hls_time",
        f"{segment_seconds:g}",
        "-hls_playlist_type",
        "vod",
        "-hls_segment_type",
        "fmp4",
        "-hls_flags",
        "independent_segments",
        "-hls_fmp4_init_filename",
        init_name,
        "-hls_segment_filename",
        str(folder / "%v_%05d.m4s"),
        "-master_pl_name",
        HLS_MASTER,
        "-var_stream_map",
        " ".join(variants),
        str(folder / "%v.m3u8"),
    ]


def _dash_args(folder: Path, video: list[_Source], audio: list[_Source], segment_seconds: float) -> list[str]:
    sets: list[str] = []
    if video:
        sets.append(f"id={len(sets)},streams=v")
    if audio:
        sets.append(f"id={len(sets)},streams=a")
    return [
        "-f",
        "dash",
        "-dash_segment_type",
        "mp4",
        "-seg_duration",
        f"{segment_seconds:g}",
        "-use_template",
        "1",
        "-use_timeline",
        "1",
        "-adaptation_sets",
        " ".join(sets),
        "-init_seg_name",
        "init-$RepresentationID$.$ext$",
        "-media_seg_name",
        "chunk-$RepresentationID$-$Number%05d$.$ext$",
        str(folder / DASH_MANIFEST),
    ]


def package_commands(
    renditions: list[Rendition],
    workdir: Path,
    base_name: str,
    formats: list[str],
    segment_seconds: float = 4.0,
) -> list[tuple[list[str], list[Path]]]:
    """FFmpeg arguments (for :func:`mediaplane.kit.ffmpeg.run_ffmpeg`) packaging ``renditions`` in each format.

    Returns one ``(args, [package folder])`` per format, in the order asked; each run reads every rendition
    it needs and copies the streams. The renditions are opened to learn their video codec (HEVC needs a
    bitstream filter and the hvc1 tag), and the package folders are created, empty ones if new.
    Raises :class:`PackageError` for an unknown format, no renditions, or a rendition lacking a stream it claims.
    """
    wanted = _formats(formats)
    if segment_seconds <= 0:
        raise PackageError(f"segment length must be positive, not {segment_seconds}")
    inputs, video, audio = _plan(renditions)
    common = _stream_args(inputs, video, audio)
    commands: list[tuple[list[str], list[Path]]] = []
    for fmt in wanted:
        folder = package_dir(workdir, base_name, fmt)
        if fmt == "hls":
            args = _hls_args(folder, video, audio, segment_seconds)
        else:
            args = _dash_args(folder, video, audio, segment_seconds)
        folder.mkdir(parents=True, exist_ok=True)
        commands.append(([*common, *args], [folder]))
    return commands
