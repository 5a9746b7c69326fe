"""Every statement on the `jobs` table. Each state change is one conditional UPDATE, so two processes
can never both move a job: whoever's WHERE clause still matches wins, the other gets no row back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Update, and_, func, select, update

from mediaplane.kit.db import RepositoryBase
from mediaplane.kit.jobs.models import JobRecord

WORKER_LOST = "worker lost: its lease expired"


@dataclass(frozen=True)
class ClaimedJob:
    id: str
    name: str
    args: dict[str, Any]
    attempt: int
    max_attempts: int
    priority: int


class JobRepository(RepositoryBase[JobRecord]):
    model = JobRecord

    # -- API side: the caller's session and transaction ---------------------------------------------

    async def get(self, job_id: str) -> JobRecord | None:
        return await self.session.get(JobRecord, job_id)

    async def ended_among(self, job_ids: list[str]) -> dict[str, JobRecord]:
        """Those of the jobs that failed or were cancelled, by id."""
        rows = await self.get_all(
            select(JobRecord).where(JobRecord.id.in_(job_ids), JobRecord.state.in_(("failed", "cancelled")))
        )
        return {row.id: row for row in rows}

    async def counts(self) -> list[tuple[str, str, int]]:
        """(name, state, count) for every name and state present: what the metrics report."""
        result = await self.session.execute(
            select(JobRecord.name, JobRecord.state, func.count()).group_by(JobRecord.name, JobRecord.state)
        )
        return [(name, state, int(count)) for name, state, count in result.all()]

    async def reload(self, job_id: str) -> JobRecord | None:
        return await self.session.get(JobRecord, job_id, populate_existing=True)

    async def cancel(self, job_id: str, now: datetime) -> tuple[list[str], list[str]]:
        """(ids cancelled at once, ids of running jobs asked to stop)."""
        return await self._cancel(JobRecord.id == job_id, now)

    async def cancel_scope(self, scope: str, now: datetime) -> tuple[list[str], list[str]]:
        return await self._cancel(JobRecord.scope == scope, now)

    async def _cancel(self, which: ColumnElement[bool], now: datetime) -> tuple[list[str], list[str]]:
        cancelled = await self._ids(
            update(JobRecord)
            .where(which, JobRecord.state == "queued")
            .values(state="cancelled", cancel_requested=True, finished_at=now, updated_at=now)
        )
        requested = await self._ids(
            update(JobRecord)
            .where(which, JobRecord.state == "running", JobRecord.cancel_requested.is_(False))
            .values(cancel_requested=True, updated_at=now)
        )
        return cancelled, requested

    # -- worker side: short sessions of the worker's own ---------------------------------------------

    async def claim(self, job_id: str, *, worker: str, now: datetime, lease_until: datetime) -> ClaimedJob | None:
        row = (
            await self._execute(
                update(JobRecord)
                .where(JobRecord.id == job_id, JobRecord.state == "queued", JobRecord.run_at <= now)
                .values(
                    state="running",
                    worker=worker,
                    lease_until=lease_until,
                    attempts=JobRecord.attempts + 1,
                    started_at=now,
                    progress=None,
                    progress_info=None,
                    updated_at=now,
                )
                .returning(
                    JobRecord.name, JobRecord.args, JobRecord.attempts, JobRecord.max_attempts, JobRecord.priority
                )
            )
        ).one_or_none()
        if row is None:
            return None
        return ClaimedJob(job_id, row.name, dict(row.args or {}), row.attempts, row.max_attempts, row.priority)

    async def renew(self, job_id: str, worker: str, lease_until: datetime) -> bool | None:
        """Extends the lease; returns cancel_requested, or None when the job is no longer this worker's."""
        row = (
            await self._execute(
                update(JobRecord)
                .where(*self._mine(job_id, worker))
                .values(lease_until=lease_until)
                .returning(JobRecord.cancel_requested)
            )
        ).one_or_none()
        return None if row is None else bool(row.cancel_requested)

    async def watch(self, job_id: str, worker: str) -> bool | None:
        """cancel_requested, or None when the job is no longer this worker's (a read, no write lock)."""
        row = (
            await self.session.execute(select(JobRecord.cancel_requested).where(*self._mine(job_id, worker)))
        ).one_or_none()
        return None if row is None else bool(row.cancel_requested)

    async def set_progress(self, job_id: str, worker: str, percent: float, info: dict[str, Any]) -> None:
        await self._execute(
            update(JobRecord).where(*self._mine(job_id, worker)).values(progress=percent, progress_info=info or None)
        )

    async def succeed(
        self, job_id: str, worker: str, now: datetime, result: dict[str, Any] | None, progress_info: Any
    ) -> bool:
        values: dict[str, Any] = {"progress": 100.0, "result": result, "error": None}
        if progress_info is not None:
            values["progress_info"] = progress_info
        return await self._finish(job_id, worker, now, "succeeded", **values)

    async def mark_cancelled(self, job_id: str, worker: str, now: datetime) -> bool:
        return await self._finish(job_id, worker, now, "cancelled", error="cancelled")

    async def fail(self, job_id: str, worker: str, now: datetime, error: str) -> bool:
        return await self._finish(job_id, worker, now, "failed", error=error)

    async def retry(self, job_id: str, worker: str, now: datetime, error: str, run_at: datetime) -> bool:
        """Back to queued for a later attempt, unless a cancel came in meanwhile."""
        ids = await self._ids(
            update(JobRecord)
            .where(*self._mine(job_id, worker), JobRecord.cancel_requested.is_(False))
            .values(
                state="queued",
                run_at=run_at,
                dispatched_at=run_at,
                worker=None,
                lease_until=None,
                error=error,
                updated_at=now,
            )
        )
        return bool(ids)

    async def release(self, job_id: str, worker: str, now: datetime, run_at: datetime | None = None) -> bool:
        """Hands a job back (shutdown, or deferred by the job): queued again, and this attempt does not count."""
        ids = await self._ids(
            update(JobRecord)
            .where(*self._mine(job_id, worker), JobRecord.cancel_requested.is_(False))
            .values(
                state="queued",
                attempts=JobRecord.attempts - 1,
                run_at=run_at or now,
                dispatched_at=run_at or now,
                worker=None,
                lease_until=None,
                updated_at=now,
            )
        )
        return bool(ids)

    # -- recovery ------------------------------------------------------------------------------------

    async def reap_expired(self, now: datetime) -> list[tuple[str, int]]:
        """Running jobs whose worker stopped renewing its lease: cancelled if asked, failed when out of
        attempts, otherwise queued again. Returns (id, priority) of the ones to send again."""
        expired = and_(JobRecord.state == "running", JobRecord.lease_until < now)
        done = {"finished_at": now, "lease_until": None, "updated_at": now}
        await self._execute(
            update(JobRecord)
            .where(expired, JobRecord.cancel_requested.is_(True))
            .values(state="cancelled", error="cancelled", **done)
        )
        await self._execute(
            update(JobRecord)
            .where(expired, JobRecord.attempts >= JobRecord.max_attempts)
            .values(state="failed", error=f"{WORKER_LOST} (no attempts left)", **done)
        )
        rows = await self._execute(
            update(JobRecord)
            .where(expired)
            .values(
                state="queued",
                run_at=now,
                dispatched_at=now,
                worker=None,
                lease_until=None,
                error=WORKER_LOST,
                updated_at=now,
            )
            .returning(JobRecord.id, JobRecord.priority)
        )
        return [(row.id, row.priority) for row in rows]

    async def redispatch_stale(self, now: datetime, sent_before: datetime, limit: int) -> list[tuple[str, int]]:
        """Due queued jobs last sent before `sent_before` (or never: the process died between commit and
        send); marks them sent now and returns (id, priority). Only called when the broker queue is empty,
        so a job merely waiting behind others is not sent twice."""
        last_sent = func.coalesce(JobRecord.dispatched_at, JobRecord.created_at)
        stale = and_(JobRecord.state == "queued", JobRecord.run_at <= now, last_sent < sent_before)
        candidates = (
            select(JobRecord.id)
            .where(stale)
            .order_by(JobRecord.priority.desc(), JobRecord.run_at)
            .limit(limit)
            .scalar_subquery()
        )
        rows = await self._execute(
            update(JobRecord)
            .where(JobRecord.id.in_(candidates), stale)
            .values(dispatched_at=now)
            .returning(JobRecord.id, JobRecord.priority)
        )
        return [(row.id, row.priority) for row in rows]

    # -- helpers -------------------------------------------------------------------------------------

    @staticmethod
    def _mine(job_id: str, worker: str) -> tuple[ColumnElement[bool], ...]:
        return (JobRecord.id == job_id, JobRecord.worker == worker, JobRecord.state == "running")

    async def _finish(self, job_id: str, worker: str, now: datetime, state: str, **values: Any) -> bool:
        ids = await self._ids(
            update(JobRecord)
            .where(*self._mine(job_id, worker))
            .values(state=state, finished_at=now, lease_until=None, updated_at=now, **values)
        )
        return bool(ids)

    async def _execute(self, statement: Update) -> Any:
        return await self.session.execute(statement, execution_options={"synchronize_session": False})

    async def _ids(self, statement: Update) -> list[str]:
        rows: Sequence[Any] = (await self._execute(statement.returning(JobRecord.id))).all()
        return [row.id for row in rows]
