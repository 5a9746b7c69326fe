"""What the encore API does with jobs: create, replace, patch, delete, cancel, and settle lost ones."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.kit.errors import Conflict, NotFound
from mediaplane.kit.jobs.repository import JobRepository
from mediaplane.services.encore import callbacks
from mediaplane.services.encore.models import EncoreJobRow
from mediaplane.services.encore.repository import EncoreJobRepository, job_of, row_values
from mediaplane.services.encore.schemas.job import READ_ONLY, EncoreJob, Status

TRANSCODE_JOB = "encore.transcode"
CANCELLABLE = (Status.NEW, Status.QUEUED)


def writable(payload: dict[str, Any]) -> dict[str, Any]:
    """The client's body without read-only fields (by field name or camelCase alias)."""
    fields = EncoreJob.model_fields
    hidden = READ_ONLY | {fields[name].alias for name in READ_ONLY if fields[name].alias}
    return {k: v for k, v in payload.items() if k not in hidden}


class EncoreJobService:
    def __init__(self, session: AsyncSession, runtime: Runtime, instance: Instance) -> None:
        self.session = session
        self.runtime = runtime
        self.instance = instance
        self.repo = EncoreJobRepository(session)

    async def get(self, job_id: str) -> EncoreJobRow:
        row = await self.repo.get_in(self.instance.id, job_id)
        if row is None:
            raise NotFound(f"Job with id {job_id} not found")
        await self.settle([row])
        return row

    async def create(self, payload: dict[str, Any], job_id: str | None = None) -> EncoreJobRow:
        values = writable(payload)
        if job_id is not None:
            values["id"] = job_id
        job = EncoreJob.model_validate(values)
        job.created_date = self.runtime.clock.now()
        job.status = Status.QUEUED
        row = EncoreJobRow(id=str(job.id), instance_id=self.instance.id, created=job.created_date, **row_values(job))
        await self.repo.create(row)
        record = await self.runtime.jobs.enqueue(
            self.session, TRANSCODE_JOB, {"job_id": row.id}, priority=job.priority, scope=self.instance.id
        )
        row.run_id = record.id
        await callbacks.enqueue(self.session, self.runtime, self.instance, job)
        await self.session.flush()
        return row

    async def replace(self, job_id: str, payload: dict[str, Any]) -> tuple[EncoreJobRow, bool]:
        """PUT: the job's writable fields replaced; a new id creates the job. Returns (row, created)."""
        row = await self.repo.get_in(self.instance.id, job_id)
        if row is None:
            return await self.create(payload, job_id), True
        return await self._update(row, writable(payload), replace=True), False

    async def patch(self, job_id: str, payload: dict[str, Any]) -> EncoreJobRow:
        row = await self.get(job_id)
        return await self._update(row, writable(payload), replace=False)

    async def _update(self, row: EncoreJobRow, values: dict[str, Any], *, replace: bool) -> EncoreJobRow:
        current = job_of(row)
        if current.status == Status.IN_PROGRESS:
            raise Conflict(f"Cannot update job with status {current.status.value}!")
        dump = current.model_dump(mode="json", by_alias=True)
        editable = writable(dump)
        kept = {k: v for k, v in dump.items() if k not in editable}
        base = {} if replace else editable
        job = EncoreJob.model_validate({**base, **values, **kept})
        self.repo.save(row, job)
        await self.session.flush()
        return row

    async def delete(self, job_id: str) -> None:
        row = await self.get(job_id)
        if row.run_id:
            await self.runtime.jobs.cancel(self.session, row.run_id)
        await self.repo.delete(row)

    async def cancel(self, job_id: str) -> None:
        row = await self.get(job_id)
        job = job_of(row)
        if job.status in CANCELLABLE:
            job.status = Status.CANCELLED
            job.completed_date = self.runtime.clock.now()
            job.message = "Cancelled"
            self.repo.save(row, job)
            await callbacks.enqueue(self.session, self.runtime, self.instance, job)
        elif job.status != Status.IN_PROGRESS:
            raise Conflict(f"Cannot cancel job with status {job.status.value}!")
        # A running job's worker, on whatever machine, sees the request and stops FFmpeg.
        if row.run_id:
            await self.runtime.jobs.cancel(self.session, row.run_id)
        await self.session.flush()

    async def settle(self, rows: Sequence[EncoreJobRow]) -> None:
        """Jobs whose platform job ended without the worker writing the outcome (it died for the last time,
        or was cancelled while lost) get that outcome now: no job stays IN_PROGRESS forever."""
        waiting = [r for r in rows if r.run_id and r.status in (Status.QUEUED.value, Status.IN_PROGRESS.value)]
        if not waiting:
            return
        records = await JobRepository(self.session).ended_among([r.run_id for r in waiting if r.run_id])
        for row in waiting:
            record = records.get(row.run_id or "")
            if record is None:
                continue
            job = job_of(row)
            job.completed_date = record.finished_at or self.runtime.clock.now()
            if record.state == "cancelled":
                job.status, job.message = Status.CANCELLED, "Cancelled"
            else:
                job.status = Status.FAILED
                job.message = f"The job was lost {record.attempts} time(s) with its worker: {record.error}"
            self.repo.save(row, job)
            await callbacks.enqueue(self.session, self.runtime, self.instance, job)
        await self.session.flush()
