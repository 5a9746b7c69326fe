"""Analyse a media file or URL into Encore's model (``VideoFile``, ``AudioFile``, ``ImageFile``) with PyAV.

What is read:

- the container header and stream parameters (no decoding) for most fields;
- the first few decoded frames of each video stream, for ``isInterlaced`` and ``rotation``;
- every packet (demuxed, not decoded) only when a stream lacks a bit rate or a video stream lacks a frame
  count (MXF, Matroska, MPEG-TS, raw video): ``bitrate`` is then bytes x 8 / duration and ``numFrames`` the
  packet count.

``fileSize`` is ``os.stat`` for local files and the size FFmpeg's I/O layer reports for URLs (the HTTP
``Content-Length``), 0 when the server gives none.

``isTruncated`` is true when the container's index points past the end of the file (an MP4/MOV whose
``moov`` survived but whose ``mdat`` was cut), or when all packets were read and they end more than
0.5 s + 1 % before the duration the container header announces.

``rotation`` is the display matrix rotation as FFmpeg reports it (degrees, counter-clockwise, -180..180).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import av
import av.error
from av.audio.stream import AudioStream as AvAudioStream
from av.container import InputContainer
from av.stream import Disposition
from av.video.stream import VideoStream as AvVideoStream

from mediaplane.services.encore.encode import media_names as names
from mediaplane.services.encore.schemas.media import (
    AudioFile,
    AudioStream,
    ImageFile,
    MediaFile,
    VideoFile,
    VideoStream,
)

__all__ = ["AnalyzeError", "AudioLayoutName", "analyze", "analyze_file", "audio_layout", "input_duration"]

AudioLayoutName = Literal["NONE", "MULTI_TRACK", "MONO_STREAMS", "INVALID"]

# Decoded frames looked at per video stream, and packets fed to the decoder at most while looking.
_PROBE_FRAMES = 5
_PROBE_PACKETS = 60
# Input options of FFmpeg's command line, not of its demuxers: never given to the prober.
_CLI_ONLY_OPTIONS = frozenset(
    {
        "c",
        "codec",
        "vcodec",
        "acodec",
        "scodec",
        "ss",
        "sseof",
        "t",
        "to",
        "itsoffset",
        "itsscale",
        "re",
        "readrate",
        "readrate_initial_burst",
        "readrate_catchup",
        "stream_loop",
        "copyts",
        "start_at_zero",
        "thread_queue_size",
        "discard",
        "dump_attachment",
        "autorotate",
        "noautorotate",
        "display_rotation",
        "display_hflip",
        "display_vflip",
        "guess_layout_max",
        "accurate_seek",
        "noaccurate_seek",
        "r",
        "dn",
        "an",
        "vn",
        "sn",
        "filter",
        "filter_complex",
        "map",
    }
)
_INTERLACED_FIELD_ORDERS = frozenset({2, 3, 4, 5})  # AV_FIELD_TT, BB, TB, BT


class AnalyzeError(ValueError):
    """The input could not be analysed: missing, unreachable, unreadable, or without audio/video/image streams."""


@dataclass
class _Tally:
    """What demuxing (and a little decoding) found for one stream."""

    packets: int = 0
    bytes: int = 0
    end: float | None = None  # seconds, end of the latest packet read
    decoded: int = 0
    fed: int = 0
    decode_done: bool = False
    interlaced: bool = False
    rotation: int | None = None


@dataclass
class _Scan:
    tallies: dict[int, _Tally]
    read_all: bool  # every packet was read (up to the end or to damaged data)


def _is_url(path_or_url: str) -> bool:
    scheme = urlsplit(path_or_url).scheme
    return len(scheme) > 1 and "://" in path_or_url  # one letter is a Windows drive


def _shown(path_or_url: str) -> str:
    """The input as safe to put in an error message: no credentials, no (presigned) query string."""
    if not _is_url(path_or_url):
        return path_or_url
    parts = urlsplit(path_or_url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _demuxer_options(
    options: Mapping[str, str | None] | None, *, network: bool, timeout: float
) -> tuple[str | None, dict[str, str]]:
    """(forced format, demuxer/protocol options) from a job input's FFmpeg input params."""
    fmt: str | None = None
    kept: dict[str, str] = {}
    for raw_key, value in (options or {}).items():
        key = raw_key.lstrip("-")
        base = key.split(":", 1)[0]
        if value is None or base.startswith("hwaccel") or base in _CLI_ONLY_OPTIONS:
            continue
        if key == "f":
            fmt = value
        else:
            kept[key] = value
    if network and "rw_timeout" not in kept and "timeout" not in kept:
        kept["rw_timeout"] = str(int(timeout * 1_000_000))
    return fmt, kept


