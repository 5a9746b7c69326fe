"""Plans: what to run on a node. `files` maps a role (e.g. `lua`, `waypoint`) to a blob id, `extra` holds
free-form strings. JSON bodies, or forms as gosd's multipart path takes them (see `read_plan`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.services.gosd.blobs import BlobService
from mediaplane.services.gosd.errors import not_found
from mediaplane.services.gosd.inputs import Body, files_and_extra, integer_id, text
from mediaplane.services.gosd.models import GosdPlan, GosdPlanFile
from mediaplane.services.gosd.repository import BlobRepository, NodeRepository, PlanFileRepository, PlanRepository

PLAN_FIELDS = frozenset({"name", "description", "node_id", "files", "extra"})


@dataclass(frozen=True)
class PlanInput:
    name: str
    description: str
    node_id: int
    files: dict[str, str]
    extra: dict[str, str]


def read_plan(body: Body) -> PlanInput:
    """JSON: the spec's object. A form: `name`, `description`, `node_id`; `files` and `extra` as JSON text or
    as `files[key]` / `extra[key]` fields; any other text field goes into `extra` (as gosd's multipart path
    does). File parts are handled by the caller (each becomes a blob named in `files`)."""
    files, extra = files_and_extra(body, PLAN_FIELDS)
    return PlanInput(
        name=text(body, "name", required=True, max_length=255),
        description=text(body, "description"),
        node_id=integer_id(body, "node_id"),
        files=files,
        extra=extra,
    )


class PlanService:
    def __init__(self, session: AsyncSession, runtime: Runtime, instance: Instance) -> None:
        self.session = session
        self.runtime = runtime
        self.instance = instance
        self.plans = PlanRepository(session)
        self.plan_files = PlanFileRepository(session)

    async def files_of(self, plans: Sequence[GosdPlan]) -> dict[int, dict[str, str]]:
        rows = await self.plan_files.of_plans(self.instance.id, [p.id for p in plans])
        files: dict[int, dict[str, str]] = {p.id: {} for p in plans}
        for row in rows:
            files[row.plan_id][row.name] = str(row.blob_id)
        return files

    async def list_all(self) -> list[tuple[GosdPlan, dict[str, str]]]:
        plans = await self.plans.list_in(self.instance.id)
        files = await self.files_of(plans)
        return [(p, files[p.id]) for p in plans]

    async def get(self, plan_id: int) -> tuple[GosdPlan, dict[str, str]]:
        plan = await self.plans.get_in(self.instance.id, plan_id)
        if plan is None:
            raise not_found(f"No plan {plan_id}")
        return plan, (await self.files_of([plan]))[plan.id]

    async def _checked(self, body: Body) -> PlanInput:
        given = read_plan(body)
        if await NodeRepository(self.session).get_in(self.instance.id, given.node_id) is None:
            raise not_found(f"No node {given.node_id}")
        wanted = sorted({int(v) for v in given.files.values()})
        missing = sorted(set(wanted) - await BlobRepository(self.session).existing(self.instance.id, wanted))
        if missing:
            raise not_found(f"No blob {', '.join(str(m) for m in missing)}")
        if body.files:
            uploaded = await BlobService(self.session, self.runtime, self.instance).create_many(body.files)
            given.files.update({field: str(blob.id) for field, blob in uploaded.items()})
        return given

    async def _set_files(self, plan: GosdPlan, files: dict[str, str]) -> None:
        await self.plan_files.delete_of_plan(self.instance.id, plan.id)
        for name, blob_id in files.items():
            self.session.add(
                GosdPlanFile(instance_id=self.instance.id, plan_id=plan.id, name=name, blob_id=int(blob_id))
            )
        await self.session.flush()

    async def create(self, body: Body) -> tuple[GosdPlan, dict[str, str]]:
        given = await self._checked(body)
        now = self.runtime.clock.now()
        plan = GosdPlan(
            instance_id=self.instance.id,
            node_id=given.node_id,
            name=given.name,
            description=given.description,
            extra=given.extra,
            created_at=now,
            updated_at=now,
        )
        await self.plans.create(plan)
        await self._set_files(plan, given.files)
        return plan, given.files

    async def replace(self, plan_id: int, body: Body) -> tuple[GosdPlan, dict[str, str]]:
        plan, _ = await self.get(plan_id)
        given = await self._checked(body)
        plan.name, plan.description, plan.node_id = given.name, given.description, given.node_id
        plan.extra = given.extra
        plan.updated_at = self.runtime.clock.now()
        await self._set_files(plan, given.files)
        return plan, given.files

    async def delete(self, plan_id: int) -> tuple[GosdPlan, dict[str, str]]:
        plan, files = await self.get(plan_id)
        await self.plan_files.delete_of_plan(self.instance.id, plan.id)
        await self.plans.delete(plan)
        return plan, files
