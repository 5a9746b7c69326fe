"""`/api/v2/plans`: create, list, read (an addition), replace and delete (which returns the plan)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.services.gosd import schemas
from mediaplane.services.gosd.deps import GosdInstance, current_user
from mediaplane.services.gosd.inputs import request_body
from mediaplane.services.gosd.plans import PlanService
from mediaplane.services.gosd.routes import PREFIX

router = APIRouter(prefix=f"{PREFIX}/api/v2/plans", tags=["plans"], dependencies=[Depends(current_user)])
PlanId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def plan_service(instance: GosdInstance, session: SessionDep, runtime: RuntimeDep) -> PlanService:
    return PlanService(session, runtime, instance)


Plans = Annotated[PlanService, Depends(plan_service)]


@router.post("", status_code=201, summary="Create a plan (JSON, or a form whose file parts become blobs)")
async def create_plan(request: Request, plans: Plans) -> dict[str, Any]:
    async with request_body(request) as body:
        return schemas.plan(*await plans.create(body))


@router.get("", summary="Every plan, by id")
async def list_plans(plans: Plans) -> list[dict[str, Any]]:
    return [schemas.plan(p, files) for p, files in await plans.list_all()]


@router.get("/{plan_id}", summary="One plan")
async def get_plan(plan_id: PlanId, plans: Plans) -> dict[str, Any]:
    return schemas.plan(*await plans.get(plan_id))


@router.put("/{plan_id}", summary="Replace a plan")
async def replace_plan(plan_id: PlanId, request: Request, plans: Plans) -> dict[str, Any]:
    async with request_body(request) as body:
        return schemas.plan(*await plans.replace(plan_id, body))


@router.delete("/{plan_id}", summary="Delete a plan; answers the deleted plan")
async def delete_plan(plan_id: PlanId, plans: Plans) -> dict[str, Any]:
    return schemas.plan(*await plans.delete(plan_id))