def _open_error(shown: str, exc: BaseException) -> AnalyzeError:
    if isinstance(exc, FileNotFoundError):
        return AnalyzeError(f"no such file: {shown}")
    if isinstance(exc, ConnectionRefusedError):
        return AnalyzeError(f"connection refused: {shown}")
    if isinstance(exc, (av.error.HTTPError, av.error.HTTPClientError)):
        return AnalyzeError(f"HTTP error for {shown}: {exc.strerror}")
    if isinstance(exc, av.error.InvalidDataError):
        return AnalyzeError(f"not a readable media file (unknown format or corrupt data): {shown}")
    if isinstance(exc, (TimeoutError, av.error.ExitError)):
        return AnalyzeError(f"timed out reading {shown}")
    # Never str(exc): FFmpeg's errors carry the full URL, presigned query string included.
    reason = getattr(exc, "strerror", None) or type(exc).__name__
    return AnalyzeError(f"cannot read {shown}: {reason}")


def _local_size(path_or_url: str) -> int:
    path = urlsplit(path_or_url).path if path_or_url.startswith("file://") else path_or_url
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise AnalyzeError(f"no such file: {path_or_url}") from None
    except OSError as exc:
        raise AnalyzeError(f"cannot read {path_or_url}: {exc.strerror}") from None
    if not os.path.isfile(path):
        raise AnalyzeError(f"not a file: {path_or_url}")
    return st.st_size


def analyze_file(
    path_or_url: str, *, options: Mapping[str, str | None] | None = None, timeout: float = 30
) -> VideoFile | AudioFile | ImageFile:
    """Analyse a local file or an http(s) URL; ``options`` are the job input's FFmpeg input params.

    Options that only FFmpeg's command line understands (``hwaccel*``, ``ss``, ``c:v`` …) are dropped;
    ``f`` forces the demuxer (``rawvideo`` with ``video_size``/``framerate``/``pixel_format``). ``timeout``
    bounds opening and each read, in seconds. Raises AnalyzeError.
    """
    shown = _shown(path_or_url)
    network = _is_url(path_or_url) and not path_or_url.startswith("file://")
    file_size = None if network else _local_size(path_or_url)
    fmt, container_options = _demuxer_options(options, network=network, timeout=timeout)
    try:
        container = av.open(path_or_url, format=fmt, container_options=container_options, timeout=timeout)
    except (av.FFmpegError, OSError) as exc:
        raise _open_error(shown, exc) from None
    with container:
        size = file_size if file_size is not None else max(container.size, 0)
        try:
            return _analyze(container, path_or_url, size)
        except (av.FFmpegError, OSError) as exc:
            raise _open_error(shown, exc) from None


async def analyze(
    path_or_url: str,
    *,
    options: Mapping[str, str | None] | None = None,
    timeout: float = 30,  # noqa: ASYNC109 - FFmpeg's I/O timeout, not a deadline for the call
) -> VideoFile | AudioFile | ImageFile:
    """:func:`analyze_file` in a worker thread."""
    return await asyncio.to_thread(analyze_file, path_or_url, options=options, timeout=timeout)


