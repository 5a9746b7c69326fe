from __future__ import annotations

from fastapi import APIRouter, status

from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.core.tenant.schemas import TenantCreate, TenantCreated, TenantOut
from mediaplane.core.tenant.service import tenant_service
from mediaplane.core.token.auth import CurrentAdmin

router = APIRouter(tags=["tenants"])


@router.get("/tenants", response_model=list[TenantOut], summary="All tenants (admin tenant only)")
async def list_tenants(admin: CurrentAdmin, session: SessionDep) -> list[TenantOut]:
    return [TenantOut.model_validate(t) for t in await tenant_service.list(session)]


@router.post(
    "/tenants",
    response_model=TenantCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Create a tenant and its first PAT (admin tenant only)",
)
async def create_tenant(
    body: TenantCreate, admin: CurrentAdmin, session: SessionDep, runtime: RuntimeDep
) -> TenantCreated:
    created = await tenant_service.create(session, runtime, body.name, username=body.username, password=body.password)
    return TenantCreated(
        id=created.tenant.id,
        title=created.tenant.title,
        created_at=created.tenant.created_at,
        username=created.user.username,
        token=created.token,
    )
