"""Segmented encoding (`segmentLength`): the video is cut into segments that any worker may encode, then joined
by stream copy with the audio encoded whole, so there are no gaps at the joins (upstream Encore issue #45).

The job's own worker encodes the audio, then takes segments like every helper does; helpers are platform jobs
(`encore.segment`) on any machine. Segment files meet in the platform storage. A segment whose worker stops
renewing its lease is taken again, so a lost helper costs one segment, never the job.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, func, or_, select, update

from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.kit.ffmpeg import FFmpegCancelled, run_ffmpeg
from mediaplane.kit.jobs import JobContext, job
from mediaplane.services.encore.encode.command import (
    EncodePlan,
    PlannedOutput,
    ResolvedInput,
    build_plan,
    join_segments_command,
    segment_count,
)
from mediaplane.services.encore.locations import instance_area, resolve_input
from mediaplane.services.encore.models import EncoreJobRow, EncoreSegmentRow
from mediaplane.services.encore.options import EncoreOptions
from mediaplane.services.encore.profiles.model import Profile
from mediaplane.services.encore.repository import EncoreJobRepository, job_of
from mediaplane.services.encore.schemas.job import AudioEncodingMode, EncoreJob, SegmentedEncodingInfo, Status
from mediaplane.services.encore.schemas.media import AudioFile, ImageFile, VideoFile

log = logging.getLogger(__name__)
SEGMENT_JOB = "encore.segment"
LEASE = timedelta(seconds=60)
RENEW_EVERY = 10.0
POLL = 0.5


def shared_prefix(job_id: str) -> str:
    return f"work/encore/{job_id}"


@dataclass
class Segments:
    """Claiming and encoding segments of one job; used by its main worker and by helpers alike."""

    ctx: JobContext
    runtime: Runtime
    job: EncoreJob
    profile: Profile
    inputs: list[ResolvedInput]
    workdir: Path
    worker: str

    @property
    def job_id(self) -> str:
        return str(self.job.id)

    async def claim(self) -> int | None:
        """The lowest pending segment (or one whose worker went silent), now this worker's; None when none."""
        while True:
            now = self.runtime.clock.now()
            free = or_(
                EncoreSegmentRow.state == "pending",
                (EncoreSegmentRow.state == "running") & (EncoreSegmentRow.lease_until < now),
            )
            async with self.ctx.db.session() as session:
                index = (
                    await session.execute(
                        select(func.min(EncoreSegmentRow.index)).where(EncoreSegmentRow.job_id == self.job_id, free)
                    )
                ).scalar()
                if index is None:
                    return None
                taken = await session.execute(
                    update(EncoreSegmentRow)
                    .where(EncoreSegmentRow.job_id == self.job_id, EncoreSegmentRow.index == index, free)
                    .values(state="running", worker=self.worker, lease_until=now + LEASE)
                    .execution_options(synchronize_session=False)
                )
            if getattr(taken, "rowcount", 0) == 1:
                return int(index)

    async def _set(self, index: int, **values: object) -> bool:
        async with self.ctx.db.session() as session:
            result = await session.execute(
                update(EncoreSegmentRow)
                .where(
                    EncoreSegmentRow.job_id == self.job_id,
                    EncoreSegmentRow.index == index,
                    EncoreSegmentRow.worker == self.worker,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        return getattr(result, "rowcount", 0) == 1

    async def _still_wanted(self) -> bool:
        async with self.ctx.db.session() as session:
            row = await session.get(EncoreJobRow, self.job_id)
        return row is not None and row.status == Status.IN_PROGRESS.value

    async def _keep_lease(self, index: int, stop: asyncio.Event) -> None:
        """Renews the claim; stops the encode when the job was cancelled or the claim was taken over."""
        while True:
            await asyncio.sleep(RENEW_EVERY)
            mine = await self._set(index, lease_until=self.runtime.clock.now() + LEASE)
            if not mine or not await self._still_wanted():
                stop.set()
                return

    async def encode(self, index: int) -> None:
        length = float(self.job.segment_length or 0)
        total = self.total_duration
        folder = self.workdir / "segments"
        folder.mkdir(parents=True, exist_ok=True)
        plan = build_plan(
            self.job,
            self.profile,
            self.inputs,
            folder,
            audio=False,
            thumbnails=False,
            seek=index * length,
            length=min(length, total - index * length),
            name_suffix=f"_{index:05d}",
        )
        stop = asyncio.Event()
        keeper = asyncio.create_task(self._keep_lease(index, stop))
        cancel = asyncio.Event()

        async def relay() -> None:
            await asyncio.wait(
                [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.ctx.cancelled.wait())],
                return_when=asyncio.FIRST_COMPLETED,
            )
            cancel.set()

        relayer = asyncio.create_task(relay())
        try:
            for args in plan.commands:
                await run_ffmpeg(args, duration=plan.duration, cancel=cancel, ffmpeg=self.runtime.settings.ffmpeg_path)
            for output in plan.outputs:
                key = f"{shared_prefix(self.job_id)}/segments/{output.path.name}"
                await self.runtime.storage.put_file(key, output.path)
                output.path.unlink(missing_ok=True)
        finally:
            keeper.cancel()
            relayer.cancel()
            await asyncio.gather(keeper, relayer, return_exceptions=True)
        await self._set(index, state="done", progress=100)

    @functools.cached_property
    def total_duration(self) -> float:
        return build_plan(self.job, self.profile, self.inputs, self.workdir, audio=False, thumbnails=False).duration

    async def counts(self) -> tuple[int, int]:
        """(done, all) segments."""
        async with self.ctx.db.session() as session:
            rows = (
                await session.execute(
                    select(EncoreSegmentRow.state, func.count())
                    .where(EncoreSegmentRow.job_id == self.job_id)
                    .group_by(EncoreSegmentRow.state)
                )
            ).all()
        states = {state: int(count) for state, count in rows}
        return states.get("done", 0), sum(states.values())


async def prepare(
    ctx: JobContext, runtime: Runtime, instance: Instance, encore_job: EncoreJob, profile: Profile, count: int
) -> None:
    """Fresh segment rows and shared folder (a job taken over starts again), the job with its analysed inputs
    and the profile for helpers, and the helpers themselves: one per segment beyond the first."""
    job_id = str(encore_job.id)
    await runtime.storage.delete_prefix(shared_prefix(job_id) + "/")
    profile_json = json.dumps(profile.model_dump(mode="json", by_alias=True)).encode()
    await runtime.storage.put_bytes(f"{shared_prefix(job_id)}/profile.json", profile_json)
    async with ctx.db.session() as session:
        repo = EncoreJobRepository(session)
        row = await repo.lock(job_id)
        if row is not None:
            repo.save(row, encore_job)
        await session.execute(delete(EncoreSegmentRow).where(EncoreSegmentRow.job_id == job_id))
        session.add_all(EncoreSegmentRow(job_id=job_id, index=i, state="pending", progress=0) for i in range(count))
        for _ in range(count - 1):
            await runtime.jobs.enqueue(
                session, SEGMENT_JOB, {"job_id": job_id}, priority=encore_job.priority, scope=instance.id
            )


async def run_segmented(
    ctx: JobContext,
    runtime: Runtime,
    instance: Instance,
    encore_job: EncoreJob,
    profile: Profile,
    inputs: list[ResolvedInput],
    workdir: Path,
    report: Callable[[int, float | None], Awaitable[None]],
) -> EncodePlan:
    """Encodes audio whole and video by segments, joins them; returns a plan whose outputs are the joined files."""
    length = float(encore_job.segment_length or 0)
    whole = build_plan(encore_job, profile, inputs, workdir, thumbnails=False)
    count = segment_count(whole.duration, length)
    encore_job.segmented_encoding_info = SegmentedEncodingInfo(
        segment_length=length,
        num_segments=count,
        num_tasks=count,
        audio_encoding_mode=AudioEncodingMode.ENCODE_SEPARATELY_FULL,
    )
    await prepare(ctx, runtime, instance, encore_job, profile, count)
    segments = Segments(ctx, runtime, encore_job, profile, inputs, workdir, worker=ctx.job_id)

    audio_dir = workdir / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    audio_plan = build_plan(encore_job, profile, inputs, audio_dir, video=False, thumbnails=False)
    for args in audio_plan.commands:
        await run_ffmpeg(args, duration=audio_plan.duration, cancel=ctx.cancelled, ffmpeg=runtime.settings.ffmpeg_path)
    audio_of = {o.encode_index: o.path for o in audio_plan.outputs}

    while True:
        index = await segments.claim()
        if index is not None:
            await segments.encode(index)
        done, total = await segments.counts()
        await report(int(90 * done / max(total, 1)), None)
        if done == total:
            break
        if index is None:
            await asyncio.sleep(POLL)

    seg_dir = workdir / "joined-from"
    seg_dir.mkdir(parents=True, exist_ok=True)
    stored = await runtime.storage.list(f"{shared_prefix(str(encore_job.id))}/segments/")
    for info in stored:
        await runtime.storage.download_to(info.key, seg_dir / info.key.rsplit("/", 1)[1])
    outputs: list[PlannedOutput] = []
    for planned in whole.outputs:
        target = planned.path
        if planned.kind == "video":
            parts = sorted(seg_dir.glob(f"{target.stem}_[0-9][0-9][0-9][0-9][0-9]{target.suffix}"))
            args = join_segments_command(parts, audio_of.get(planned.encode_index), target, profile.join_segment_params)
            await run_ffmpeg(args, cancel=ctx.cancelled, ffmpeg=runtime.settings.ffmpeg_path)
        elif planned.encode_index in audio_of:
            shutil.move(audio_of[planned.encode_index], target)
        outputs.append(planned)
    await runtime.storage.delete_prefix(shared_prefix(str(encore_job.id)) + "/")
    return EncodePlan(commands=[], outputs=outputs, duration=whole.duration)


@job(SEGMENT_JOB, max_attempts=3)
async def encode_segments(ctx: JobContext, *, job_id: str) -> dict[str, int]:
    """A helper: encodes segments of a running segmented job until none is left."""
    runtime: Runtime = ctx.resources
    async with ctx.db.session() as session:
        row = await EncoreJobRepository(session).lock(job_id)
        if row is None or row.status != Status.IN_PROGRESS.value:
            return {"segments": 0}
        instance = await session.get_one(Instance, row.instance_id)
        encore_job = job_of(row)
    raw = b"".join([chunk async for chunk in runtime.storage.open(f"{shared_prefix(job_id)}/profile.json")])
    profile = Profile.model_validate(json.loads(raw))
    area = instance_area(runtime.storage, instance.id)
    inputs = []
    for item in encore_job.inputs:
        if not isinstance(item.analyzed, VideoFile | AudioFile | ImageFile):
            return {"segments": 0}  # the main worker has not saved its analysis: it does the work itself
        where = await resolve_input(item.uri, area, EncoreOptions.of(instance.options).s3)
        inputs.append(ResolvedInput(input=item, url=where.url, analyzed=item.analyzed))
    workdir = (
        Path(runtime.settings.work_dir or runtime.settings.data_dir / "work") / "encore" / f"{job_id}-{ctx.job_id}"
    )
    workdir.mkdir(parents=True, exist_ok=True)
    segments = Segments(ctx, runtime, encore_job, profile, inputs, workdir, worker=ctx.job_id)
    encoded = 0
    try:
        while (index := await segments.claim()) is not None:
            await segments.encode(index)
            encoded += 1
    except FFmpegCancelled:
        log.info("segments of encore job %s: stopped (cancelled or taken over)", job_id)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {"segments": encoded}
