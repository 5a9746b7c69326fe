"""What the dashboard shows of a job: its live state, and its outputs with size, resolution and bitrate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from mediaplane.services.encore.models import EncoreJobRow
from mediaplane.services.encore.schemas.job import EncoreJob
from mediaplane.services.encore.schemas.media import AudioFile, ImageFile, VideoFile
from mediaplane.services.encore.status import Status

AREA = "/usercontent/"
LABELS = {
    Status.NEW: "new",
    Status.QUEUED: "queued",
    Status.IN_PROGRESS: "in progress",
    Status.SUCCESSFUL: "successful",
    Status.FAILED: "failed",
    Status.CANCELLED: "cancelled",
}


def status_label(status: str) -> str:
    return LABELS.get(Status(status), status) if status in Status.__members__ else status


def speed_text(speed: float | None) -> str:
    return f"{speed:.1f}x" if speed else ""


def live_state(row: EncoreJobRow) -> dict[str, Any]:
    """What the live updates send of a job (and what the table shows of it)."""
    data = row.data or {}
    speed = data.get("speed")
    return {
        "id": row.id,
        "status": row.status,
        "statusLabel": status_label(row.status),
        "progress": row.progress,
        "speed": speed_text(speed if isinstance(speed, int | float) else None),
        "message": data.get("message") or "",
        "done": Status(row.status).completed,
    }


def file_url(dashboard: str, uri: str | None) -> str | None:
    """The dashboard's own link to a file of the instance's storage; None for files elsewhere (s3://, URLs)."""
    if not uri or not uri.startswith(AREA):
        return None
    return f"{dashboard}/files/{quote(uri[len(AREA) :])}"


def human_size(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def human_bitrate(bits: int | None) -> str:
    if not bits:
        return ""
    return f"{bits / 1000:.0f} kbit/s" if bits < 1_000_000 else f"{bits / 1_000_000:.2f} Mbit/s"


@dataclass(frozen=True)
class OutputView:
    name: str
    kind: str  # video, audio, image, subtitle
    size: str
    resolution: str
    bitrate: str
    duration: str
    codecs: str
    url: str | None
    playable: bool  # a file the browser's <video> plays (MP4)


def output_views(job: EncoreJob, dashboard: str) -> list[OutputView]:
    views = []
    for media in job.output:
        resolution, codecs, bitrate, duration = "", [], "", ""
        if isinstance(media, VideoFile | AudioFile):
            bitrate = human_bitrate(media.overall_bitrate)
            duration = f"{media.duration:.1f} s" if media.duration else ""
            codecs = [s.codec or "" for s in media.audio_streams]
        if isinstance(media, VideoFile):
            if media.video_streams:
                video = media.video_streams[0]
                resolution = f"{video.width}x{video.height}" if video.width and video.height else ""
            codecs = [s.codec or "" for s in media.video_streams] + codecs
        if isinstance(media, ImageFile) and media.width and media.height:
            resolution = f"{media.width}x{media.height}"
        url = file_url(dashboard, media.file)
        views.append(
            OutputView(
                name=media.file.rsplit("/", 1)[-1],
                kind=media.type.removesuffix("File").lower(),
                size=human_size(media.file_size),
                resolution=resolution,
                bitrate=bitrate,
                duration=duration,
                codecs=", ".join(c for c in codecs if c),
                url=url,
                playable=url is not None and media.file.lower().endswith((".mp4", ".m4v", ".mov", ".m4a")),
            )
        )
    return views


@dataclass(frozen=True)
class Source:
    label: str
    url: str
    kind: str  # hls, dash or mp4


def player_sources(job: EncoreJob, outputs: list[OutputView], dashboard: str) -> list[Source]:
    """What the player offers: the HLS and DASH packages first (all renditions), then each MP4."""
    sources = []
    for kind in ("hls", "dash"):
        manifest = file_url(dashboard, job.packages.get(kind))
        if manifest:
            sources.append(Source(f"{kind.upper()} package", manifest, kind))
    sources += [Source(o.name, o.url, "mp4") for o in outputs if o.playable and o.url and o.kind == "video"]
    sources += [Source(o.name, o.url, "mp4") for o in outputs if o.playable and o.url and o.kind == "audio"]
    return sources
