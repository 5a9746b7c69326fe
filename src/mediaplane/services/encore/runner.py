"""One transcode from start to end on a worker: inputs analysed, profile read, FFmpeg run, outputs stored."""

from __future__ import annotations

import logging
import re
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.kit.ffmpeg import FFmpegError, Progress, run_ffmpeg
from mediaplane.kit.jobs import JobContext
from mediaplane.services.encore.encode.analyze import AnalyzeError, analyze
from mediaplane.services.encore.encode.command import EncodePlan, PlanError, ResolvedInput, build_plan
from mediaplane.services.encore.encode.package import PackageError
from mediaplane.services.encore.locations import (
    LocationError,
    S3Transfer,
    area_key,
    instance_area,
    resolve_input,
    s3_location,
)
from mediaplane.services.encore.options import EncoreOptions
from mediaplane.services.encore.packaging import package_outputs
from mediaplane.services.encore.profiles.loader import ProfileError, load_profile
from mediaplane.services.encore.schemas.job import EncoreJob
from mediaplane.services.encore.schemas.media import MediaFile
from mediaplane.services.encore.segmented import run_segmented

log = logging.getLogger(__name__)
# Errors that mean "this job cannot succeed as asked": FAILED with the message, no retry.
JOB_ERRORS = (FFmpegError, PlanError, AnalyzeError, LocationError, ProfileError, PackageError)
ProgressReport = Callable[[int, float | None], Awaitable[None]]


def ffmpeg_message(error: FFmpegError) -> str:
    """Encore's wording: the exit code, then FFmpeg's error lines (or its last lines when none is tagged)."""
    lines = [line for line in error.stderr_tail.splitlines() if line.strip()]
    tagged = [line for line in lines if "[error]" in line or "[fatal]" in line]
    return f"Error running ffmpeg (exit code {error.returncode}) :\n" + "\n".join((tagged or lines)[-20:])


def produced(path: Path) -> list[Path]:
    """The files FFmpeg wrote for a planned output; a numbered pattern (`x_thumb%02d.jpg`) gives several."""
    if "%" not in path.name:
        return [path] if path.exists() else []
    digits = re.sub(r"%0?(\d*)d", lambda m: rf"\d{{{m.group(1) or 1},}}", re.escape(path.name))
    pattern = re.compile(digits)
    return sorted(p for p in path.parent.iterdir() if pattern.fullmatch(p.name))


def failure_message(error: BaseException) -> str:
    if isinstance(error, FFmpegError):
        return ffmpeg_message(error)
    return str(error) or type(error).__name__


@dataclass
class Transcode:
    ctx: JobContext
    runtime: Runtime
    instance: Instance
    job: EncoreJob
    report: ProgressReport
    s3: S3Transfer | None = None

    @property
    def options(self) -> EncoreOptions:
        return EncoreOptions.of(self.instance.options)

    def workdir(self) -> Path:
        root = self.runtime.settings.work_dir or self.runtime.settings.data_dir / "work"
        return Path(root) / "encore" / str(self.job.id)

    async def execute(self) -> list[MediaFile]:
        workdir = self.workdir()
        shutil.rmtree(workdir, ignore_errors=True)  # a run taken over from a lost worker starts clean
        workdir.mkdir(parents=True)
        try:
            inputs = await self.resolve_inputs()
            job_values = self.job.model_dump(mode="json", by_alias=True)
            profile = await load_profile(self.options.profiles_url, self.job.profile, job_values)
            if self.job.segment_length:
                started = time.monotonic()
                plan = await run_segmented(
                    self.ctx, self.runtime, self.instance, self.job, profile, inputs, workdir, self.report
                )
                speed = round(plan.duration / (time.monotonic() - started), 3) if plan.duration else None
            else:
                plan = build_plan(self.job, profile, inputs, workdir)
                speed = await self.encode(plan)
            outputs = await self.store_outputs(plan, workdir)
            if self.job.package_formats:
                await package_outputs(self, plan, outputs, workdir)
            self.job.speed = speed
            return outputs
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    async def resolve_inputs(self) -> list[ResolvedInput]:
        area = instance_area(self.runtime.storage, self.instance.id)
        resolved = []
        for item in self.job.inputs:
            where = await resolve_input(item.uri, area, self.options.s3)
            try:
                analyzed = await analyze(where.url, options=item.params)
            except AnalyzeError as exc:
                raise AnalyzeError(f"Failed to analyze input {item.uri}: {exc}") from None
            item.analyzed = analyzed
            item.access_uri = where.access_uri
            resolved.append(ResolvedInput(input=item, url=where.url, analyzed=analyzed))
        return resolved

    async def encode(self, plan: EncodePlan) -> float | None:
        """Runs every pass; returns the speed (output seconds per wall second, 3 decimals)."""
        started = time.monotonic()
        count = len(plan.commands)
        for index, args in enumerate(plan.commands):

            async def on_progress(progress: Progress, index: int = index) -> None:
                percent = progress.percent or 0.0
                await self.report(int((index * 100 + percent) / count), progress.speed)

            await run_ffmpeg(
                args,
                duration=plan.duration,
                on_progress=on_progress,
                cancel=self.ctx.cancelled,
                ffmpeg=self.runtime.settings.ffmpeg_path,
            )
        elapsed = time.monotonic() - started
        return round(plan.duration / elapsed, 3) if elapsed > 0 and plan.duration else None

    async def store_outputs(self, plan: EncodePlan, workdir: Path) -> list[MediaFile]:
        outputs: list[MediaFile] = []
        for planned in plan.outputs:
            written = produced(planned.path)
            if not written:
                if planned.optional:
                    continue
                raise PlanError(f"FFmpeg did not write {planned.path.name}")
            for path in written:
                analyzed = await analyze(str(path))
                analyzed.file = await self.store(path, path.relative_to(workdir).as_posix())
                outputs.append(analyzed)
        return outputs

    async def store(self, path: Path, name: str) -> str:
        """Copies one produced file to the job's output folder; returns the name users see it under."""
        folder = self.job.output_folder.rstrip("/")
        target = f"{folder}/{name}"
        location = s3_location(target)
        if location is not None:
            if self.s3 is None:
                self.s3 = S3Transfer(self.options.s3)  # one client for all the job's uploads
            await self.s3.upload(path, location)
            return target
        area = instance_area(self.runtime.storage, self.instance.id)
        await area.put_file(area_key(target), path)
        return target if target.startswith("/") else f"/{target}"
