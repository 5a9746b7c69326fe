from __future__ import annotations

from fastapi import APIRouter, status

from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.core.token.auth import CurrentPrincipal
from mediaplane.core.token.schemas import Me, Pat, PatCreate, PatCreated, ServiceToken, ServiceTokenRequest
from mediaplane.core.token.service import token_service
from mediaplane.kit.errors import NotFound

router = APIRouter(tags=["tokens"])


@router.post("/servicetoken", response_model=ServiceToken, summary="Trade a PAT for a service access token")
async def create_service_token(
    body: ServiceTokenRequest, principal: CurrentPrincipal, runtime: RuntimeDep
) -> ServiceToken:
    if body.serviceId not in runtime.registry:
        raise NotFound(f"Unknown service: {body.serviceId}")
    sat = token_service.issue_sat(runtime, principal, body.serviceId)
    return ServiceToken(serviceId=sat.service_id, token=sat.token, expiry=sat.expiry)


@router.get("/me", response_model=Me, summary="Who the PAT belongs to")
async def me(principal: CurrentPrincipal) -> Me:
    return Me(tenantId=principal.tenant_id, userId=principal.user_id, patId=principal.pat_id)


@router.get("/pats", response_model=list[Pat], summary="The tenant's personal access tokens")
async def list_pats(principal: CurrentPrincipal, session: SessionDep) -> list[Pat]:
    rows = await token_service.list_pats(session, principal.tenant_id)
    return [Pat.model_validate(row) for row in rows]


@router.post("/pats", response_model=PatCreated, status_code=status.HTTP_201_CREATED, summary="Create a PAT")
async def create_pat(
    body: PatCreate, principal: CurrentPrincipal, session: SessionDep, runtime: RuntimeDep
) -> PatCreated:
    row, token = await token_service.create_pat(
        session, runtime, tenant_id=principal.tenant_id, user_id=principal.user_id, name=body.name
    )
    return PatCreated(**Pat.model_validate(row).model_dump(), token=token)


@router.delete("/pats/{pat_id}", response_model=Pat, summary="Revoke a PAT")
async def revoke_pat(pat_id: str, principal: CurrentPrincipal, session: SessionDep, runtime: RuntimeDep) -> Pat:
    row = await token_service.revoke_pat(session, runtime, tenant_id=principal.tenant_id, pat_id=pat_id)
    return Pat.model_validate(row)