def input_duration(media: MediaFile) -> float | None:
    """The duration an encode of ``media`` runs for (seconds); None for images and subtitles."""
    if isinstance(media, (VideoFile, AudioFile)):
        if media.duration is not None:
            return media.duration
        streams: list[VideoStream | AudioStream] = [*media.audio_streams]
        if isinstance(media, VideoFile):
            streams += media.video_streams
        durations = [s.duration for s in streams if s.duration is not None]
        return max(durations) if durations else None
    return None


def audio_layout(media: MediaFile, audio_stream: int | None) -> tuple[AudioLayoutName, int]:
    """Encore's audio layout of an input and its channel count.

    A chosen stream, or a single one, is MULTI_TRACK with its channels; all mono streams are MONO_STREAMS
    (one channel each); a multichannel first stream is MULTI_TRACK; mono streams before the first
    multichannel one are used as MONO_STREAMS; no audio is NONE; anything else INVALID.
    """
    streams = media.audio_streams if isinstance(media, (VideoFile, AudioFile)) else []
    if not streams:
        return ("NONE", 0)
    if audio_stream is not None:
        if not 0 <= audio_stream < len(streams) or not streams[audio_stream].channels:
            return ("INVALID", 0)
        return ("MULTI_TRACK", streams[audio_stream].channels or 0)
    channels = [s.channels or 0 for s in streams]
    if len(channels) == 1:
        return ("MULTI_TRACK", channels[0]) if channels[0] else ("INVALID", 0)
    if all(c == 1 for c in channels):
        return ("MONO_STREAMS", len(channels))
    if channels[0] > 1:
        return ("MULTI_TRACK", channels[0])
    leading_mono = next((i for i, c in enumerate(channels) if c != 1), len(channels))
    if leading_mono and channels[leading_mono] > 1:
        return ("MONO_STREAMS", leading_mono)
    return ("INVALID", 0)


def _analyze(container: InputContainer, file: str, size: int) -> VideoFile | AudioFile | ImageFile:
    videos = [s for s in container.streams.video if not s.disposition & Disposition.attached_pic]
    audios = list(container.streams.audio)
    if not videos and not audios:
        raise AnalyzeError(f"no audio, video or image streams in {_shown(file)}")
    demuxer = container.format.name.split(",")[0]
    if _is_image(demuxer, videos, audios):
        cc = videos[0].codec_context
        codec = cc.name
        return ImageFile(
            file=file,
            file_size=size,
            format=names.IMAGE_FORMATS.get(codec, codec.upper()),
            width=cc.width or None,
            height=cc.height or None,
        )

    container_duration = container.duration / 1_000_000 if container.duration and container.duration > 0 else None
    scan = _scan(container, videos, audios)
    video_streams = [_video_stream(s, scan.tallies[s.index], container_duration) for s in videos]
    audio_streams = [_audio_stream(s, scan.tallies[s.index], container_duration) for s in audios]
    if container_duration is None:
        streams: list[VideoStream | AudioStream] = [*video_streams, *audio_streams]
        durations = [s.duration for s in streams if s.duration]
        container_duration = max(durations) if durations else None
    overall = container.bit_rate or None
    if not overall and size and container_duration:
        overall = round(size * 8 / container_duration)
    fmt = _container_format(demuxer, file, [*videos, *audios])
    duration = round(container_duration, 3) if container_duration else None
    truncated = _is_truncated(container, size, scan, container_duration)
    if video_streams:
        return VideoFile(
            file=file,
            file_size=size,
            format=fmt,
            overall_bitrate=overall,
            duration=duration,
            video_streams=video_streams,
            audio_streams=audio_streams,
            is_truncated=truncated,
        )
    return AudioFile(
        file=file,
        file_size=size,
        format=fmt,
        overall_bitrate=overall,
        duration=duration,
        audio_streams=audio_streams,
        is_truncated=truncated,
    )


