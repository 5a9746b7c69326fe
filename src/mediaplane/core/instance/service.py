"""Instance lifecycle: validate options, run the service's hooks, keep a log, purge on delete."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.core.catalog import InstanceContext, ServiceSpec
from mediaplane.core.instance.models import INSTANCE_NAME_PATTERN, INSTANCE_STATES, Instance
from mediaplane.core.instance.repository import InstanceLogRepository, InstanceRepository
from mediaplane.core.instance.tasks import PURGE_JOB
from mediaplane.core.runtime import Runtime
from mediaplane.core.token.service import Principal
from mediaplane.kit.errors import BadRequest, Conflict, NotFound

MAX_NAME = 63


def storage_prefix(instance: Instance) -> str:
    return f"instances/{instance.id}"


class InstanceService:
    def validate_name(self, name: Any) -> str:
        if not isinstance(name, str) or not re.fullmatch(INSTANCE_NAME_PATTERN, name) or len(name) > MAX_NAME:
            raise BadRequest(f"Invalid name: {name}. Only lowercase alphanumeric characters are allowed.")
        return name

    def validate_options(
        self, spec: ServiceSpec, given: dict[str, Any], *, current: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        merged: dict[str, Any] = dict(current or {})
        for key, value in given.items():
            option = spec.option(key)
            if option is None:
                raise BadRequest(f"Unknown option for {spec.id}: {key}")
            if value is None:
                merged.pop(key, None)
                continue
            try:
                merged[key] = option.validate(value)
            except ValueError as exc:
                raise BadRequest(str(exc)) from exc
        for option in spec.options:
            if option.name not in merged and option.default is not None:
                merged[option.name] = option.default
            elif merged.get(option.name) in (None, "") and option.generate is not None:
                merged[option.name] = option.validate(option.generate())
            if option.mandatory and merged.get(option.name) in (None, "", []):
                raise BadRequest(f"Option {option.name} is mandatory")
        return merged

    def context(self, session: AsyncSession, runtime: Runtime, instance: Instance) -> InstanceContext:
        return InstanceContext(instance=instance, session=session, runtime=runtime)

    async def create(
        self,
        session: AsyncSession,
        runtime: Runtime,
        spec: ServiceSpec,
        principal: Principal,
        body: dict[str, Any],
    ) -> Instance:
        name = self.validate_name(body.get("name"))
        options = self.validate_options(spec, {k: v for k, v in body.items() if k != "name"})
        repo = InstanceRepository(session)
        if await repo.get_by_name(principal.tenant_id, spec.id, name) is not None:
            raise Conflict(f"An instance named {name} already exists")
        now = runtime.clock.now()
        instance = await repo.create(
            Instance(
                tenant_id=principal.tenant_id,
                service_id=spec.id,
                name=name,
                options=options,
                status="starting",
                created_at=now,
                updated_at=now,
            )
        )
        await self.log(session, instance, f"instance {name} created")
        await spec.hooks.on_create(self.context(session, runtime, instance))
        if instance.status == "starting":
            instance.status = "running"
        await session.flush()
        return instance

    async def list_instances(self, session: AsyncSession, spec: ServiceSpec, principal: Principal) -> list[Instance]:
        return list(await InstanceRepository(session).list_for(principal.tenant_id, spec.id))

    async def get(self, session: AsyncSession, spec: ServiceSpec, principal: Principal, name: str) -> Instance:
        instance = await InstanceRepository(session).get_by_name(principal.tenant_id, spec.id, name)
        if instance is None:
            raise NotFound(f"No instance named {name}")
        return instance

    async def update(
        self,
        session: AsyncSession,
        runtime: Runtime,
        spec: ServiceSpec,
        instance: Instance,
        changes: dict[str, Any],
    ) -> Instance:
        if "name" in changes and changes["name"] != instance.name:
            raise BadRequest("An instance cannot be renamed")
        changes = {k: v for k, v in changes.items() if k != "name"}
        new_options = self.validate_options(spec, changes, current=instance.options)
        changed = {k: v for k, v in new_options.items() if instance.options.get(k) != v}
        instance.options = new_options
        instance.updated_at = runtime.clock.now()
        await spec.hooks.on_update(self.context(session, runtime, instance), changed)
        await self.log(session, instance, f"options updated: {', '.join(sorted(changed)) or 'none'}")
        await session.flush()
        return instance

    async def delete(self, session: AsyncSession, runtime: Runtime, spec: ServiceSpec, instance: Instance) -> None:
        """Stops the instance's work, removes its rows (cascade) and queues the purge of its files."""
        await spec.hooks.on_delete(self.context(session, runtime, instance))
        await runtime.jobs.cancel_scope(session, instance.id)
        await runtime.jobs.enqueue(session, PURGE_JOB, {"prefix": storage_prefix(instance)}, priority=5, scope=None)
        await InstanceRepository(session).delete(instance)

    async def restart(self, session: AsyncSession, runtime: Runtime, spec: ServiceSpec, instance: Instance) -> None:
        await spec.hooks.on_restart(self.context(session, runtime, instance))
        await self.log(session, instance, "instance restarted")

    async def health(self, session: AsyncSession, runtime: Runtime, spec: ServiceSpec, instance: Instance) -> str:
        live = await spec.hooks.health(self.context(session, runtime, instance))
        status = live or instance.status
        return status if status in INSTANCE_STATES else "unknown"

    async def logs(
        self, session: AsyncSession, instance: Instance, *, since: datetime | None = None, timestamps: bool
    ) -> list[str]:
        rows = await InstanceLogRepository(session).tail(instance.id)
        lines = []
        for row in rows:
            if since is not None and row.created_at < since:
                continue
            prefix = f"{row.created_at.isoformat()} " if timestamps else ""
            lines.append(f"{prefix}{row.level} {row.message}")
        return lines

    async def log(self, session: AsyncSession, instance: Instance, message: str, level: str = "INFO") -> None:
        await InstanceLogRepository(session).add(instance.id, message, level)


instance_service = InstanceService()
