"""Queries on encore jobs, always within one instance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select

from mediaplane.kit.db import RepositoryBase
from mediaplane.services.encore.models import EncoreJobRow
from mediaplane.services.encore.schemas.job import EncoreJob, Status

# Sortable properties (Encore 1.0 allows createdDate and priority; 0.2 any property: these are the useful ones).
SORTABLE: dict[str, Any] = {
    "createdDate": EncoreJobRow.created,
    "priority": EncoreJobRow.priority,
    "status": EncoreJobRow.status,
    "profile": EncoreJobRow.profile,
    "baseName": EncoreJobRow.base_name,
    "externalId": EncoreJobRow.external_id,
    "progress": EncoreJobRow.progress,
}
FILTERS = {
    "status": EncoreJobRow.status,
    "externalId": EncoreJobRow.external_id,
    "profile": EncoreJobRow.profile,
    "baseName": EncoreJobRow.base_name,
}


@dataclass(frozen=True)
class Page:
    rows: Sequence[EncoreJobRow]
    number: int
    size: int
    total: int


def row_values(job: EncoreJob) -> dict[str, Any]:
    return {
        "status": job.status.value,
        "priority": job.priority,
        "profile": job.profile,
        "base_name": job.base_name,
        "external_id": job.external_id,
        "progress": job.progress,
        "data": job.model_dump(mode="json", by_alias=True),
    }


def job_of(row: EncoreJobRow) -> EncoreJob:
    return EncoreJob.model_validate(row.data)


class EncoreJobRepository(RepositoryBase[EncoreJobRow]):
    model = EncoreJobRow

    async def get_in(self, instance_id: str, job_id: str) -> EncoreJobRow | None:
        return await self.get_one_or_none(
            select(EncoreJobRow).where(EncoreJobRow.instance_id == instance_id, EncoreJobRow.id == job_id)
        )

    async def lock(self, job_id: str) -> EncoreJobRow | None:
        """The row, locked for update where the database can (PostgreSQL); SQLite serialises writers anyway."""
        return await self.get_one_or_none(select(EncoreJobRow).where(EncoreJobRow.id == job_id).with_for_update())

    async def page(
        self,
        instance_id: str,
        *,
        number: int,
        size: int,
        sort: list[tuple[str, bool]],
        where: dict[str, str] | None = None,
    ) -> Page:
        conditions: list[ColumnElement[bool]] = [EncoreJobRow.instance_id == instance_id]
        for name, value in (where or {}).items():
            conditions.append(FILTERS[name] == value)
        order = [SORTABLE[name].desc() if descending else SORTABLE[name].asc() for name, descending in sort]
        query = select(EncoreJobRow).where(*conditions).order_by(*order, EncoreJobRow.id)
        rows, total = await self.paginate(query, page=number, size=size)
        return Page(rows, number, size, total)

    async def queued(self, instance_id: str) -> Sequence[EncoreJobRow]:
        return await self.get_all(
            select(EncoreJobRow)
            .where(EncoreJobRow.instance_id == instance_id, EncoreJobRow.status == Status.QUEUED.value)
            .order_by(EncoreJobRow.priority.desc(), EncoreJobRow.created, EncoreJobRow.id)
        )

    async def count_running(self, instance_id: str, other_than: str) -> int:
        return await self.count(
            select(EncoreJobRow).where(
                EncoreJobRow.instance_id == instance_id,
                EncoreJobRow.status == Status.IN_PROGRESS.value,
                EncoreJobRow.id != other_than,
            )
        )

    async def count_ahead(self, row: EncoreJobRow) -> int:
        """Queued jobs of the same instance that come before this one (higher priority, or older at equal)."""
        return await self.count(
            select(EncoreJobRow).where(
                EncoreJobRow.instance_id == row.instance_id,
                EncoreJobRow.status == Status.QUEUED.value,
                EncoreJobRow.id != row.id,
                or_(
                    EncoreJobRow.priority > row.priority,
                    and_(EncoreJobRow.priority == row.priority, EncoreJobRow.created < row.created),
                ),
            )
        )

    async def unsettled(self, instance_id: str) -> Sequence[EncoreJobRow]:
        """Jobs that a worker should still be working on: checked against their platform job."""
        return await self.get_all(
            select(EncoreJobRow).where(
                EncoreJobRow.instance_id == instance_id,
                EncoreJobRow.status.in_([Status.QUEUED.value, Status.IN_PROGRESS.value]),
            )
        )

    def save(self, row: EncoreJobRow, job: EncoreJob) -> None:
        for key, value in row_values(job).items():
            setattr(row, key, value)
