"""Jobs: runs of a plan. Making one stores the row (`queued`) and a durable platform job in one transaction;
the runner (runner.py) moves it to running and to succeeded, failed or cancelled.

gosd v2 kept no state and had one cancel that killed whatever its single worker ran for the plan; here a
cancel names a job or, without one, every queued or running job of the plan, and is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.services.gosd import schemas, webhooks
from mediaplane.services.gosd.blobs import BlobService
from mediaplane.services.gosd.errors import not_found
from mediaplane.services.gosd.inputs import Body, files_and_extra
from mediaplane.services.gosd.models import GosdJob, GosdPlan
from mediaplane.services.gosd.repository import BlobRepository, JobRepository, PlanRepository

RUN_JOB = "gosd.run"
LOG_KEY = "luavm"  # the job file that keeps the script's log (gosd's key, file luavm.txt)
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
NUMBERING_TRIES = 5  # two jobs of one plan made at once may draw the same job_id


class JobService:
    def __init__(self, session: AsyncSession, runtime: Runtime, instance: Instance) -> None:
        self.session = session
        self.runtime = runtime
        self.instance = instance
        self.jobs = JobRepository(session)

    async def plan(self, plan_id: int) -> GosdPlan:
        plan = await PlanRepository(self.session).get_in(self.instance.id, plan_id)
        if plan is None:
            raise not_found(f"No plan {plan_id}")
        return plan

    async def _inputs(self, body: Body) -> tuple[dict[str, str], dict[str, str]]:
        """The job's own files and extra: JSON `files`/`extra`, or a form's file parts and text fields."""
        files, extra = files_and_extra(body, frozenset({"files", "extra"}))
        wanted = sorted({int(v) for v in files.values()})
        missing = sorted(set(wanted) - await BlobRepository(self.session).existing(self.instance.id, wanted))
        if missing:
            raise not_found(f"No blob {', '.join(str(m) for m in missing)}")
        if body.files:
            uploaded = await BlobService(self.session, self.runtime, self.instance).create_many(body.files)
            files.update({field: str(blob.id) for field, blob in uploaded.items()})
        return files, extra

    async def run(self, plan_id: int, body: Body) -> GosdJob:
        plan = await self.plan(plan_id)
        files, extra = await self._inputs(body)
        for attempt in range(NUMBERING_TRIES):
            now = self.runtime.clock.now()
            job = GosdJob(
                instance_id=self.instance.id,
                plan_id=plan.id,
                job_id=await self.jobs.next_job_id(plan.id),
                node_id=plan.node_id,
                files=files,
                extra=extra,
                state="queued",
                cancel_requested=False,
                created_at=now,
                updated_at=now,
            )
            try:
                async with self.session.begin_nested():
                    self.session.add(job)
            except IntegrityError:
                if attempt == NUMBERING_TRIES - 1:
                    raise
                continue
            break
        record = await self.runtime.jobs.enqueue(self.session, RUN_JOB, {"job": job.id}, scope=self.instance.id)
        job.run_id = record.id
        await self.session.flush()
        await webhooks.emit(self.session, self.runtime, self.instance, "job.queued", job=schemas.job(job))
        return job

    async def of_plan(self, plan_id: int) -> Sequence[GosdJob]:
        await self.plan(plan_id)
        return await self.jobs.of_plan(self.instance.id, plan_id)

    async def get(self, plan_id: int, job_id: int) -> GosdJob:
        job = await self.jobs.get_in(self.instance.id, plan_id, job_id)
        if job is None:
            raise not_found(f"No job {job_id} of plan {plan_id}")
        return job

    async def running(self, plan_id: int) -> GosdJob | None:
        await self.plan(plan_id)
        active = await self.jobs.active_of_plan(self.instance.id, plan_id)
        return next((j for j in active if j.state == "running"), None)

    async def cancel(self, plan_id: int, job_id: int | None = None) -> list[GosdJob]:
        """Cancels one job, or every queued or running job of the plan; a finished job stays as it is.

        A queued job ends `cancelled` at once; a running one is asked to stop, and its runner records
        `cancelled` once the script has stopped and the node was told."""
        await self.plan(plan_id)
        if job_id is None:
            targets = list(await self.jobs.active_of_plan(self.instance.id, plan_id))
        else:
            targets = [await self.get(plan_id, job_id)]
        now = self.runtime.clock.now()
        for job in targets:
            if job.state in TERMINAL:
                continue
            job.cancel_requested = True
            job.updated_at = now
            if job.run_id is not None:
                await self.runtime.jobs.cancel(self.session, job.run_id)
            if job.state == "queued":
                job.state, job.finished_at, job.error = "cancelled", now, "cancelled before it started"
                await webhooks.emit(self.session, self.runtime, self.instance, "job.cancelled", job=schemas.job(job))
        await self.session.flush()
        return targets
