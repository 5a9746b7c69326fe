from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, func, select

from mediaplane.core.instance.models import Instance, InstanceLog
from mediaplane.kit.db import RepositoryBase


class InstanceRepository(RepositoryBase[Instance]):
    """Every query is scoped to one tenant and one service."""

    model = Instance

    def for_owner(self, tenant_id: str, service_id: str) -> Select[Instance]:
        return select(Instance).where(Instance.tenant_id == tenant_id, Instance.service_id == service_id)

    async def get_by_name(self, tenant_id: str, service_id: str, name: str) -> Instance | None:
        return await self.get_one_or_none(self.for_owner(tenant_id, service_id).where(Instance.name == name))

    async def list_for(self, tenant_id: str, service_id: str) -> Sequence[Instance]:
        return await self.get_all(self.for_owner(tenant_id, service_id).order_by(Instance.name))

    async def count_by_service(self) -> Sequence[tuple[str, int]]:
        result = await self.session.execute(select(Instance.service_id, func.count()).group_by(Instance.service_id))
        return [(row[0], int(row[1])) for row in result.all()]


class InstanceLogRepository(RepositoryBase[InstanceLog]):
    model = InstanceLog

    async def add(self, instance_id: str, message: str, level: str = "INFO") -> None:
        self.session.add(InstanceLog(instance_id=instance_id, message=message, level=level))
        await self.session.flush()

    async def tail(self, instance_id: str, *, limit: int = 1000) -> Sequence[InstanceLog]:
        rows = await self.get_all(
            select(InstanceLog)
            .where(InstanceLog.instance_id == instance_id)
            .order_by(InstanceLog.id.desc())
            .limit(limit)
        )
        return list(reversed(rows))