def _is_image(demuxer: str, videos: list[AvVideoStream], audios: list[AvAudioStream]) -> bool:
    if audios or len(videos) != 1 or videos[0].codec_context.name not in names.IMAGE_FORMATS:
        return False
    image_demuxer = demuxer in ("image2", "image2pipe") or demuxer.endswith("_pipe")
    return image_demuxer or videos[0].frames == 1


def _container_format(demuxer: str, file: str, streams: list[AvVideoStream | AvAudioStream]) -> str:
    if demuxer == "matroska":
        path = urlsplit(file).path.lower() if _is_url(file) else file.lower()
        codecs = {s.codec_context.name for s in streams}
        if path.endswith(names.WEBM_EXTENSIONS) or (not path.endswith(".mkv") and codecs <= names.WEBM_CODECS):
            return "WebM"
        return "Matroska"
    return names.CONTAINER_FORMATS.get(demuxer, demuxer)


def _needs_full_scan(videos: list[AvVideoStream], audios: list[AvAudioStream]) -> bool:
    return any(not s.codec_context.bit_rate for s in [*videos, *audios]) or any(not s.frames for s in videos)


def _scan(container: InputContainer, videos: list[AvVideoStream], audios: list[AvAudioStream]) -> _Scan:
    """Demux from the start: decode the first video frames; read every packet only when fields are missing."""
    tallies = {s.index: _Tally() for s in [*videos, *audios]}
    full = _needs_full_scan(videos, audios)
    if not videos and not full:
        return _Scan(tallies, read_all=False)
    for stream in videos:
        stream.codec_context.thread_type = "SLICE"  # frame threads would hold back the first frames
    try:
        for packet in container.demux(*videos, *audios) if full else container.demux(*videos):
            if packet.size == 0 or packet.stream.index not in tallies:
                continue
            tally = tallies[packet.stream.index]
            tally.packets += 1
            tally.bytes += packet.size
            ts = packet.pts if packet.pts is not None else packet.dts
            if ts is not None and packet.time_base:
                end = float((ts + (packet.duration or 0)) * packet.time_base)
                tally.end = end if tally.end is None else max(tally.end, end)
            if packet.stream.type == "video" and not tally.decode_done:
                _decode_probe(packet, tally)
            if not full and all(tallies[s.index].decode_done for s in videos):
                break
    except av.error.InvalidDataError:
        pass  # damaged data mid-file: keep what was read; the truncation check sees the short read
    return _Scan(tallies, read_all=full)


def _decode_probe(packet: av.Packet, tally: _Tally) -> None:
    tally.fed += 1
    try:
        frames = packet.decode()
    except av.FFmpegError:
        frames = []  # e.g. a stream starting mid-GOP: later packets may still decode
    for frame in frames:
        if not isinstance(frame, av.VideoFrame):
            continue
        tally.decoded += 1
        tally.interlaced = tally.interlaced or bool(frame.interlaced_frame)
        if tally.rotation is None:
            tally.rotation = round(frame.rotation)
    if tally.decoded >= _PROBE_FRAMES or tally.fed >= _PROBE_PACKETS:
        tally.decode_done = True


def _ratio(value: Fraction) -> str:
    return f"{value.numerator}:{value.denominator}"


def _seconds(stream: AvVideoStream | AvAudioStream, fallback: float | None) -> float | None:
    if stream.duration and stream.duration > 0 and stream.time_base:
        return round(float(stream.duration * stream.time_base), 3)
    return round(fallback, 3) if fallback else None


def _bitrate(stream: AvVideoStream | AvAudioStream, tally: _Tally, duration: float | None) -> int | None:
    if stream.codec_context.bit_rate:
        return stream.codec_context.bit_rate
    return round(tally.bytes * 8 / duration) if tally.bytes and duration else None


