"""HLS and DASH packages of a job's renditions (stream copy), stored beside them in the output folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mediaplane.kit.ffmpeg import run_ffmpeg
from mediaplane.services.encore.encode.command import EncodePlan
from mediaplane.services.encore.encode.package import (
    DASH_MANIFEST,
    HLS_MASTER,
    Rendition,
    package_commands,
    package_files,
)
from mediaplane.services.encore.schemas.media import AudioFile, MediaFile, VideoFile

if TYPE_CHECKING:
    from mediaplane.services.encore.runner import Transcode

MANIFESTS = {"hls": HLS_MASTER, "dash": DASH_MANIFEST}


def renditions(plan: EncodePlan, outputs: list[MediaFile]) -> list[Rendition]:
    """The mp4 renditions (video with its audio, and audio-only files), in the profile's order."""
    by_name = {Path(o.file).name: o for o in outputs}
    found = []
    for planned in plan.outputs:
        media = by_name.get(planned.path.name)
        if planned.path.suffix != ".mp4" or not isinstance(media, VideoFile | AudioFile):
            continue
        video = media.video_streams[0] if isinstance(media, VideoFile) and media.video_streams else None
        found.append(
            Rendition(
                path=planned.path,
                has_video=video is not None,
                has_audio=bool(media.audio_streams),
                bandwidth=media.overall_bitrate,
                width=video.width if video else None,
                height=video.height if video else None,
            )
        )
    return found


async def package_outputs(run: Transcode, plan: EncodePlan, outputs: list[MediaFile], workdir: Path) -> None:
    job = run.job
    for args, folders in package_commands(
        renditions(plan, outputs), workdir, job.base_name, [str(f) for f in job.package_formats]
    ):
        await run_ffmpeg(args, cancel=run.ctx.cancelled, ffmpeg=run.runtime.settings.ffmpeg_path)
        for folder in folders:
            fmt = "hls" if folder.name.endswith("hls") else "dash"
            for path in package_files(folder):
                stored = await run.store(path, path.relative_to(workdir).as_posix())
                if path.name == MANIFESTS[fmt] and path.parent == folder:
                    job.packages[fmt] = stored
