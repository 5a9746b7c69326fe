"""Who is calling: a PAT (`x-pat-jwt` or `Authorization`) for the platform, a SAT for a service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader
from starlette.requests import HTTPConnection

from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.core.tenant.service import ADMIN_TENANT
from mediaplane.core.token.service import Principal, bearer_value, token_service
from mediaplane.kit.errors import Forbidden, Unauthorized

# Declared for the OpenAPI document (and Swagger's Authorize button); read by hand below.
pat_header = APIKeyHeader(name="x-pat-jwt", auto_error=False, description="Bearer <personal access token>")
sat_header = APIKeyHeader(name="x-jwt", auto_error=False, description="Bearer <service access token>")


def _pat_from(request: Request, header: str | None) -> str | None:
    if header is not None:
        token = bearer_value(header)
        if token is None:
            raise Unauthorized("x-pat-jwt must be 'Bearer <personal access token>'")
        return token
    return bearer_value(request.headers.get("authorization"))


async def current_principal(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    header: Annotated[str | None, Depends(pat_header)] = None,
) -> Principal:
    return await token_service.authenticate_pat(session, runtime, _pat_from(request, header))


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def current_admin(principal: CurrentPrincipal) -> Principal:
    if principal.tenant_id != ADMIN_TENANT:
        raise Forbidden("Only the admin tenant may do this")
    return principal


CurrentAdmin = Annotated[Principal, Depends(current_admin)]


def sat_from_request(request: HTTPConnection, service_id: str) -> str | None:
    """The SAT as OSC clients send it: `x-jwt`, `Authorization: Bearer` or cookie `<serviceId>.sat`."""
    for name in ("x-jwt", "authorization"):
        value = request.headers.get(name)
        if value is not None:
            token = bearer_value(value)
            if token is None:
                raise Unauthorized(f"{name} must be 'Bearer <service access token>'")
            return token
    return request.cookies.get(f"{service_id}.sat")


async def authenticate_service(request: HTTPConnection, service_id: str) -> Principal:
    from mediaplane.core.deps import get_runtime

    runtime = get_runtime(request)
    async with runtime.db.session() as session:
        return await token_service.authenticate_sat(session, runtime, sat_from_request(request, service_id), service_id)
