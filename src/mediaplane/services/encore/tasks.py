"""The durable job that runs one EncoreJob: claims a slot of the instance's concurrency, runs, records the end."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from sqlalchemy import select, update

from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.kit.ffmpeg import FFmpegCancelled
from mediaplane.kit.jobs import JobContext, JobDeferred, job
from mediaplane.services.encore import callbacks
from mediaplane.services.encore.models import EncoreJobRow
from mediaplane.services.encore.options import EncoreOptions
from mediaplane.services.encore.repository import EncoreJobRepository, job_of
from mediaplane.services.encore.runner import JOB_ERRORS, Transcode, failure_message
from mediaplane.services.encore.schemas.job import EncoreJob, Status
from mediaplane.services.encore.service import TRANSCODE_JOB

log = logging.getLogger(__name__)
SAVE_EVERY = 2.0  # seconds between progress writes to the job row
CALLBACK_EVERY = 10.0  # seconds between progress callbacks while running
BUSY_RETRY = 0.5  # seconds before a job waiting for a free slot of its instance tries again


async def _begin(ctx: JobContext, job_id: str) -> tuple[Instance, EncoreJob] | None:
    """Marks the job IN_PROGRESS when its instance has a free slot; defers it otherwise."""
    runtime: Runtime = ctx.resources
    async with ctx.db.session() as session:
        # Writing the instance row first makes concurrent starts of one instance wait for each other, on
        # PostgreSQL (row lock) and SQLite (write lock) alike, so two workers cannot both take its last slot.
        owner = select(EncoreJobRow.instance_id).where(EncoreJobRow.id == job_id).scalar_subquery()
        touch = update(Instance).where(Instance.id == owner).values(status=Instance.status)
        await session.execute(touch.execution_options(synchronize_session=False))
        repo = EncoreJobRepository(session)
        row = await repo.lock(job_id)
        if row is None or Status(row.status).completed:
            return None
        instance = await session.get_one(Instance, row.instance_id)
        # Start only if a slot is free after the jobs queued ahead of this one took theirs: priority order
        # holds even though every waiting job retries on its own.
        busy = await repo.count_running(instance.id, other_than=job_id) + await repo.count_ahead(row)
        if busy >= EncoreOptions.of(instance.options).concurrency:
            raise JobDeferred(BUSY_RETRY, "no free slot in the instance")
        encore_job = job_of(row)
        encore_job.status = Status.IN_PROGRESS
        encore_job.started_date = runtime.clock.now()
        encore_job.progress, encore_job.message, encore_job.output = 0, None, []
        repo.save(row, encore_job)
    return instance, encore_job


async def _save(ctx: JobContext, encore_job: EncoreJob, *, only_running: bool = True) -> bool:
    """Writes the job; while running, only if nobody settled it meanwhile (e.g. deleted)."""
    async with ctx.db.session() as session:
        repo = EncoreJobRepository(session)
        row = await repo.lock(str(encore_job.id))
        if row is None or (only_running and row.status != Status.IN_PROGRESS.value):
            return False
        repo.save(row, encore_job)
    return True


class _Reporter:
    """Progress from FFmpeg: the row at most every 2 s, a callback every 10 s, both without blocking FFmpeg."""

    def __init__(self, ctx: JobContext, instance: Instance, encore_job: EncoreJob) -> None:
        self.ctx, self.instance, self.job = ctx, instance, encore_job
        self.saved_at = self.called_at = time.monotonic()
        self.tasks: set[asyncio.Task[Any]] = set()

    async def __call__(self, percent: int, speed: float | None) -> None:
        percent = max(0, min(percent, 99))
        now = time.monotonic()
        self.job.progress = max(self.job.progress, percent)
        if speed is not None:
            self.job.speed = round(speed, 3)
        await self.ctx.progress(self.job.progress, speed=speed)
        if now - self.saved_at >= SAVE_EVERY:
            self.saved_at = now
            await _save(self.ctx, self.job)
        if now - self.called_at >= CALLBACK_EVERY and self.job.progress_callback_uri:
            self.called_at = now
            secret = EncoreOptions.of(self.instance.options).callback_secret
            self._spawn(callbacks.deliver_quietly(self.job, secret))

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def _finish(
    ctx: JobContext, instance: Instance, encore_job: EncoreJob, status: Status, message: str | None
) -> None:
    runtime: Runtime = ctx.resources
    encore_job.status = status
    encore_job.message = message
    encore_job.completed_date = runtime.clock.now()
    if status == Status.SUCCESSFUL:
        encore_job.progress = 100
    if await _save(ctx, encore_job):
        await callbacks.send_or_enqueue(ctx, instance, encore_job)


@job(TRANSCODE_JOB, max_attempts=3)
async def transcode(ctx: JobContext, *, job_id: str) -> dict[str, Any] | None:
    begun = await _begin(ctx, job_id)
    if begun is None:
        return {"skipped": True}
    instance, encore_job = begun
    await callbacks.send_or_enqueue(ctx, instance, encore_job)
    reporter = _Reporter(ctx, instance, encore_job)
    run = Transcode(ctx, ctx.resources, instance, encore_job, reporter)
    try:
        encore_job.output = await run.execute()
    except asyncio.CancelledError:
        if ctx.cancelled.is_set():
            await _finish(ctx, instance, encore_job, Status.CANCELLED, "Cancelled")
        raise  # shutdown or a lost lease: the platform job is queued again or taken over elsewhere
    except FFmpegCancelled:
        if not ctx.cancelled.is_set():
            raise
        await _finish(ctx, instance, encore_job, Status.CANCELLED, "Cancelled")
        return {"status": Status.CANCELLED.value}
    except JOB_ERRORS as exc:
        log.info("encore job %s failed: %s", job_id, exc)
        await _finish(ctx, instance, encore_job, Status.FAILED, failure_message(exc))
        return {"status": Status.FAILED.value}
    except Exception as exc:
        log.exception("encore job %s failed unexpectedly", job_id)
        await _finish(ctx, instance, encore_job, Status.FAILED, f"Unexpected error: {exc}")
        return {"status": Status.FAILED.value}
    finally:
        await reporter.close()
    await _finish(ctx, instance, encore_job, Status.SUCCESSFUL, None)
    return {"status": Status.SUCCESSFUL.value, "outputs": len(encore_job.output)}