def _bit_depth(pix_fmt: str | None) -> int | None:
    if not pix_fmt:
        return None
    try:
        components = av.VideoFormat(pix_fmt).components
    except (ValueError, av.FFmpegError):
        return None
    return components[0].bits if components else None


def _codec_tag(stream: AvVideoStream | AvAudioStream) -> str | None:
    tag = stream.codec_tag
    return tag if tag and tag.isprintable() and tag.strip("\x00 ") else None


def _video_stream(stream: AvVideoStream, tally: _Tally, container_duration: float | None) -> VideoStream:
    cc = stream.codec_context
    width, height = cc.width, cc.height
    sar = stream.sample_aspect_ratio or cc.sample_aspect_ratio or Fraction(1, 1)
    dar = Fraction(width * sar.numerator, height * sar.denominator) if width and height else None
    rate = stream.average_rate or stream.base_rate or stream.guessed_rate
    duration = _seconds(stream, container_duration)
    return VideoStream(
        format=names.VIDEO_FORMATS.get(cc.name, cc.name.upper()),
        codec=cc.name,
        profile=cc.profile,
        level=names.level_name(cc.name, cc.level),
        width=width or None,
        height=height or None,
        sample_aspect_ratio=_ratio(sar),
        display_aspect_ratio=_ratio(dar) if dar else None,
        rotation=tally.rotation or 0,
        pixel_format=cc.pix_fmt,
        frame_rate=f"{rate.numerator}/{rate.denominator}" if rate else None,
        duration=duration,
        bitrate=_bitrate(stream, tally, duration),
        bit_depth=_bit_depth(cc.pix_fmt),
        num_frames=stream.frames or tally.packets or None,
        is_interlaced=tally.interlaced or cc.field_order in _INTERLACED_FIELD_ORDERS,
        transfer_characteristics=names.TRANSFER_CHARACTERISTICS.get(cc.color_trc),
        codec_tag_string=_codec_tag(stream),
        color_range=names.COLOR_RANGES.get(cc.color_range),
        color_space=names.COLOR_SPACES.get(cc.colorspace),
        color_transfer=names.COLOR_TRANSFERS.get(cc.color_trc),
        color_primaries=names.COLOR_PRIMARIES.get(cc.color_primaries),
    )


def _channel_layout(stream: AvAudioStream) -> str | None:
    layout = stream.codec_context.layout
    if layout.name != f"{layout.nb_channels} channels":
        return layout.name
    # Unordered channels: name them only where FFmpeg's command line would guess too (up to two).
    return {1: "mono", 2: "stereo"}.get(layout.nb_channels)


def _audio_stream(stream: AvAudioStream, tally: _Tally, container_duration: float | None) -> AudioStream:
    cc = stream.codec_context
    duration = _seconds(stream, container_duration)
    fmt = "PCM" if cc.name.startswith("pcm_") else names.AUDIO_FORMATS.get(cc.name, cc.name.upper())
    return AudioStream(
        format=fmt,
        codec=cc.name,
        duration=duration,
        channels=cc.channels or None,
        channel_layout=_channel_layout(stream),
        sampling_rate=cc.sample_rate or None,
        bitrate=_bitrate(stream, tally, duration),
        profile=cc.profile,
    )


def _is_truncated(container: InputContainer, size: int, scan: _Scan, duration: float | None) -> bool:
    if size:
        for stream in container.streams:
            entries = stream.index_entries
            for i in range(max(len(entries) - 16, 0), len(entries)):
                entry = entries[i]
                if entry.pos >= 0 and entry.pos + entry.size > size:
                    return True
    # Only a scan that read every packet can tell that they stop early.
    ends = [t.end for t in scan.tallies.values() if t.end is not None]
    if not duration or not ends or not scan.read_all:
        return False
    start = container.start_time / 1_000_000 if container.start_time and container.start_time > 0 else 0.0
    return max(ends) - start < duration - (0.5 + 0.01 * duration)
