"""The admin tenant's pages: every tenant and a form to create one; the server's version, settings and routes.

Other tenants get "not found" here (AdminDep), as the API answers them 403 on the same operations (CurrentAdmin).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from mediaplane.console.auth import SignedIn
from mediaplane.console.deps import AdminDep, TemplatesDep, platform_app, read_form, text
from mediaplane.console.render import Templates
from mediaplane.console.users import username_error
from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.core.tenant.passwords import generate_password
from mediaplane.core.tenant.service import MAX_TENANT_ID, tenant_service
from mediaplane.kit.errors import BadRequest, Conflict
from mediaplane.server_info import INSTANCE_ROUTES, masked_settings, platform_routes

router = APIRouter(prefix="/admin")


async def _tenants_page(
    request: Request,
    templates: Templates,
    session: AsyncSession,
    signed: SignedIn,
    *,
    status_code: int = 200,
    tenant_id: str = "",
    username: str = "admin",
    errors: dict[str, str] | None = None,
) -> Response:
    return templates.render(
        request,
        "tenants.html",
        status_code=status_code,
        signed=signed,
        nav="tenants",
        title="Tenants",
        tenants=await tenant_service.list(session),
        tenant_id=tenant_id,
        username=username,
        errors=errors or {},
    )


@router.get("/tenants")
async def tenants(request: Request, signed: AdminDep, session: SessionDep, templates: TemplatesDep) -> Response:
    return await _tenants_page(request, templates, session, signed)


@router.post("/tenants")
async def create_tenant(
    request: Request, signed: AdminDep, session: SessionDep, runtime: RuntimeDep, templates: TemplatesDep
) -> Response:
    """As `mediaplane tenants create` does: the tenant, its first user with a generated password, and a PAT."""
    form = await read_form(request)
    tenant_id, username = text(form, "tenant").strip(), text(form, "username").strip()
    errors: dict[str, str] = {}
    try:
        tenant_service.validate_id(tenant_id)
    except BadRequest:
        errors["tenant"] = (
            f"Use lowercase letters and digits only (at most {MAX_TENANT_ID})." if tenant_id else "Enter a tenant id."
        )
    if error := username_error(username):
        errors["username"] = error
    if not errors:
        password = generate_password()
        try:
            created = await tenant_service.create(session, runtime, tenant_id, username=username, password=password)
        except Conflict:
            errors["tenant"] = f"There is already a tenant {tenant_id}."
        else:
            once = [
                ("password", f"Console password of {created.user.username}", password),
                ("token", "Personal access token", created.token),
            ]
            return templates.render(
                request,
                "tenant_created.html",
                signed=signed,
                nav="tenants",
                title=f"Tenant {created.tenant.id} created",
                tenant=created.tenant,
                username=created.user.username,
                once=once,
            )
    return await _tenants_page(
        request,
        templates,
        session,
        signed,
        status_code=400,
        tenant_id=tenant_id[:MAX_TENANT_ID],
        username=username[:100],
        errors=errors,
    )


def _shown(value: Any) -> str:
    if value is None:
        return "(not set)"
    if value == "":
        return "(empty)"
    return value if isinstance(value, str) else json.dumps(value)


@router.get("/system")
async def system(request: Request, signed: AdminDep, runtime: RuntimeDep, templates: TemplatesDep) -> Response:
    platform = platform_app(request)
    return templates.render(
        request,
        "system.html",
        signed=signed,
        nav="system",
        title="System",
        services=[spec.id for spec in runtime.registry],
        settings=[(key, _shown(value)) for key, value in sorted(masked_settings(runtime.settings).items())],
        routes=platform_routes(platform) if platform is not None else [],
        instance_routes=INSTANCE_ROUTES,
    )
